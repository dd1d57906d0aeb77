// The UI's two languages. Hebrew is the default and the source of the message keys;
// English must have every key (the compiler checks it: `en` is typed by `he`'s
// keys). A message is a string with `{name}` placeholders, or plural forms chosen
// by `count` with the language's own rules (Hebrew has a dual: "two days").
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { he, type MessageKey } from './he';
import { en } from './en';
import * as fmt from '../lib/format';
import type { Lang } from '../lib/format';

export type { Lang, MessageKey };
export type Plural = { one: string; two?: string; many?: string; other: string };
export type Message = string | Plural;
export type Vars = Record<string, string | number>;

const dictionaries: Record<Lang, Record<MessageKey, Message>> = { he, en };
const STORAGE_KEY = 'shofar.lang';

export function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(he, key);
}

/** A message in a language, without React (tests, and code outside components). */
export function translate(lang: Lang, key: MessageKey, vars?: Vars): string {
  const message = dictionaries[lang][key] ?? dictionaries.he[key] ?? key;
  let text: string;
  if (typeof message === 'string') {
    text = message;
  } else {
    const count = Number(vars?.count ?? 0);
    const rule = new Intl.PluralRules(fmt.intlLocale(lang)).select(count) as keyof Plural;
    text = message[rule] ?? message.other;
  }
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) return whole;
    // A name someone typed keeps its own direction inside the sentence
    // (U+2068 FIRST STRONG ISOLATE … U+2069 POP DIRECTIONAL ISOLATE).
    return typeof value === 'number' ? fmt.formatNumber(lang, value, 2) : `\u2068${value}\u2069`;
  });
}

export interface I18n {
  lang: Lang;
  dir: 'rtl' | 'ltr';
  setLang: (lang: Lang) => void;
  t: (key: MessageKey, vars?: Vars) => string;
  /** A code from the API (`outcome.busy`), or the code itself when it is new to this UI. */
  code: (prefix: string, code: string | null | undefined) => string;
  num: (value: number | null | undefined, digits?: number) => string;
  pct: (share: number | null | undefined, digits?: number) => string;
  dateTime: (value: string | Date | null | undefined, seconds?: boolean) => string;
  date: (value: string | Date | null | undefined) => string;
  time: (value: string | Date | null | undefined, seconds?: boolean) => string;
  weekday: (value: string | Date) => string;
}

export function makeI18n(lang: Lang, setLang: (lang: Lang) => void = () => {}): I18n {
  return {
    lang,
    dir: lang === 'he' ? 'rtl' : 'ltr',
    setLang,
    t: (key, vars) => translate(lang, key, vars),
    code: (prefix, code) => {
      if (!code) return '—';
      const key = `${prefix}.${code}`;
      return isMessageKey(key) ? translate(lang, key) : code;
    },
    num: (value, digits) => fmt.formatNumber(lang, value, digits),
    pct: (share, digits) => fmt.formatPercent(lang, share, digits),
    dateTime: (value, seconds) => fmt.formatDateTime(lang, value, seconds),
    date: (value) => fmt.formatDate(lang, value),
    time: (value, seconds) => fmt.formatTime(lang, value, seconds),
    weekday: (value) => fmt.formatWeekday(lang, value),
  };
}

const I18nContext = createContext<I18n>(makeI18n('he'));

/** Whether this browser remembers a language the person chose. */
export function hasStoredLang(): boolean {
  try {
    return localStorage.getItem(STORAGE_KEY) !== null;
  } catch {
    return false;
  }
}

export function initialLang(): Lang {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored === 'he' || stored === 'en') return stored;
  } catch {
    // Storage may be off; Hebrew it is.
  }
  return 'he';
}

export function I18nProvider({ children, lang: fixed }: { children: ReactNode; lang?: Lang }) {
  const [lang, setLangState] = useState<Lang>(fixed ?? initialLang());
  const setLang = useCallback((next: Lang) => {
    setLangState(next);
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Not remembered; the session's preference still is.
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.documentElement.dir = lang === 'he' ? 'rtl' : 'ltr';
    document.title = translate(lang, 'app.name');
  }, [lang]);
  const value = useMemo(() => makeI18n(lang, setLang), [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  return useContext(I18nContext);
}

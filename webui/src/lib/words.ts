// Words a clerk understands for what the box records in its own terms: a call's
// Q.850 hangup cause and answering-machine verdict, who did something ("web:noa"),
// an audit entry's details. The codes themselves stay available, second, as
// technical details.
import type { MessageKey } from '../i18n';

type T = (key: MessageKey, vars?: Record<string, string | number>) => string;

/**
 * Every Q.850 cause the box names (shofar_telephony::outcome::cause_text and the
 * causes it classifies by); each has a sentence in both languages.
 */
export const HANGUP_CAUSES = [0, 1, 3, 16, 17, 18, 19, 20, 21, 27, 28, 34, 38, 41, 42, 44, 47] as const;

/** What answering-machine detection can conclude (Asterisk's AMD). */
export const AMD_RESULTS = ['HUMAN', 'MACHINE', 'NOTSURE', 'HANGUP'] as const;

/** A hangup cause in words ("the call ended normally"); null without a cause. */
export function causeWords(t: T, cause: number | null | undefined): string | null {
  if (cause === null || cause === undefined) return null;
  const key = `cause.${cause}` as MessageKey;
  const text = t(key);
  return text === key ? t('cause.other', { code: cause }) : text;
}

/** An AMD verdict in words ("a person answered"); null when AMD did not run. */
export function amdWords(t: T, result: string | null | undefined): string | null {
  if (!result) return null;
  const key = `amdResult.${result.toUpperCase()}` as MessageKey;
  const text = t(key);
  return text === key ? result : text;
}

/** Who did it: `web:noa` → noa (through the web UI), `api:noa/ci` → noa (API key "ci"), `cli:root` → root. */
export function actorOf(actor: string | null | undefined): { name: string; via: 'web' | 'api' | 'cli' | null; token?: string } {
  if (!actor) return { name: '', via: null };
  const match = /^(web|api|cli):(.*)$/.exec(actor);
  if (!match) return { name: actor, via: null };
  const via = match[1] as 'web' | 'api' | 'cli';
  if (via === 'api') {
    const [name, ...token] = match[2].split('/');
    return { name, via, token: token.join('/') || undefined };
  }
  return { name: match[2], via };
}

/** An audit action in words (`campaign.start` → "Campaign started"), or the code when it is new to this UI. */
export function auditActionWords(t: T, action: string): string {
  const key = `audit.action.${action}` as MessageKey;
  const text = t(key);
  return text === key ? action : text;
}

export interface AuditLine {
  /** The field's label in the chosen language (or its name when it is new to this UI). */
  label: string;
  value: string;
  /** The label is a code, not a word: shown left to right. */
  raw: boolean;
}

/** A nested object with more fields than this is shown as one line (see the technical details). */
const MAX_NESTED = 6;

/** Field values that are themselves codes with words: a role, a purpose, a campaign's state. */
const VALUE_PREFIX: Record<string, string> = { role: 'role', purpose: 'purpose', type: 'type', from: 'status', to: 'status' };

/**
 * An audit entry's details as lines of "label: value" in the chosen language:
 * nested objects become "parent · child", lists are joined, yes/no in words.
 */
export function auditLines(t: T, details: unknown, num: (value: number) => string = String): AuditLine[] {
  const lines: AuditLine[] = [];
  const labelOf = (key: string): { label: string; raw: boolean } => {
    const messageKey = `audit.field.${key}` as MessageKey;
    const text = t(messageKey);
    return text === messageKey ? { label: key.replace(/_/g, ' '), raw: true } : { label: text, raw: false };
  };
  const valueOf = (key: string, value: unknown): string => {
    if (value === null || value === undefined) return '—';
    if (typeof value === 'boolean') return t(value ? 'words.yes' : 'words.no');
    if (typeof value === 'number') return num(value);
    if (Array.isArray(value)) return value.map((item) => valueOf(key, item)).join(', ') || '—';
    if (typeof value === 'string') {
      const prefix = VALUE_PREFIX[key];
      if (prefix) {
        const messageKey = `${prefix}.${value}` as MessageKey;
        const text = t(messageKey);
        if (text !== messageKey) return text;
      }
      return value;
    }
    return JSON.stringify(value);
  };
  const isObject = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);
  const walk = (value: unknown, path: { label: string; raw: boolean }[], key: string) => {
    if (isObject(value)) {
      const entries = Object.entries(value);
      // A whole document (a campaign's settings) is one line: its fields are in
      // the technical details, not a screenful of codes.
      if (path.length > 0 && (entries.length > MAX_NESTED || entries.some(([, inner]) => isObject(inner) || (Array.isArray(inner) && inner.some(isObject))))) {
        lines.push({ label: path.map((p) => p.label).join(' · '), value: t('words.seeTechnical'), raw: path.some((p) => p.raw) });
        return;
      }
      for (const [child, inner] of entries) walk(inner, [...path, labelOf(child)], child);
      return;
    }
    if (Array.isArray(value) && value.some(isObject)) {
      lines.push({ label: path.map((p) => p.label).join(' · ') || t('audit.field.value'), value: t('words.seeTechnical'), raw: path.some((p) => p.raw) });
      return;
    }
    if (path.length === 0) {
      lines.push({ label: t('audit.field.value'), value: valueOf(key, value), raw: false });
      return;
    }
    lines.push({ label: path.map((p) => p.label).join(' · '), value: valueOf(key, value), raw: path.some((p) => p.raw) });
  };
  if (details === null || details === undefined) return lines;
  walk(details, [], '');
  return lines;
}

/**
 * The sentence said when a recording is saved: the campaign's message by that
 * description, any other recording by its label (never an internal name such as
 * `campaign` inside a Hebrew sentence).
 */
export function savedRecordingMessage(t: T, name: string): string {
  if (name === 'campaign') return t('audio.savedCampaign');
  const key = `flow.promptLabel.${name}` as MessageKey;
  const label = t(key);
  return t('audio.saved', { name: label === key ? name : label });
}

import { describe, expect, it } from 'vitest';
import { en } from '../src/i18n/en';
import { he } from '../src/i18n/he';
import { makeI18n, translate, type Message } from '../src/i18n';
import { CALL_KIND, CALL_STATUS, ENDED_BY, OUTCOME_FILTER, SYNC_STATE } from '../src/api/enums';
import { UPDATE_STATES } from '../src/api/types';

const placeholders = (message: Message) =>
  [...new Set((typeof message === 'string' ? [message] : Object.values(message)).flatMap((text) => [...(text ?? '').matchAll(/\{(\w+)\}/g)].map((m) => m[1])))].sort();

describe('the dictionaries', () => {
  it('have the same keys in Hebrew and English', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(he).sort());
  });

  it('have no empty message', () => {
    for (const [key, message] of [...Object.entries(he), ...Object.entries(en)]) {
      const texts = typeof message === 'string' ? [message] : Object.values(message as object);
      for (const text of texts) expect(String(text).trim(), key).not.toBe('');
    }
  });

  it('use the same placeholders in both languages', () => {
    for (const key of Object.keys(he) as (keyof typeof he)[]) {
      expect(placeholders(en[key]), key).toEqual(placeholders(he[key]));
    }
  });

  it('give plurals a one and an other form', () => {
    for (const [key, message] of [...Object.entries(he), ...Object.entries(en)]) {
      if (typeof message === 'string') continue;
      expect(message, key).toHaveProperty('one');
      expect(message, key).toHaveProperty('other');
    }
  });

  it('word every value of the call vocabulary the API document lists, in both languages', () => {
    const keys = [
      ...OUTCOME_FILTER.map((value) => `outcome.${value}`),
      ...CALL_STATUS.map((value) => `callStatus.${value}`),
      ...CALL_KIND.map((value) => `callKind.${value}`),
      ...ENDED_BY.map((value) => `endedBy.${value}`),
    ];
    expect(keys.length).toBeGreaterThan(20);
    for (const key of keys) {
      expect(he, key).toHaveProperty([key]);
      expect(en, key).toHaveProperty([key]);
    }
  });

  it('word every state of the fleet sync the API document lists, and its alerts, in both languages', () => {
    const keys = [...SYNC_STATE.map((state) => `sync.state.${state}`), 'alert.sync_not_running', 'alert.sync_offline', 'alert.sync_backlog'];
    for (const key of keys) {
      expect(he, key).toHaveProperty([key]);
      expect(en, key).toHaveProperty([key]);
    }
  });

  it('word every state of the update installer, in both languages', () => {
    for (const key of UPDATE_STATES.map((state) => `updates.state.${state}`)) {
      expect(he, key).toHaveProperty([key]);
      expect(en, key).toHaveProperty([key]);
    }
  });

  it('have Hebrew text in Hebrew messages (nothing left in English by mistake)', () => {
    const allowedLatin = new Set(['lang.other', 'lang.switchTo', 'backend.asterisk', 'lineType.voip', 'reports.exportPdf', 'reports.exportCsv', 'flow.promptPlaceholder']);
    for (const [key, message] of Object.entries(he)) {
      if (allowedLatin.has(key) || key.startsWith('flow.defaultName.')) continue;
      const text = typeof message === 'string' ? message : Object.values(message).join(' ');
      expect(/[\u0590-\u05FF]/.test(text), key).toBe(true);
    }
  });
});

describe('translate', () => {
  it('fills placeholders, keeping names isolated for bidi', () => {
    expect(translate('he', 'audio.saved', { name: 'thanks' })).toBe('ההקלטה \u2068thanks\u2069 נשמרה.');
    expect(translate('en', 'common.pageOf', { page: 2, pages: 13 })).toBe('Page 2 of 13');
  });

  it('chooses Hebrew plural forms, the dual included', () => {
    expect(translate('he', 'common.rows', { count: 1 })).toBe('שורה אחת');
    expect(translate('he', 'common.rows', { count: 2 })).toBe('שתי שורות');
    expect(translate('he', 'common.rows', { count: 1234 })).toBe('1,234 שורות');
    expect(translate('en', 'common.rows', { count: 2 })).toBe('2 rows');
  });

  it('words API codes, and shows a code it does not know as is', () => {
    const i18n = makeI18n('he');
    expect(i18n.code('outcome', 'no_answer')).toBe('אין מענה');
    expect(i18n.code('outcome', 'a_new_outcome')).toBe('a_new_outcome');
    expect(i18n.code('outcome', null)).toBe('—');
  });
});

// Words a clerk understands: one Hebrew word for an answering machine everywhere,
// every hangup cause and AMD verdict the box can record in words, creators by
// name, audit details as readable lines.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { en } from '../src/i18n/en';
import { he } from '../src/i18n/he';
import { translate, type MessageKey } from '../src/i18n';
import { AMD_RESULTS, HANGUP_CAUSES, actorOf, amdWords, auditActionWords, auditLines, causeWords, savedRecordingMessage } from '../src/lib/words';

const REPO = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(REPO, path), 'utf8');
const th = (key: MessageKey, vars?: Record<string, string | number>) => translate('he', key, vars);
const te = (key: MessageKey, vars?: Record<string, string | number>) => translate('en', key, vars);
const texts = (dictionary: Record<string, unknown>) => Object.values(dictionary).flatMap((m) => (typeof m === 'string' ? [m] : Object.values(m as object).map(String)));

describe('one word for an answering machine', () => {
  it('is "משיבון" in every Hebrew string of the UI and of the PDF report, never "תא קולי"', () => {
    for (const text of texts(he)) expect(text).not.toContain('תא קולי');
    expect(he['outcome.voicemail']).toBe('משיבון');
    expect(he['amdResult.MACHINE']).toBe('משיבון');
    // The PDF report's own Hebrew labels say it the same way.
    const reportDir = join(REPO, 'appliance', 'report', 'src');
    for (const file of readdirSync(reportDir).filter((f) => f.endsWith('.rs'))) expect(readFileSync(join(reportDir, file), 'utf8'), file).not.toContain('תא קולי');
    expect(read('appliance/report/src/labels.rs')).toContain('("משיבון", "Voicemail")');
  });
});

describe('how a call ended, in words', () => {
  it('words every cause the box names, classifies by or simulates, in both languages', () => {
    const outcome = read('appliance/telephony/src/outcome.rs');
    const named = [...outcome.slice(outcome.indexOf('pub fn cause_text')).matchAll(/^\s+(\d+) =>/gm)].map((m) => Number(m[1]));
    const classified = [...outcome.slice(outcome.indexOf('pub fn classify'), outcome.indexOf('pub fn cause_text')).matchAll(/Some\(([\d |]+)\)/g)].flatMap((m) => m[1].split('|').map((n) => Number(n.trim())));
    const simulated = [...read('appliance/telephony/src/backend/sim.rs').matchAll(/destroyed\((\d+),/g)].map((m) => Number(m[1]));
    const codes = [...new Set([...named, ...classified, ...simulated])];
    expect(codes.length).toBeGreaterThan(12);
    expect(codes).toContain(16);
    for (const code of codes) {
      expect(HANGUP_CAUSES, `cause ${code}`).toContain(code);
      expect(he, `cause ${code}`).toHaveProperty([`cause.${code}`]);
      expect(en, `cause ${code}`).toHaveProperty([`cause.${code}`]);
    }
    for (const code of HANGUP_CAUSES) expect(causeWords(th, code)).not.toMatch(/[A-Za-z]/);
  });

  it('says "the call ended normally" for cause 16, busy for 17, no answer for 19, and names a cause it does not know by its code', () => {
    expect(causeWords(th, 16)).toBe('השיחה הסתיימה כרגיל');
    expect(causeWords(te, 16)).toBe('The call ended normally');
    expect(causeWords(th, 17)).toBe('הקו תפוס');
    expect(causeWords(th, 19)).toBe('אין מענה');
    expect(causeWords(te, 99)).toContain('99');
    expect(causeWords(te, null)).toBeNull();
  });

  it('words every AMD verdict the session can record', () => {
    const documented = /`HUMAN`, `MACHINE`, `NOTSURE` or `HANGUP`/.test(read('appliance/telephony/src/outcome.rs'));
    expect(documented).toBe(true);
    for (const verdict of AMD_RESULTS) {
      expect(he).toHaveProperty([`amdResult.${verdict}`]);
      expect(en).toHaveProperty([`amdResult.${verdict}`]);
    }
    expect(amdWords(th, 'HUMAN')).toBe('ענה אדם');
    expect(amdWords(te, 'HUMAN')).toBe('A person answered');
    expect(amdWords(te, 'MACHINE')).toBe('Answering machine');
    expect(amdWords(th, null)).toBeNull();
  });
});

describe('who did it', () => {
  it('is the user, without the channel they used', () => {
    expect(actorOf('web:noa')).toEqual({ name: 'noa', via: 'web' });
    expect(actorOf('api:noa/nightly-export')).toEqual({ name: 'noa', via: 'api', token: 'nightly-export' });
    expect(actorOf('cli:root')).toEqual({ name: 'root', via: 'cli' });
    expect(actorOf('web:נועה')).toEqual({ name: 'נועה', via: 'web' });
    expect(actorOf('scheduler')).toEqual({ name: 'scheduler', via: null });
  });
});

describe('the audit log in words', () => {
  it('words every action the box audits, in both languages', () => {
    const store = join(REPO, 'appliance', 'store', 'src');
    const actions = new Set<string>();
    for (const file of readdirSync(store).filter((f) => f.endsWith('.rs'))) {
      const source = readFileSync(join(store, file), 'utf8');
      for (const m of source.matchAll(/audit::record\(\s*[^,]+,\s*[^,]+,\s*"([a-z_]+\.[a-z_]+)"/g)) actions.add(m[1]);
    }
    for (const m of read('appliance/web/src/routes/updates.rs').matchAll(/record_audit\([^,]+,\s*"([a-z_]+\.[a-z_]+)"/g)) actions.add(m[1]);
    const lifecycle = read('appliance/campaign/src/lifecycle.rs');
    const events = lifecycle.slice(lifecycle.indexOf('Event::Start => "start"'));
    for (const m of events.slice(0, events.indexOf('}')).matchAll(/=> "([a-z_]+)"/g)) actions.add(`campaign.${m[1]}`);
    expect(actions.size).toBeGreaterThan(20);
    for (const action of actions) {
      expect(he, action).toHaveProperty([`audit.action.${action}`]);
      expect(en, action).toHaveProperty([`audit.action.${action}`]);
    }
    expect(auditActionWords(th, 'campaign.start')).toBe('קמפיין הופעל');
    expect(auditActionWords(th, 'new.thing')).toBe('new.thing');
  });

  it('shows details as label and value lines, codes in words, never raw JSON', () => {
    const lines = auditLines(th, { name: 'חורף', role: 'manager', purpose: 'donation', from: 'draft', to: 'active', outcome: { added: 2, already_listed: 1 }, disabled: true });
    const text = lines.map((l) => `${l.label}: ${l.value}`);
    expect(text).toEqual([
      'שם: חורף',
      'תפקיד: מנהל קמפיינים',
      'מטרה: תרומות',
      'ממצב: טיוטה',
      'למצב: פעיל',
      'תוצאה · נוספו: 2',
      'תוצאה · כבר היו ברשימה: 1',
      'מושבת: כן',
    ]);
    for (const line of text) expect(line).not.toMatch(/[{}"]/);
    expect(lines.every((l) => !l.raw)).toBe(true);
    // A field new to this UI keeps its name, marked as a code.
    expect(auditLines(te, { brand_new: 'x' })).toEqual([{ label: 'brand new', value: 'x', raw: true }]);
    expect(auditLines(te, {})).toEqual([]);
    // A whole document (a campaign's settings) is one line; its fields are in the technical details.
    const settings = { cps: 1, max_channels: 30, schedule: { windows: [{ days: [0, 1], from: '09:00', to: '20:00' }] }, retry: { max_attempts: 3 } };
    expect(auditLines(th, { name: 'חורף', settings }).map((l) => `${l.label}: ${l.value}`)).toEqual(['שם: חורף', 'הגדרות: ראו בפרטים הטכניים']);
  });
});

describe('saying a recording is saved', () => {
  it('names the campaign message as such and any other recording by its name, never the internal "campaign"', () => {
    const strip = (text: string) => text.replace(/[\u2068\u2069]/g, '');
    expect(savedRecordingMessage(th, 'campaign')).toBe('הודעת הקמפיין נשמרה.');
    expect(savedRecordingMessage(th, 'campaign')).not.toMatch(/[A-Za-z]/);
    expect(savedRecordingMessage(te, 'campaign')).toBe("The campaign's message is saved.");
    expect(strip(savedRecordingMessage(th, 'no-input'))).toBe('ההקלטה לא הוקש דבר נשמרה.');
    expect(strip(savedRecordingMessage(th, 'תודה רבה'))).toBe('ההקלטה תודה רבה נשמרה.');
  });
});

import { describe, expect, it } from 'vitest';
import { addDays, formatDate, formatDateTime, formatDuration, formatNumber, formatPercent, formatPhone, formatTime, israelDay, israelMinutes } from '../src/lib/format';

describe('formatPhone', () => {
  const check = (e164: string, shown: string) => expect(formatPhone(e164)).toBe(shown);
  it('writes Israeli numbers the Israeli way', () => {
    check('+972525551234', '052-5551234');
    check('+97236123456', '03-6123456');
    check('+97226234567', '02-6234567');
    check('+972774123456', '077-4123456');
    check('+9721800123456', '1-800-123-456');
  });
  it('leaves other countries in E.164, and nothing as nothing', () => {
    check('+14155550100', '+14155550100');
    expect(formatPhone(null)).toBe('');
  });
});

describe('dates, in Israel, the Israeli way', () => {
  // 2026-12-02 22:30 UTC is 00:30 on 3 December in Israel (winter, UTC+2).
  const late = '2026-12-02T22:30:00Z';
  it('puts the day first, in the box zone whatever the browser zone', () => {
    expect(formatDateTime('he', late)).toBe('03.12.2026 00:30');
    expect(formatDateTime('en', late)).toBe('03/12/2026 00:30');
    expect(formatDate('he', late)).toBe('03.12.2026');
    expect(formatTime('en', late, true)).toBe('00:30:00');
  });
  it('reads a bare date as that day', () => {
    expect(formatDate('he', '2026-12-25')).toBe('25.12.2026');
  });
  it('knows the Israeli day and minute of an instant', () => {
    expect(israelDay(new Date(late))).toBe('2026-12-03');
    expect(israelMinutes(late)).toBe(30);
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });
  it('summer time is UTC+3', () => {
    expect(formatTime('he', '2026-07-01T06:00:00Z')).toBe('09:00');
  });
});

describe('numbers', () => {
  it('formats counts, shares and durations', () => {
    expect(formatNumber('he', 1234567)).toBe('1,234,567');
    expect(formatPercent('en', 0.4567)).toBe('45.7%');
    expect(formatPercent('he', null)).toBe('—');
    expect(formatDuration(65_000)).toBe('1:05');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
  });
});

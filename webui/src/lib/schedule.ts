// Calling windows and calendar intervals, for the wizard's schedule step and the
// calendar preview. Windows are the campaign file's: per weekday a list of
// "HH:MM-HH:MM" ranges ("24:00" ends a day); an empty list is a closed day.
import { WEEKDAYS, type CampaignSettings, type Weekday } from '../api/types';
import { israelDay, israelMinutes } from './format';

export type Windows = Record<Weekday, string[]>;

export const STANDARD_WINDOWS: Windows = {
  sunday: ['09:00-20:00'],
  monday: ['09:00-20:00'],
  tuesday: ['09:00-20:00'],
  wednesday: ['09:00-20:00'],
  thursday: ['09:00-20:00'],
  friday: ['09:00-13:00'],
  saturday: [],
};

export const ALL_DAY_WINDOWS: Windows = Object.fromEntries(WEEKDAYS.map((d) => [d, ['00:00-24:00']])) as Windows;

/** Windows as the API gives them (a string, a list, "closed" or absent) as lists. */
export function normalizeWindows(windows: CampaignSettings['windows'] | undefined): Windows {
  if (!windows) return structuredClone(STANDARD_WINDOWS);
  const result = {} as Windows;
  for (const day of WEEKDAYS) {
    const value = windows[day];
    if (value === undefined || value === 'closed') result[day] = [];
    else if (typeof value === 'string') result[day] = [value];
    else result[day] = value.filter((range) => range !== 'closed');
  }
  return result;
}

const TIME = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;

export function isTime(value: string): boolean {
  return TIME.test(value);
}

export function splitRange(range: string): [string, string] {
  const [from = '', to = ''] = range.split('-');
  return [from.trim(), to.trim()];
}

function minutes(time: string): number {
  const [h, m] = time.split(':').map(Number);
  return h * 60 + m;
}

/** What is wrong with one day's ranges, as message keys with the range concerned. */
export function rangeProblems(ranges: string[]): { index: number; problem: 'time' | 'order' | 'overlap' }[] {
  const problems: { index: number; problem: 'time' | 'order' | 'overlap' }[] = [];
  const parsed = ranges.map(splitRange);
  parsed.forEach(([from, to], index) => {
    if (!isTime(from) || !isTime(to) || from === '24:00') problems.push({ index, problem: 'time' });
    else if (minutes(from) >= minutes(to)) problems.push({ index, problem: 'order' });
  });
  parsed.forEach(([from, to], index) => {
    parsed.forEach(([otherFrom, otherTo], other) => {
      if (other <= index || !isTime(from) || !isTime(to) || !isTime(otherFrom) || !isTime(otherTo)) return;
      if (minutes(from) < minutes(otherTo) && minutes(otherFrom) < minutes(to)) problems.push({ index: other, problem: 'overlap' });
    });
  });
  return problems;
}

/** Open hours in a week. */
export function weeklyHours(windows: Windows): number {
  let total = 0;
  for (const day of WEEKDAYS) {
    for (const range of windows[day]) {
      const [from, to] = splitRange(range);
      if (isTime(from) && isTime(to)) total += Math.max(0, minutes(to) - minutes(from));
    }
  }
  return total / 60;
}

export interface DaySegment {
  /** Minutes from local midnight in Israel, 0 to 1440. */
  from: number;
  to: number;
  kind: 'allowed' | 'blocked';
  reason?: string | null;
}

/** Cuts intervals (which may span days) into per-day segments, keyed by the day in Israel. */
export function segmentsByDay(intervals: { start: string; end: string; reason?: string | null }[], kind: DaySegment['kind']): Map<string, DaySegment[]> {
  const days = new Map<string, DaySegment[]>();
  for (const interval of intervals) {
    let cursor = new Date(interval.start).getTime();
    const end = new Date(interval.end).getTime();
    let guard = 0;
    while (cursor < end && guard++ < 500) {
      const at = new Date(cursor);
      const day = israelDay(at);
      const from = israelMinutes(at);
      const midnight = cursor + (1440 - from) * 60_000 - (at.getUTCSeconds() * 1000 + at.getUTCMilliseconds());
      const stop = Math.min(end, midnight);
      const to = stop === midnight ? 1440 : israelMinutes(new Date(stop)) || 1440;
      if (to > from) days.set(day, [...(days.get(day) ?? []), { from, to, kind, reason: interval.reason }]);
      cursor = stop;
    }
  }
  return days;
}

export const RETRY_CHOICES = ['off', '1m', '5m', '15m', '30m', '1h', '2h', '4h', '1d'] as const;

/** `15m`, `2h`, `1h30m` or `false` → a value for a select. */
export function retryValue(value: string | false | undefined): string {
  if (value === false) return 'off';
  return value ?? 'off';
}

/** Night hours: from 21:00 to 08:00 people rest, and calls then are unwelcome. */
export const NIGHT_STARTS = 21 * 60;
export const NIGHT_ENDS = 8 * 60;
/** Friday from 14:00: the run-up to Shabbat. */
export const FRIDAY_AFTERNOON = 14 * 60;

export type HoursWarningKind = 'night' | 'friday' | 'saturday';
export interface HoursWarning {
  kind: HoursWarningKind;
  /** The days whose windows reach into those hours, in week order. */
  days: Weekday[];
}

/**
 * Where the weekly windows reach into hours people rest: night (21:00–08:00) on
 * any day, Friday after 14:00 (unless Shabbat is kept and calls stop before
 * 14:00 on its eve) and Saturday (unless Shabbat is kept: then only its night
 * after havdalah, which the night warning covers). The wizard shows these on the
 * schedule step and on review; they warn, they do not block.
 */
export function hoursWarnings(windows: Windows, quiet: { shabbat: boolean; erev_from?: string | null }): HoursWarning[] {
  const spans = (day: Weekday) =>
    windows[day]
      .map(splitRange)
      .filter(([from, to]) => isTime(from) && isTime(to) && from !== '24:00' && minutes(from) < minutes(to))
      .map(([from, to]) => [minutes(from), minutes(to)] as const);
  const night = WEEKDAYS.filter((day) => spans(day).some(([from, to]) => from < NIGHT_ENDS || to > NIGHT_STARTS));
  const erev = quiet.erev_from && isTime(quiet.erev_from) ? minutes(quiet.erev_from) : null;
  const fridayClosedEarly = quiet.shabbat && erev !== null && erev <= FRIDAY_AFTERNOON;
  const friday = !fridayClosedEarly && spans('friday').some(([, to]) => to > FRIDAY_AFTERNOON);
  const saturday = !quiet.shabbat && spans('saturday').length > 0;
  const warnings: HoursWarning[] = [];
  if (night.length > 0) warnings.push({ kind: 'night', days: night });
  if (friday) warnings.push({ kind: 'friday', days: ['friday'] });
  if (saturday) warnings.push({ kind: 'saturday', days: ['saturday'] });
  return warnings;
}

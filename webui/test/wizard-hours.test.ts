// Calling hours that reach into people's rest: night, Friday afternoon, Saturday.
import { describe, expect, it } from 'vitest';
import { ALL_DAY_WINDOWS, hoursWarnings, STANDARD_WINDOWS, type Windows } from '../src/lib/schedule';

const closed: Windows = { sunday: [], monday: [], tuesday: [], wednesday: [], thursday: [], friday: [], saturday: [] };
const keep = { shabbat: true, erev_from: '' };
const ignore = { shabbat: false, erev_from: '' };

describe('calling-hours warnings', () => {
  const cases: [string, Windows, { shabbat: boolean; erev_from: string }, ReturnType<typeof hoursWarnings>][] = [
    ['the standard week is quiet', STANDARD_WINDOWS, keep, []],
    ['a closed week is quiet', closed, ignore, []],
    ['08:00 to 21:00 exactly is not night', { ...closed, sunday: ['08:00-21:00'] }, keep, []],
    ['ending at 21:30 reaches the night', { ...closed, monday: ['09:00-12:00', '17:00-21:30'] }, keep, [{ kind: 'night', days: ['monday'] }]],
    ['starting at 07:30 reaches the night', { ...closed, tuesday: ['07:30-12:00'] }, keep, [{ kind: 'night', days: ['tuesday'] }]],
    ['Friday until 14:00 is fine', { ...closed, friday: ['09:00-14:00'] }, keep, []],
    ['Friday until 15:00 is Friday afternoon', { ...closed, friday: ['09:00-15:00'] }, keep, [{ kind: 'friday', days: ['friday'] }]],
    ['Friday afternoon cut by an early stop before Shabbat', { ...closed, friday: ['09:00-18:00'] }, { shabbat: true, erev_from: '13:00' }, []],
    ['an early stop counts only when Shabbat is kept', { ...closed, friday: ['09:00-18:00'] }, { shabbat: false, erev_from: '13:00' }, [{ kind: 'friday', days: ['friday'] }]],
    ['Saturday when Shabbat is kept: only after havdalah', { ...closed, saturday: ['18:00-20:00'] }, keep, []],
    ['Saturday when Shabbat is not kept', { ...closed, saturday: ['10:00-12:00'] }, ignore, [{ kind: 'saturday', days: ['saturday'] }]],
    ['bad ranges are the editor’s business, not a warning', { ...closed, sunday: ['9-23', '22:00-10:00'] }, keep, []],
    [
      'around the clock, Shabbat kept: night every day and Friday afternoon',
      ALL_DAY_WINDOWS,
      keep,
      [
        { kind: 'night', days: ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] },
        { kind: 'friday', days: ['friday'] },
      ],
    ],
    [
      'around the clock, Shabbat not kept: Saturday too',
      ALL_DAY_WINDOWS,
      ignore,
      [
        { kind: 'night', days: ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] },
        { kind: 'friday', days: ['friday'] },
        { kind: 'saturday', days: ['saturday'] },
      ],
    ],
  ];
  it.each(cases)('%s', (_, windows, quiet, expected) => {
    expect(hoursWarnings(windows, quiet)).toEqual(expected);
  });
});

import { describe, expect, it } from 'vitest';
import { normalizeWindows, rangeProblems, segmentsByDay, STANDARD_WINDOWS, weeklyHours } from '../src/lib/schedule';
import { bodyOf, draftFrom, emptyDraft, toLocalInput } from '../src/pages/CampaignWizard';
import type { Campaign } from '../src/api/types';

describe('calling windows', () => {
  it('reads every shape the API gives', () => {
    const windows = normalizeWindows({ sunday: '09:00-20:00', monday: ['09:00-12:00', '16:00-20:00'], saturday: 'closed' });
    expect(windows.sunday).toEqual(['09:00-20:00']);
    expect(windows.monday).toHaveLength(2);
    expect(windows.saturday).toEqual([]);
    expect(windows.tuesday).toEqual([]);
  });

  it('names bad times, backwards ranges and overlaps', () => {
    expect(rangeProblems(['09:00-20:00'])).toEqual([]);
    expect(rangeProblems(['9-17'])).toEqual([{ index: 0, problem: 'time' }]);
    expect(rangeProblems(['20:00-09:00'])).toEqual([{ index: 0, problem: 'order' }]);
    expect(rangeProblems(['09:00-12:00', '11:00-14:00'])).toEqual([{ index: 1, problem: 'overlap' }]);
    expect(rangeProblems(['00:00-24:00'])).toEqual([]);
  });

  it('counts the open hours of a week', () => {
    expect(weeklyHours(STANDARD_WINDOWS)).toBe(5 * 11 + 4);
  });

  it('cuts a Shabbat that spans two days into two bars, in Israel time', () => {
    const days = segmentsByDay([{ start: '2026-11-27T14:02:00Z', end: '2026-11-28T15:21:00Z', reason: 'shabbat' }], 'blocked');
    expect(days.get('2026-11-27')).toEqual([{ from: 16 * 60 + 2, to: 1440, kind: 'blocked', reason: 'shabbat' }]);
    expect(days.get('2026-11-28')).toEqual([{ from: 0, to: 17 * 60 + 21, kind: 'blocked', reason: 'shabbat' }]);
  });
});

describe('the wizard and the campaign file', () => {
  it('sends closed days, no retry and local times as the API reads them', () => {
    const draft = { ...emptyDraft(), name: ' Winter ', start: '2026-12-06T09:00', retry: { ...emptyDraft().retry, busy: 'off' } };
    const body = bodyOf(draft);
    expect(body.name).toBe('Winter');
    expect(body.start).toBe('2026-12-06 09:00');
    expect(body.end).toBeNull();
    expect(body.windows?.saturday).toBe('closed');
    expect(body.windows?.friday).toEqual(['09:00-13:00']);
    expect(body.retry?.busy).toBe(false);
    expect(body.retry?.no_answer).toBe('2h');
    expect(body.caller_id).toBeNull();
  });

  it('reads a saved campaign back into the wizard', () => {
    const campaign = {
      id: 7,
      name: 'Winter',
      type: 'voice',
      purpose: 'donation',
      status: 'draft',
      consent_required: true,
      consent_override: null,
      created_at: '',
      updated_at: '',
      settings: {
        time_zone: 'Asia/Jerusalem',
        start: '2026-12-06T09:00:00+02:00',
        caller_id: '+97236123456',
        windows: { sunday: ['10:00-14:00'], saturday: [] },
        quiet: { shabbat: true, holidays: false },
        retry: { busy: '5m', voicemail: false },
        pacing: { cps: 2, max_channels: 10 },
        ivr_flow: 'Donations',
      },
    } as unknown as Campaign;
    const draft = draftFrom(campaign);
    expect(draft.start).toBe('2026-12-06T09:00');
    expect(draft.windows.sunday).toEqual(['10:00-14:00']);
    expect(draft.windows.monday).toEqual([]);
    expect(draft.quiet.holidays).toBe(false);
    expect(draft.retry.busy).toBe('5m');
    expect(draft.retry.voicemail).toBe('off');
    expect(draft.pacing).toEqual({ cps: 2, max_channels: 10 });
    expect(draft.ivr_flow).toBe('Donations');
  });

  it('shows instants in Israel time in datetime inputs', () => {
    expect(toLocalInput('2026-07-01T06:00:00Z')).toBe('2026-07-01T09:00');
    expect(toLocalInput('2026-12-31 20:00')).toBe('2026-12-31T20:00');
    expect(toLocalInput('2026-12-31')).toBe('2026-12-31T00:00');
    expect(toLocalInput(null)).toBe('');
  });
});

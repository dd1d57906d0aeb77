// Issue 18: the dashboard's and the campaign page's figures come from the box's
// snapshot through these selectors (one computation, labelled by what it counts),
// and the bar chart's scale never clips a bar nor puts a label over one.
import { describe, expect, it } from 'vitest';
import { barLayout, niceMax } from '../src/components/Charts';
import { campaignPace, dialingRate, outcomeCounts, outcomeShares, waitingToDial } from '../src/lib/figures';

describe('niceMax', () => {
  it('is never below the value, in round steps of four', () => {
    for (const value of [0, 0.3, 1, 3, 4, 4.0000001, 5, 7, 9, 11, 12, 13, 99, 100, 101, 999.5, 1234]) {
      for (const integers of [true, false]) {
        const max = niceMax(value, integers && Number.isInteger(value));
        expect(max).toBeGreaterThanOrEqual(value);
        // Not far above it either: at most twice (or the smallest scale).
        expect(max).toBeLessThanOrEqual(Math.max(4, value * 2.5));
      }
    }
    expect(niceMax(12, true)).toBe(12);
    expect(niceMax(13, true)).toBe(16);
    expect(niceMax(1, true)).toBe(4);
  });
});

describe('barLayout', () => {
  const keys = [{ key: 'started' }, { key: 'answered' }];
  const groups = Array.from({ length: 12 }, (_, i) => ({ label: `${i}`, values: { started: i === 11 ? 13 : i, answered: Math.floor(i / 2) } }));

  for (const rtl of [false, true]) {
    for (const stacked of [false, true]) {
      it(`keeps every bar inside the plot and the axis labels outside it (${rtl ? 'rtl' : 'ltr'}, ${stacked ? 'stacked' : 'side by side'})`, () => {
        const layout = barLayout({ groups, keys, stacked, width: 340, rtl });
        expect(layout.bars.length).toBeGreaterThan(0);
        for (const bar of layout.bars) {
          expect(bar.x).toBeGreaterThanOrEqual(layout.plot.left - 1e-6);
          expect(bar.x + bar.width).toBeLessThanOrEqual(layout.plot.right + 1e-6);
          expect(bar.y).toBeGreaterThanOrEqual(layout.plot.top - 1e-6);
          expect(bar.y + bar.height).toBeLessThanOrEqual(layout.plot.bottom + 1e-6);
        }
        // The tallest bar reaches its value on the scale, not the top by clipping.
        const tallest = layout.bars.find((b) => b.group === 11 && b.key === 'started')!;
        expect(tallest.value).toBe(13);
        expect(layout.max).toBeGreaterThanOrEqual(stacked ? 13 + 5 : 13);
        // Labels start off the plot, on the outside, and grow away from it.
        if (rtl) {
          expect(layout.axis.x).toBeGreaterThan(layout.plot.right);
          expect(layout.axis.anchor).toBe('start');
        } else {
          expect(layout.axis.x).toBeLessThan(layout.plot.left);
          expect(layout.axis.anchor).toBe('end');
        }
        // Time runs from the start edge: the first group on the left in LTR, on the right in RTL.
        const first = layout.bars.find((b) => b.group === 1)!;
        const last = layout.bars.find((b) => b.group === 11)!;
        expect(rtl ? first.x > last.x : first.x < last.x).toBe(true);
      });
    }
  }
});

describe('the figures as the box sent them', () => {
  it('shares of every call, in progress and blocked included, say what they are of', () => {
    const counts = outcomeCounts({ by_outcome: { answered: 3, no_answer: 4, blacklisted: 1 }, in_call: 2 });
    const { rows, total } = outcomeShares(counts, ['answered', 'voicemail', 'no_answer', 'blacklisted', 'in_call']);
    expect(total).toBe(10);
    expect(rows.map((r) => [r.key, r.count, r.share])).toEqual([
      ['answered', 3, 0.3],
      ['no_answer', 4, 0.4],
      ['blacklisted', 1, 0.1],
      ['in_call', 2, 0.2],
    ]);
  });

  it('the dialing rate is the calls started in the last minute, per second', () => {
    expect(dialingRate({ calls_last_minute: 30 })).toEqual({ cps: 0.5, lastMinute: 30 });
    expect(dialingRate({ calls_last_minute: 0 }).cps).toBe(0);
  });

  it("a campaign's pace is what it may start now, and says what holds it back", () => {
    // Issue 18: set to 5 calls/s on a box throttled to 0.5.
    expect(campaignPace({ running: true, pace_cps: 5, ceiling_cps: 5, effective_cps: 0.5 }, 0.5)).toEqual({ now: 0.5, set: 5, limit: 'box' });
    expect(campaignPace({ running: true, pace_cps: 2, ceiling_cps: 5, effective_cps: 2 }, 10)).toEqual({ now: 2, set: 5, limit: 'answers' });
    expect(campaignPace({ running: true, pace_cps: 5, ceiling_cps: 5, effective_cps: 5 }, 10)).toEqual({ now: 5, set: 5, limit: null });
    expect(campaignPace({ running: false, pace_cps: 5, ceiling_cps: 5, effective_cps: 0 }, 10)).toEqual({ now: 0, set: 5, limit: 'stopped' });
  });

  it('the active calls beyond the calls up wait for their turn to dial', () => {
    // Issue 18: 9 active on the dialer, 4 calls up in the records.
    expect(waitingToDial({ active_calls: 9, totals: { in_call: 4 } as never })).toBe(5);
    expect(waitingToDial({ active_calls: 2, totals: { in_call: 3 } as never })).toBe(0);
  });
});

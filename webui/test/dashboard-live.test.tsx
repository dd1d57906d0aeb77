// Issue 18: the dashboard's "last hour" chart follows the live figures (it was
// fetched once, at page load), and its figures say what they count.
import { screen, waitFor } from '@testing-library/react';
import { act, useState } from 'react';
import { describe, expect, it } from 'vitest';
import type { LiveSnapshot } from '../src/api/types';
import { LiveContext, useLive } from '../src/live/live';
import { DashboardPage } from '../src/pages/Dashboard';
import { emptyFigures, fakeBox, renderPage, session, snapshot } from './helpers';

let push: (next: LiveSnapshot) => void = () => {};

/** Matches an element's whole text, ignoring the bidi isolates around numbers. */
const exactly = (expected: string) => (_: string, element: Element | null) =>
  element?.textContent?.replace(/[\u2068\u2069]/g, '') === expected && [...(element?.children ?? [])].every((child) => child.textContent?.replace(/[\u2068\u2069]/g, '') !== expected);

/** The dashboard under a live context this test pushes snapshots into. */
function Pushed({ first }: { first: LiveSnapshot }) {
  const outer = useLive();
  const [current, setCurrent] = useState(first);
  push = setCurrent;
  return (
    <LiveContext.Provider value={{ ...outer, snapshot: current, status: 'open' }}>
      <DashboardPage />
    </LiveContext.Provider>
  );
}

const figures = (calls: number, answered: number) => ({ ...emptyFigures, calls, dialed: calls, answered, by_outcome: { answered, no_answer: calls - answered }, answer_rate: calls ? answered / calls : null });

describe('the last hour chart', () => {
  it('is fetched again when the live figures say calls started, and its bars show the new counts', async () => {
    // The box's timeline: the newest slice holds as many calls as requests so far.
    let requests = 0;
    const timeline = ({ url }: { url: URL }) => {
      requests += 1;
      const from = Date.parse(url.searchParams.get('from') ?? '');
      const step = Number(url.searchParams.get('step_seconds')) * 1000;
      const slices = Array.from({ length: 12 }, (_, i) => ({
        start: new Date(from + i * step).toISOString(),
        end: new Date(from + (i + 1) * step).toISOString(),
        figures: i === 11 ? figures(requests * 2, requests) : figures(0, 0),
      }));
      return { body: { from: slices[0].start, to: slices[11].end, step_seconds: step / 1000, slices, totals: figures(requests * 2, requests) } };
    };
    fakeBox({ 'GET /api/v1/session': session('manager'), 'GET /api/v1/reports/timeline': timeline });
    renderPage(<Pushed first={snapshot({ totals: figures(2, 1), calls_last_minute: 2 })} />, { lang: 'en' });
    const started = () => document.querySelector('[data-testid="last-hour-chart"] rect[data-key="started"]')?.getAttribute('data-value');
    await waitFor(() => expect(started()).toBe('2'));
    act(() => push(snapshot({ seq: 2, totals: figures(4, 2), calls_last_minute: 4 })));
    await waitFor(() => expect(started()).toBe('4'), { timeout: 8000 });
    expect(requests).toBe(2);
  }, 15_000);
});

describe('the dashboard figures', () => {
  it('say what they count, and show the box’s own rates and pace', () => {
    fakeBox({ 'GET /api/v1/session': session('manager'), 'GET /api/v1/reports/timeline': { from: '', to: '', step_seconds: 300, slices: [], totals: emptyFigures } });
    const totals = { calls: 15, in_call: 1, by_outcome: { answered: 12, no_answer: 1, blacklisted: 1 }, dialed: 13, answered: 12, converted: 3, opted_out: 1, answer_rate: 12 / 13, conversion_rate: 0.25, opt_out_rate: 1 / 12 };
    renderPage(
      <Pushed
        first={snapshot({
          pace_cps: 0.5,
          ceiling_cps: 10,
          calls_last_minute: 30,
          totals,
          campaigns: [{ id: 4, name: 'Winter', running: true, problem_names: [], active: 1, queued: 2, pace_cps: 5, ceiling_cps: 5, effective_cps: 0.5, figures: totals }],
        })}
      />,
      { lang: 'en' },
    );
    const figure = (name: string) => document.querySelector(`.stats [data-figure="${name}"]`);
    expect(figure('answer-rate')).toHaveTextContent('92.3%');
    expect(screen.getByText(exactly('12 of 13 dialed calls that ended'))).toBeInTheDocument();
    expect(screen.getByText(exactly('3 of 12 answered calls'))).toBeInTheDocument();
    // The outcomes panel: shares of all 15 calls, and it says so.
    expect(screen.getByText(exactly('Share of all 15 calls, calls in progress and blocked numbers included'))).toBeInTheDocument();
    // The dialing rate in calls per second, as the pace is: 30 in the last minute.
    expect(figure('dialing-rate')).toHaveTextContent('0.5');
    const stats = document.querySelector('.stats')?.textContent?.replace(/[\u2068\u2069]/g, '');
    expect(stats).toContain('30 calls started in the last minute');
    expect(stats).toContain('The box allows 0.5 of at most 10 calls/s now');
    // The campaign set to 5 on a box held to 0.5: 0.5, and why.
    const row = document.querySelector('tr[data-campaign="4"]')!;
    expect(row.querySelector('[data-figure="pace"]')).toHaveTextContent('0.5');
    expect(row.textContent?.replace(/[\u2068\u2069]/g, '')).toContain("set to 5 · held to the box's pace (0.5)");
  });
});

// The Reports page (issue 18, items 9 and 13): "until" is the last day itself,
// sent as typed (the box includes that whole day), in the figures and in every
// export link; the keys pressed in each menu; the summary PDF for a manager.
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ReportsPage } from '../src/pages/Reports';
import { emptyFigures, fakeBox, renderPage, session } from './helpers';

const report = {
  campaign: { id: 3, name: 'תרומות חורף', type: 'voice', purpose: 'donation', status: 'active' },
  from: null,
  to: null,
  generated_at: '2026-12-07T10:00:00Z',
  figures: { ...emptyFigures, calls: 10, dialed: 10, answered: 8, answer_rate: 0.8 },
  talk_ms: 480_000,
  first_call: '2026-12-07T08:00:00Z',
  last_call: '2026-12-07T09:00:00Z',
  outcomes: [{ outcome: 'answered', count: 8, share: 0.8 }],
  menus: [
    {
      menu: 'main',
      reached: 10,
      keys: [
        { key: '1', leads_to: 'donate', count: 5 },
        { key: '9', leads_to: 'optout', count: 2 },
      ],
      invalid: 1,
      no_key: 2,
    },
  ],
};

describe('the campaign report', () => {
  it('sends "until" as the last day itself, and links the exports and the summary PDF with it', async () => {
    const box = fakeBox({
      'GET /api/v1/session': session('analyst'),
      'GET /api/v1/campaigns': [{ id: 3, name: 'תרומות חורף', type: 'voice', purpose: 'donation', status: 'active', created_at: '2026-12-01T08:00:00Z' }],
      'GET /api/v1/campaigns/3/report': report,
    });
    renderPage(<ReportsPage />, { path: '/reports?campaign=3' });
    await waitFor(() => expect(document.querySelector('table[data-menu="main"]')).toBeTruthy());
    fireEvent.change(screen.getByLabelText(/עד תאריך \(כולל\)/), { target: { value: '2026-12-07' } });
    await waitFor(() => expect(box.calls.some((call) => call.path.startsWith('/api/v1/campaigns/3/report?') && call.path.includes('to=2026-12-07'))).toBe(true));
    expect(box.calls.some((call) => call.path.includes('to=2026-12-08'))).toBe(false);
    const links = [...document.querySelectorAll<HTMLAnchorElement>('.export-row a')].map((a) => a.getAttribute('href') ?? '');
    expect(links.length).toBe(4);
    for (const href of links) expect(href).toContain('to=2026-12-07');
    expect(links.some((href) => href.includes('format=summary') && href.includes('lang=he'))).toBe(true);
  });

  it('shows the keys pressed in each menu with their share of those who reached it', async () => {
    fakeBox({
      'GET /api/v1/session': session('analyst'),
      'GET /api/v1/campaigns': [{ id: 3, name: 'תרומות חורף', type: 'voice', purpose: 'donation', status: 'active', created_at: '2026-12-01T08:00:00Z' }],
      'GET /api/v1/campaigns/3/report': report,
    });
    renderPage(<ReportsPage />, { path: '/reports?campaign=3', lang: 'en' });
    await waitFor(() => expect(document.querySelector('table[data-menu="main"]')).toBeTruthy());
    const table = document.querySelector('table[data-menu="main"]') as HTMLTableElement;
    const plain = (element: Element) => (element.textContent ?? '').replace(/[\u2068\u2069]/g, '');
    expect(plain(table.querySelector('caption') as Element)).toMatch(/^Main menu · Reached the menu: 10$/);
    const row = (id: string) => table.querySelector(`tr[data-row="${id}"]`) as HTMLElement;
    expect(plain(row('key-1'))).toMatch(/^Pressed 1 \(to Donation\)5\s*50%$/);
    expect(plain(row('key-9'))).toMatch(/^Pressed 9 \(to Remove from list\)2\s*20%$/);
    expect(plain(row('invalid'))).toMatch(/1\s*10%$/);
    expect(plain(row('none'))).toMatch(/^No key \(timed out or hung up\)2\s*20%$/);
  });

  it('says what each rate counts, as the dashboard does (issue 18, item 5: no unlabelled denominators)', async () => {
    fakeBox({
      'GET /api/v1/session': session('analyst'),
      'GET /api/v1/campaigns': [{ id: 3, name: 'תרומות חורף', type: 'voice', purpose: 'donation', status: 'active', created_at: '2026-12-01T08:00:00Z' }],
      'GET /api/v1/campaigns/3/report': { ...report, figures: { ...report.figures, calls: 11, dialed: 10, answered: 4, answer_rate: 0.4, converted: 1, conversion_rate: 0.25 }, outcomes: [{ outcome: 'answered', count: 4, share: 4 / 11 }] },
    });
    renderPage(<ReportsPage />, { path: '/reports?campaign=3', lang: 'en' });
    await waitFor(() => expect(document.querySelector('table[data-menu="main"]')).toBeTruthy());
    const plain = (document.body.textContent ?? '').replace(/[\u2068\u2069]/g, '');
    expect(plain).toContain('4 of 10 dialed calls that ended');
    expect(plain).toContain('1 of 4 answered calls');
    expect(plain).toContain('Share of all 11 calls');
  });
});

// The campaign wizard: nothing chosen is dropped, fields are marked, Enter moves
// on, SMS campaigns are not offered, the import just done is not "previous".
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PendingWork } from '../src/lib/pending';
import { ImportSummaryView, readBeforeLetter } from '../src/components/ImportPanel';
import { CampaignWizardPage, initialFlowMode, newFlowName, pastImports } from '../src/pages/CampaignWizard';
import { fakeBox, renderPage, session } from './helpers';

const uploads: FormData[] = [];
let uploadAnswer: () => Promise<unknown> = async () => ({});
vi.mock('../src/api/client', async (original) => {
  const actual = await original<typeof import('../src/api/client')>();
  return {
    ...actual,
    upload: vi.fn(async (_path: string, form: FormData) => {
      uploads.push(form);
      return uploadAnswer();
    }),
  };
});

beforeEach(() => {
  uploads.length = 0;
  URL.createObjectURL = vi.fn(() => 'blob:preview');
  URL.revokeObjectURL = vi.fn();
});
afterEach(() => vi.unstubAllGlobals());

describe('unsaved work', () => {
  it('is saved in order by flush, and each failure or running recording stops it', async () => {
    const work = new PendingWork();
    const saved: string[] = [];
    work.set('a', { label: 'campaign', save: async () => (saved.push('campaign'), true) });
    work.set('b', { label: 'thanks', save: async () => (saved.push('thanks'), true) });
    expect(await work.flush()).toEqual({ ok: true, saved: 2 });
    expect(saved).toEqual(['campaign', 'thanks']);

    work.set('b', { label: 'thanks', save: async () => false });
    expect(await work.flush()).toEqual({ ok: false, reason: 'failed', label: 'thanks' });

    saved.length = 0;
    work.set('c', { label: 'optout', blocked: 'still recording' });
    expect(await work.flush()).toEqual({ ok: false, reason: 'blocked', message: 'still recording', label: 'optout' });
    expect(saved).toEqual([]);

    work.set('a', null);
    work.set('b', null);
    work.set('c', null);
    expect(work.size).toBe(0);
    expect(await work.flush()).toEqual({ ok: true, saved: 0 });
  });
});

const draft = (type = 'voice') => ({
  campaign: {
    id: 4,
    name: 'תרומות חורף',
    type,
    purpose: 'informational',
    status: 'draft',
    consent_required: false,
    consent_override: null,
    settings: { pacing: { cps: 5, max_channels: 30 }, windows: {}, quiet: {}, retry: {} },
    created_at: '2026-12-01T08:00:00Z',
    updated_at: '2026-12-01T08:00:00Z',
    created_by: 'web:dana',
  },
  contacts: { total: 10, pending: 10, due: 10, waiting_retry: 0, in_progress: 0, completed: 0, failed: 0, blacklisted: 0, without_consent: 0 },
  calls: {},
  gate: { state: 'open', until: '2026-12-02T18:00:00Z' },
});

const prompt = { id: 9, name: 'campaign', campaign_id: 4, duration_ms: 2000, playback_url: '/api/v1/audio/9/playback' };

describe('the audio step', () => {
  it('saves a chosen file when "save and continue" is pressed instead of "save recording"', async () => {
    let stored: unknown[] = [];
    uploadAnswer = async () => {
      stored = [prompt];
      return { audio: prompt, source_format: 'wav', source_sample_rate: 8000, peak_dbfs: -3, silent: false };
    };
    const box = fakeBox({
      'GET /api/v1/session': session('manager'),
      'GET /api/v1/campaigns/4': draft(),
      'PUT /api/v1/campaigns/4': draft().campaign,
      'GET /api/v1/audio': () => ({ body: stored }),
      'GET /api/v1/flows': [],
      'GET /api/v1/imports': [],
    });
    renderPage(<CampaignWizardPage />, { path: '/campaigns/4/setup', route: '/campaigns/:id/setup' });
    const file = await screen.findByTestId('audio-file-campaign');
    fireEvent.change(file, { target: { files: [new File([new Uint8Array(64)], 'message.wav', { type: 'audio/wav' })] } });
    expect(await screen.findByText(/עדיין לא נשמר/)).toBeInTheDocument();
    await userEvent.click(screen.getByTestId('wizard-next'));
    await screen.findByTestId('flow-mode-default');
    expect(uploads).toHaveLength(1);
    expect(uploads[0].get('name')).toBe('campaign');
    expect(uploads[0].get('campaign_id')).toBe('4');
    expect((uploads[0].get('file') as File).name).toBe('message.wav');
    expect(box.calls.some((c) => c.method === 'PUT' && c.path === '/api/v1/campaigns/4')).toBe(true);
    await userEvent.click(screen.getByRole('button', { name: /הקודם/ }));
    expect(await screen.findByTestId('audio-current')).toBeInTheDocument();
  });

  it('stops and says why when the chosen file cannot be saved, and stays on the step', async () => {
    uploadAnswer = async () => {
      const { ApiError } = await import('../src/api/client');
      throw new ApiError('payload_too_large', 'too big', 413);
    };
    const box = fakeBox({
      'GET /api/v1/session': session('manager'),
      'GET /api/v1/campaigns/4': draft(),
      'GET /api/v1/audio': [],
      'GET /api/v1/imports': [],
    });
    renderPage(<CampaignWizardPage />, { path: '/campaigns/4/setup', route: '/campaigns/:id/setup' });
    fireEvent.change(await screen.findByTestId('audio-file-campaign'), { target: { files: [new File([new Uint8Array(64)], 'message.wav')] } });
    await userEvent.click(await screen.findByTestId('wizard-next'));
    expect(await screen.findByTestId('wizard-problem')).toHaveTextContent('campaign');
    expect(screen.getByTestId('audio-save')).toBeInTheDocument();
    expect(screen.queryByTestId('flow-mode-default')).not.toBeInTheDocument();
    expect(box.calls.some((c) => c.method === 'PUT')).toBe(false);
  });
});

describe('the first step', () => {
  it('marks and focuses an empty name, and Enter in the field acts as "next"', async () => {
    const box = fakeBox({
      'GET /api/v1/session': session('manager'),
      'POST /api/v1/campaigns': { ...draft().campaign, id: 12 },
      'GET /api/v1/campaigns/12': draft(),
      'GET /api/v1/imports': [],
    });
    renderPage(<CampaignWizardPage />, { path: '/campaigns/new' });
    const name = screen.getByTestId('campaign-name');
    await userEvent.type(name, '{Enter}');
    await waitFor(() => expect(name).toHaveAttribute('aria-invalid', 'true'));
    expect(name).toHaveFocus();
    const message = document.getElementById(name.getAttribute('aria-describedby')?.split(' ').find((id) => id.endsWith('-error')) ?? '');
    expect(message).toHaveTextContent('נא לתת לקמפיין שם.');
    // The Hebrew message reads right to left in the summary too.
    const summary = within(screen.getAllByRole('alert').find((el) => el.classList.contains('notice-error')) as HTMLElement);
    expect(summary.getByText('נא לתת לקמפיין שם.')).toHaveAttribute('dir', 'auto');
    expect(box.calls.some((c) => c.method === 'POST')).toBe(false);

    await userEvent.type(name, 'חורף{Enter}');
    await waitFor(() => expect(box.calls.some((c) => c.method === 'POST' && c.path === '/api/v1/campaigns')).toBe(true));
    expect(box.calls.find((c) => c.method === 'POST')?.body).toMatchObject({ name: 'חורף', type: 'voice' });
  });

  it('does not offer SMS or combined campaigns as a choice, and says why', () => {
    fakeBox({ 'GET /api/v1/session': session('manager') });
    renderPage(<CampaignWizardPage />, { path: '/campaigns/new' });
    expect(screen.getByTestId('campaign-type-voice')).toBeEnabled();
    expect(screen.getByTestId('campaign-type-sms')).toBeDisabled();
    expect(screen.getByTestId('campaign-type-hybrid')).toBeDisabled();
    expect(screen.getAllByText('עדיין לא זמין: שליחת מסרונים לא קיימת בתיבה הזאת.')).toHaveLength(2);
  });
});

describe('the review', () => {
  it('blocks starting an SMS campaign left from before, and warns about night calls', async () => {
    fakeBox({
      'GET /api/v1/session': session('manager'),
      'GET /api/v1/campaigns/4': (() => {
        const d = draft('sms');
        d.campaign.settings.windows = { sunday: '00:00-24:00' } as never;
        return d;
      })(),
      'GET /api/v1/audio': [prompt],
      'GET /api/v1/imports': [],
      'POST /api/v1/campaigns/validate': { valid: true, settings: {} },
    });
    renderPage(<CampaignWizardPage />, { path: '/campaigns/4/setup', route: '/campaigns/:id/setup' });
    await userEvent.click(await screen.findByRole('button', { name: /סקירה והפעלה/ }));
    expect(await screen.findByTestId('review-blocked')).toHaveTextContent('שליחת מסרונים עדיין לא זמינה');
    expect(screen.getByTestId('wizard-start')).toBeDisabled();
    expect(screen.getByTestId('review-warnings')).toHaveTextContent(/שיחות בשעות הלילה: החלונות בימים \u2068?ראשון/);
  });
});

describe('the voice menu a campaign starts with (issue 18, item 11)', () => {
  it.each([
    ['donation', '', 'default'],
    ['informational', '', 'new'],
    ['advertising', '', 'new'],
    ['emergency', '', 'new'],
    ['informational', 'my menu', 'saved'],
    ['donation', 'my menu', 'saved'],
  ])('a %s campaign with flow %j starts on %s', (purpose, flow, mode) => {
    expect(initialFlowMode(purpose, flow)).toBe(mode);
  });

  it.each([
    // typed, the campaign's name, the box's menus, the menu the campaign already uses → saved as
    ['תפריט חדש', 'תזכורת חיסונים', [], '', 'תזכורת חיסונים'],
    ['תפריט חדש', 'תזכורת חיסונים', ['תזכורת חיסונים'], '', 'תזכורת חיסונים (2)'],
    ['תפריט חדש', 'תזכורת חיסונים', ['תזכורת חיסונים', 'תזכורת חיסונים (2)'], '', 'תזכורת חיסונים (3)'],
    ['תפריט חדש', 'תזכורת חיסונים', ['תזכורת חיסונים'], 'תזכורת חיסונים', 'תזכורת חיסונים'],
    ['תפריט חדש', 'גבייה 12/2026', [], '', 'גבייה 12-2026'],
    ['תפריט הסקר', 'תזכורת חיסונים', ['תפריט הסקר'], '', 'תפריט הסקר'],
  ])('a menu built as %j for campaign %j (menus %j, own %j) is saved as %j', (typed, campaign, flows, own, expected) => {
    expect(newFlowName(typed as string, 'תפריט חדש', campaign as string, (flows as string[]).map((name) => ({ name })), own as string)).toBe(expected);
  });

  it('an informational campaign opens the flow step on a menu of its own, not the donation menu', async () => {
    fakeBox({
      'GET /api/v1/session': session('manager'),
      'GET /api/v1/campaigns/4': draft(),
      'GET /api/v1/audio': [prompt],
      'GET /api/v1/imports': [],
      'GET /api/v1/flows': [],
    });
    renderPage(<CampaignWizardPage />, { path: '/campaigns/4/setup', route: '/campaigns/:id/setup' });
    await userEvent.click(await screen.findByRole('button', { name: /תפריט קולי/ }));
    expect(await screen.findByTestId('flow-mode-new')).toBeChecked();
    expect(screen.getByTestId('flow-mode-default')).not.toBeChecked();
    // Choosing the standard menu anyway says it is a donation menu.
    await userEvent.click(screen.getByTestId('flow-mode-default'));
    expect(await screen.findByTestId('default-flow-purpose')).toHaveTextContent('תרומה');
  });
});

describe('earlier imports', () => {
  it('leave out the import just done and one still running', () => {
    const imports = [
      { id: 1, status: 'completed' },
      { id: 2, status: 'completed' },
      { id: 3, status: 'running' },
    ];
    expect(pastImports(imports, 2).map((i) => i.id)).toEqual([1]);
    expect(pastImports(imports, null).map((i) => i.id)).toEqual([1, 2]);
  });
});

describe('a number with a letter on it', () => {
  it.each([
    ['052 555 1234x', '052 555 1234'],
    ['052-55O1234', '052-55'],
    ["טל' 052-5551234x", '052-5551234'],
    ['+972 52 555 1234abc', '+972 52 555 1234'],
    ['052-5551234', null],
    ['אין טלפון', null],
  ])('%s is read as %s', (value, read) => {
    expect(readBeforeLetter(value)).toBe(read);
  });

  it('is refused in the import summary with what was read', () => {
    fakeBox({});
    renderPage(
      <ImportSummaryView
        kind="contacts"
        summary={{ total_rows: 2, imported: 1, duplicates: 0, invalid: 1, blacklisted: 0, invalid_rows: [{ row: 3, value: '052 555 1234x', code: 'letter_in_number', reason: 'a letter in the number' }] } as never}
      />,
    );
    expect(screen.getByText(/אות בתוך המספר: זו טעות הקלדה ולא הערה/)).toHaveTextContent(/נקרא עד האות:\s*052 555 1234$/);
  });
});

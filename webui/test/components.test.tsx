import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { BackupsCard } from '../src/components/Backups';
import { ConfirmDialog } from '../src/components/Dialog';
import { FleetSyncCard } from '../src/components/FleetSync';
import { ImportSummaryView, JobErrorText } from '../src/components/ImportPanel';
import { CampaignDetailPage } from '../src/pages/CampaignDetail';
import { DashboardPage } from '../src/pages/Dashboard';
import { LoginPage } from '../src/pages/Login';
import { PacingReason } from '../src/pages/Settings';
import { UpdatesCard } from '../src/components/Updates';
import { emptyFigures, fakeBox, renderPage, session, snapshot } from './helpers';

/** Matches an element's whole text, ignoring the bidi isolates around names and numbers. */
const exactly = (expected: string) => (_: string, element: Element | null) =>
  element?.textContent?.replace(/[\u2068\u2069]/g, '') === expected && [...(element?.children ?? [])].every((child) => child.textContent?.replace(/[\u2068\u2069]/g, '') !== expected);

describe('logging in', () => {
  it('is in Hebrew, right to left, and says what is wrong in Hebrew', async () => {
    const box = fakeBox({
      'GET /api/v1/session': () => ({ status: 401, body: { error: { code: 'unauthenticated', message: 'log in', type: 'auth' } } }),
      'GET /api/v1/setup': { needed: false },
      'POST /api/v1/session': () => ({ status: 401, body: { error: { code: 'invalid_credentials', message: 'wrong name or password', type: 'auth' } } }),
    });
    renderPage(<LoginPage />, { path: '/login' });
    expect(document.documentElement.dir).toBe('rtl');
    expect(document.documentElement.lang).toBe('he');
    await userEvent.type(screen.getByLabelText(/שם משתמש/), 'dana');
    await userEvent.type(screen.getByLabelText(/^סיסמה/), 'nope');
    await userEvent.click(screen.getByRole('button', { name: 'כניסה' }));
    expect(await screen.findByText('שם המשתמש או הסיסמה שגויים.')).toBeInTheDocument();
    expect(box.calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'dana', password: 'nope' });
  });

  it('switches to English, left to right, in one click', async () => {
    fakeBox({ 'GET /api/v1/session': () => ({ status: 401, body: { error: { code: 'unauthenticated', message: 'log in', type: 'auth' } } }), 'GET /api/v1/setup': { needed: true } });
    renderPage(<LoginPage />, { path: '/login' });
    await userEvent.click(screen.getByRole('button', { name: 'English' }));
    expect(document.documentElement.dir).toBe('ltr');
    expect(screen.getByRole('heading', { name: 'Log in' })).toBeInTheDocument();
    expect(await screen.findByText(/This box has no users yet/)).toBeInTheDocument();
  });
});

describe('the confirmation dialog', () => {
  it('asks for a required reason before acting, and stays open with the error', async () => {
    const onConfirm = vi.fn().mockRejectedValueOnce(new Error('refused')).mockResolvedValueOnce(undefined);
    const onClose = vi.fn();
    fakeBox({});
    renderPage(
      <ConfirmDialog open title="לבטל?" message="הקמפיין יבוטל" confirmLabel="ביטול הקמפיין" danger reason={{ label: 'סיבה', required: true }} onConfirm={onConfirm} onClose={onClose} />,
    );
    const dialog = screen.getByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'ביטול הקמפיין' }));
    expect(onConfirm).not.toHaveBeenCalled();
    expect(within(dialog).getByRole('alert')).toHaveTextContent('נא לכתוב סיבה');
    await userEvent.type(within(dialog).getByLabelText(/סיבה/), 'duplicate campaign');
    await userEvent.click(within(dialog).getByRole('button', { name: 'ביטול הקמפיין' }));
    expect(onConfirm).toHaveBeenCalledWith('duplicate campaign');
    expect(onClose).not.toHaveBeenCalled();
    await userEvent.click(within(dialog).getByRole('button', { name: 'ביטול הקמפיין' }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
  });
});

describe('the import summary', () => {
  it('gives reasons in the UI language by their code', () => {
    fakeBox({});
    renderPage(
      <ImportSummaryView
        kind="contacts"
        rejectedUrl="/api/v1/imports/3/rejected"
        summary={{
          total_rows: 13,
          imported: 11,
          duplicates: 1,
          invalid: 1,
          blacklisted: 1,
          line_types: { mobile: 8, fixed_line: 3 },
          invalid_rows: [{ row: 12, value: '050-1234567', reason: 'not a valid number', code: 'unallocated' }],
        }}
      />,
    );
    expect(screen.getByText('מספר לא תקין: אין מפעיל עם טווח כזה, או שהאורך שגוי')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'הורדת השורות שנדחו' })).toHaveAttribute('href', '/api/v1/imports/3/rejected');
    expect(screen.getByText('050-1234567').closest('bdi')).toHaveAttribute('dir', 'ltr');
  });
});

const detail = (status: string) => ({
  campaign: {
    id: 4,
    name: 'תרומות חורף',
    type: 'voice',
    purpose: 'donation',
    status,
    consent_required: true,
    consent_override: null,
    settings: { pacing: { cps: 5, max_channels: 30 }, windows: {}, quiet: {}, retry: {} },
    created_at: '2026-12-01T08:00:00Z',
    updated_at: '2026-12-01T08:00:00Z',
    created_by: 'web:dana',
  },
  contacts: { total: 10, pending: 4, due: 2, waiting_retry: 1, in_progress: 1, completed: 3, failed: 1, blacklisted: 1, without_consent: 0 },
  calls: { answered: 3, busy: 1 },
  gate: { state: 'open', until: '2026-12-02T18:00:00Z' },
});

const pageOfCalls = { items: [], total: 0, page: 1, per_page: 25, pages: 0 };

describe('the campaign page', () => {
  it('offers a manager pause and cancel for an active campaign, and pauses after a confirmation', async () => {
    const box = fakeBox({
      'GET /api/v1/session': session('manager'),
      'GET /api/v1/campaigns/4': detail('active'),
      'GET /api/v1/calls': pageOfCalls,
      'POST /api/v1/campaigns/4/pause': { id: 4, from: 'active', to: 'paused' },
    });
    renderPage(<CampaignDetailPage />, { path: '/campaigns/4', route: '/campaigns/:id' });
    await userEvent.click(await screen.findByRole('button', { name: 'השהיה' }));
    expect(screen.queryByRole('button', { name: 'הפעלה' })).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'ביטול הקמפיין' })).toBeInTheDocument();
    const dialog = screen.getByRole('dialog');
    await userEvent.click(within(dialog).getByRole('button', { name: 'השהיה' }));
    await waitFor(() => expect(box.calls.some((c) => c.method === 'POST' && c.path === '/api/v1/campaigns/4/pause')).toBe(true));
    const post = box.calls.find((c) => c.method === 'POST');
    expect(post?.headers.get('X-CSRF-Token')).toBe('csrf-123');
    expect(await screen.findByText(/מושהה/)).toBeInTheDocument();
  });

  it('offers an analyst no lifecycle action', async () => {
    fakeBox({ 'GET /api/v1/session': session('analyst', 'rivka'), 'GET /api/v1/campaigns/4': detail('active'), 'GET /api/v1/calls': pageOfCalls });
    renderPage(<CampaignDetailPage />, { path: '/campaigns/4', route: '/campaigns/:id' });
    expect(await screen.findByRole('heading', { name: 'תרומות חורף' })).toBeInTheDocument();
    await act(async () => {
      await new Promise((r) => setTimeout(r, 50));
    });
    for (const name of ['הפעלה', 'השהיה', 'חידוש', 'ביטול הקמפיין']) expect(screen.queryByRole('button', { name })).not.toBeInTheDocument();
    expect(screen.queryByRole('tab', { name: 'אנשי קשר' })).not.toBeInTheDocument();
  });
});

describe('the dashboard', () => {
  it('shows the live figures, alerts in words, and the campaigns running', async () => {
    // The box's timeline: 12 five-minute slices from the hour asked for, 3 calls started in each, 2 answered.
    const timeline = ({ url }: { url: URL }) => {
      const from = Date.parse(url.searchParams.get('from') ?? '');
      const step = Number(url.searchParams.get('step_seconds')) * 1000;
      const figures = { ...emptyFigures, calls: 3, answered: 2, dialed: 3, by_outcome: { answered: 2, busy: 1 } };
      const slices = Array.from({ length: 12 }, (_, i) => ({ start: new Date(from + i * step).toISOString(), end: new Date(from + (i + 1) * step).toISOString(), figures }));
      return { body: { from: slices[0].start, to: slices[11].end, step_seconds: step / 1000, slices, totals: { ...figures, calls: 36, answered: 24 } } };
    };
    const box = fakeBox({ 'GET /api/v1/session': session('manager'), 'GET /api/v1/reports/timeline': timeline });
    const live = snapshot({
      active_calls: 12,
      dialing_rate: 4.5,
      alerts: [{ code: 'cpu_high', severity: 'warning', message: 'CPU use is 91 %', value: 91, limit: 85 }],
      campaigns: [
        { id: 4, name: 'תרומות חורף', running: true, problem_names: [], active: 12, queued: 3, pace_cps: 4.5, ceiling_cps: 5, effective_cps: 4.5, figures: { calls: 120, in_call: 12, by_outcome: { answered: 70, busy: 38 }, dialed: 108, answered: 70, converted: 7, opted_out: 2, answer_rate: 0.648, conversion_rate: 0.1, opt_out_rate: 0.0286 } },
        // Cannot call: a known code is worded in Hebrew with its names; an unknown one shows the box's English.
        { id: 5, name: 'סקר', running: true, problem: 'the flow plays prompts that have no audio: menu, thanks.', problem_code: 'prompts_missing', problem_names: ['menu', 'thanks'], active: 0, queued: 0, pace_cps: 0, ceiling_cps: 5, effective_cps: 0, figures: emptyFigures },
        { id: 6, name: 'חדש', running: true, problem: 'something new went wrong', problem_code: 'other', problem_names: [], active: 0, queued: 0, pace_cps: 0, ceiling_cps: 5, effective_cps: 0, figures: emptyFigures },
      ],
      totals: { calls: 120, in_call: 12, by_outcome: { answered: 70, busy: 38 }, dialed: 108, answered: 70, converted: 7, opted_out: 2, answer_rate: 0.648, conversion_rate: 0.1, opt_out_rate: 0.0286 },
    });
    renderPage(<DashboardPage />, { live: { snapshot: live, status: 'open' } });
    expect(screen.getByText(exactly('עומס מעבד גבוה: 91% (הסף 85%). החיוג מואט.'))).toBeInTheDocument();
    expect(screen.getByTestId('total-calls')).toHaveTextContent('120');
    expect(screen.getByRole('link', { name: 'תרומות חורף' })).toHaveAttribute('href', '/campaigns/4');
    expect(screen.getAllByText('64.8%').length).toBeGreaterThan(0);
    expect(screen.getByText(exactly('אין הקלטה להודעות: menu ו-thanks. הוסיפו הקלטה בשלב האודיו של הקמפיין.'))).toBeInTheDocument();
    const english = screen.getByText('something new went wrong');
    expect(english).toHaveAttribute('lang', 'en');
    await waitFor(() => expect(screen.getByRole('img', { name: 'השעה האחרונה: שיחות לכל 5 דקות' })).toBeInTheDocument());
    // One request for the hour, in 5-minute slices, and the chart's text alternative carries its figures.
    const asked = box.calls.filter((call) => call.path.startsWith('/api/v1/reports/timeline'));
    expect(asked).toHaveLength(1);
    expect(asked[0].path).toContain('step_seconds=300');
    expect(screen.getByRole('img', { name: 'השעה האחרונה: שיחות לכל 5 דקות' }).textContent ?? '').toContain('שיחות שהתחילו: 3');
  });

  it('explains what to do when nothing runs', () => {
    fakeBox({ 'GET /api/v1/session': session('analyst'), 'GET /api/v1/calls': pageOfCalls });
    renderPage(<DashboardPage />, { lang: 'en', live: { snapshot: snapshot(), status: 'open' } });
    expect(screen.getByText('No campaign is running')).toBeInTheDocument();
    fireEvent.click(document.body);
  });
});

describe('the pacing log', () => {
  it('words the reason in the UI language from its data, and keeps an old entry in English', () => {
    fakeBox({ 'GET /api/v1/session': session('analyst') });
    renderPage(
      <>
        <PacingReason change={{ reason: 'CPU at 95.0 % is above 85 %', reason_detail: { kind: 'cpu_high', percent: 95, threshold: 85 } }} />
        <PacingReason change={{ reason: 'answer rate of 12.0 % is below 15.0 %', reason_detail: { kind: 'answer_rate_low', rate: 0.12, threshold: 0.15 } }} />
        <PacingReason change={{ reason: 'CPU back to 60%', reason_detail: null }} />
      </>,
    );
    expect(screen.getByText(exactly('עומס המעבד 95% מעל הסף 85%'))).toBeInTheDocument();
    expect(screen.getByText(exactly('שיעור המענה 12% מתחת לסף 15%'))).toBeInTheDocument();
    expect(screen.getByText('CPU back to 60%')).toHaveAttribute('lang', 'en');
  });
});

describe('a failed import', () => {
  it('says why in the UI language from its code, naming the file as uploaded, and keeps an unknown one in English', () => {
    fakeBox({ 'GET /api/v1/session': session('manager') });
    renderPage(
      <>
        <JobErrorText job={{ file_name: 'תורמים.xlsx', error: 'no phone column found; nothing was imported', error_code: 'no_phone_column', error_params: { headers: 'שם, עיר' } }} />
        <JobErrorText job={{ file_name: 'x.xlsx', error: 'something new; nothing was imported', error_code: 'other' }} />
      </>,
    );
    expect(screen.getByText(exactly('לא נמצאה עמודת טלפון. הכותרות בקובץ: שם, עיר. בחרו את עמודת הטלפון, או תנו לה כותרת כמו טלפון או נייד.'))).toBeInTheDocument();
    expect(screen.getByText('something new; nothing was imported')).toHaveAttribute('lang', 'en');
  });
});

describe('the backups section', () => {
  const backupOf = (name: string, at: string) => ({ name, bytes: 3 * 1024 * 1024, modified_at: at, schema_version: 7, download_url: `/api/v1/backups/${name}` });
  const listing = (partial: Record<string, unknown> = {}) => ({
    backups: [backupOf('shofar-20261207-030000-000.db', '2026-12-07T01:00:00Z')],
    folder: '/var/lib/shofar/backups',
    keep: 7,
    max_restore_bytes: 8 * 1024 * 1024 * 1024,
    pending_restore: null,
    last_restore: null,
    ...partial,
  });

  it('lists the backups to download and backs up now', async () => {
    let made = false;
    const box = fakeBox({
      'GET /api/v1/session': session('admin'),
      'GET /api/v1/backups': () => ({ body: made ? listing({ backups: [backupOf('shofar-20261208-101500-123.db', '2026-12-08T08:15:00Z'), ...listing().backups] }) : listing() }),
      'POST /api/v1/backups': () => {
        made = true;
        return { status: 201, body: backupOf('shofar-20261208-101500-123.db', '2026-12-08T08:15:00Z') };
      },
    });
    renderPage(<BackupsCard />);
    const list = await screen.findByTestId('backup-list');
    expect(within(list).getAllByRole('link')[0]).toHaveAttribute('href', '/api/v1/backups/shofar-20261207-030000-000.db');
    expect(screen.getByText(/שומרת את 7 הגיבויים האחרונים/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'גיבוי עכשיו' }));
    await waitFor(() => expect(within(screen.getByTestId('backup-list')).getAllByRole('link')).toHaveLength(2));
    const post = box.calls.find((c) => c.method === 'POST');
    expect(post?.path).toBe('/api/v1/backups');
    expect(post?.headers.get('X-CSRF-Token')).toBe('csrf-123');
  });

  it('shows the restore waiting for the next start, and cancels it', async () => {
    let pending = true;
    const box = fakeBox({
      'GET /api/v1/session': session('admin'),
      'GET /api/v1/backups': () => ({
        body: listing({
          pending_restore: pending
            ? { file_name: 'winter.db', bytes: 1024, staged_at: '2026-12-08T08:00:00Z', staged_by: 'web:dana', contents: { schema_version: 7, campaigns: 2, contacts: 1500, blacklist: 10 } }
            : null,
        }),
      }),
      'DELETE /api/v1/backups/restore': () => {
        pending = false;
        return { status: 204 };
      },
    });
    renderPage(<BackupsCard />, { lang: 'en' });
    expect(await screen.findByTestId('pending-restore')).toHaveTextContent(/winter\.db.*2 campaigns, 1,500 contacts/);
    expect(screen.getByText(/restart the box, or run/)).toHaveTextContent('restart the box, or run systemctl restart shofar');
    await userEvent.click(screen.getByRole('button', { name: 'Cancel the restore' }));
    await waitFor(() => expect(screen.queryByTestId('pending-restore')).not.toBeInTheDocument());
    expect(box.calls.some((c) => c.method === 'DELETE' && c.path === '/api/v1/backups/restore')).toBe(true);
  });

  it('says a restore was refused at the start, with the reason from the box in English', async () => {
    fakeBox({
      'GET /api/v1/session': session('admin'),
      'GET /api/v1/backups': listing({
        last_restore: { at: '2026-12-08T08:00:00Z', file_name: 'winter.db', staged_by: 'web:dana', restored: false, contents: null, kept: null, problem: 'is damaged (integrity check: page 3 is never used)' },
      }),
    });
    renderPage(<BackupsCard />);
    expect(await screen.findByTestId('last-restore')).toHaveTextContent(/השחזור מ-.*winter\.db.*נדחה/);
    expect(screen.getByText('is damaged (integrity check: page 3 is never used)')).toHaveAttribute('lang', 'en');
  });

  it('asks before uploading a backup to restore, saying what will happen', async () => {
    fakeBox({ 'GET /api/v1/session': session('admin'), 'GET /api/v1/backups': listing() });
    renderPage(<BackupsCard />, { lang: 'en' });
    const input = await screen.findByTestId('restore-file');
    await userEvent.upload(input, new File(['SQLite format 3'], 'monday.db', { type: 'application/octet-stream' }));
    const dialog = screen.getByRole('dialog');
    expect(dialog).toHaveTextContent(/monday\.db/);
    expect(dialog).toHaveTextContent('restored the next time the server starts');
    expect(dialog).toHaveTextContent('kept aside on the box');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });
});

/** XMLHttpRequest as the box would answer an upload: progress, then `answer`. */
function fakeUploads(answer: () => { status: number; body: unknown }) {
  const sent: { method: string; path: string; headers: Record<string, string>; file: File | null }[] = [];
  class FakeXhr {
    upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = { onprogress: null };
    withCredentials = false;
    responseType = '';
    status = 0;
    responseText = '';
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    onabort: (() => void) | null = null;
    private request = { method: '', path: '', headers: {} as Record<string, string> };
    open(method: string, path: string) {
      this.request.method = method;
      this.request.path = path;
    }
    setRequestHeader(name: string, value: string) {
      this.request.headers[name] = value;
    }
    getResponseHeader() {
      return null;
    }
    abort() {}
    send(form: FormData) {
      sent.push({ ...this.request, file: form.get('file') as File | null });
      setTimeout(() => {
        this.upload.onprogress?.({ loaded: 4, total: 8, lengthComputable: true });
        const { status, body } = answer();
        this.status = status;
        this.responseText = JSON.stringify(body);
        this.onload?.();
      }, 0);
    }
  }
  vi.stubGlobal('XMLHttpRequest', FakeXhr);
  return sent;
}

describe('the system update section', () => {
  const running = (partial: Record<string, unknown> = {}) => ({ available: true, version: '0.1.0', slot: 'A', last: null, ...partial });
  const last = (state: string, message: string, version: string | null = '0.2.0') => ({ state, message, version, at: '2026-12-08T08:00:00Z' });

  it('on a server (not the appliance) only says how that installation is updated', async () => {
    fakeBox({ 'GET /api/v1/session': session('admin'), 'GET /api/v1/system/update': { available: false, version: null, slot: null, last: null } });
    renderPage(<UpdatesCard />);
    expect(await screen.findByTestId('updates-not-available')).toHaveTextContent('חבילת ה-Debian');
    expect(screen.getByTestId('updates-version')).toHaveTextContent('לא ידועה');
    expect(screen.queryByTestId('update-file')).not.toBeInTheDocument();
  });

  it('uploads a bundle after saying what happens, follows the installer, and restarts into it when confirmed', async () => {
    // What the installer says on each GET once the bundle is handed over.
    const progress = [last('checking', "checking the bundle's signature and what it is for", null), last('installing', 'installing 0.2.0 into the other slot')];
    let submitted = false;
    let rebooted = false;
    let health = 0;
    const box = fakeBox({
      'GET /api/v1/session': session('admin'),
      'GET /api/v1/system/update': () => {
        if (rebooted && health >= 3) return { body: running({ version: '0.2.0', slot: 'B', last: last('installed', 'installed 0.2.0: reboot to start it') }) };
        if (!submitted) return { body: running() };
        return { body: running({ last: progress.shift() ?? last('installed', 'installed 0.2.0: reboot to start it (the box comes back to this version if it is not healthy)') }) };
      },
      'POST /api/v1/system/reboot': () => {
        rebooted = true;
        return { status: 202, body: running({ last: last('installed', 'installed 0.2.0') }) };
      },
      // Up once more, then gone for a while, then back.
      'GET /healthz': () => {
        health += 1;
        if (health === 2) throw new TypeError('Failed to fetch');
        return { body: { status: 'ok' } };
      },
    });
    const sent = fakeUploads(() => {
      submitted = true;
      return { status: 202, body: running({ last: last('waiting', 'waiting for the installer to start', null) }) };
    });
    renderPage(<UpdatesCard pollMs={20} />, { lang: 'en' });
    expect(await screen.findByTestId('updates-version')).toHaveTextContent('0.1.0');
    await userEvent.upload(screen.getByTestId('update-file'), new File(['bundle'], 'shofar-0.2.0.raucb'));
    const dialog = screen.getByRole('dialog');
    expect(dialog).toHaveTextContent(/shofar-0\.2\.0\.raucb/);
    expect(dialog).toHaveTextContent('installed into the other slot');
    expect(dialog).toHaveTextContent('goes back to this version by itself');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Upload and install' }));
    expect(await screen.findByText('Checking the file')).toBeInTheDocument();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ method: 'POST', path: '/api/v1/system/update', headers: { 'X-CSRF-Token': 'csrf-123' } });
    expect(sent[0].file?.name).toBe('shofar-0.2.0.raucb');
    expect(await screen.findByText('Installing into the other slot')).toBeInTheDocument();
    expect(screen.getByText('installing 0.2.0 into the other slot')).toHaveAttribute('lang', 'en');
    expect(screen.getByTestId('update-file')).toBeDisabled();

    await userEvent.click(await screen.findByRole('button', { name: 'Restart now' }));
    expect(screen.getByTestId('update-state')).toHaveTextContent(/^The update is installed \(version \u20680\.2\.0\u2069\)$/);
    const confirm = screen.getByRole('dialog');
    expect(confirm).toHaveTextContent('Calls that are up now end');
    expect(confirm).toHaveTextContent('unreachable for a few minutes');
    await userEvent.click(within(confirm).getByRole('button', { name: 'Restart' }));
    expect(await screen.findByTestId('updates-restarting')).toHaveTextContent('The box is restarting');
    const reboot = box.calls.find((c) => c.method === 'POST' && c.path === '/api/v1/system/reboot');
    expect(reboot?.headers.get('X-CSRF-Token')).toBe('csrf-123');
    expect(await screen.findByTestId('updates-back')).toHaveTextContent('The box is back.');
    expect(health).toBe(3);
    expect(await screen.findByText(exactly('Version 0.2.0 is installed and running.'))).toBeInTheDocument();
    expect(screen.getByTestId('updates-version')).toHaveTextContent('0.2.0');
    expect(screen.queryByRole('button', { name: 'Restart now' })).not.toBeInTheDocument();
  });

  it('shows why an update was refused, with the installer\'s reason in English', async () => {
    fakeBox({
      'GET /api/v1/session': session('admin'),
      'GET /api/v1/system/update': running({ last: last('refused', 'not installed: the bundle\'s version 0.1.0 is not newer than the running 0.1.0', '0.1.0') }),
    });
    renderPage(<UpdatesCard />);
    expect(await screen.findByTestId('update-state')).toHaveTextContent('העדכון נדחה');
    expect(screen.getByRole('alert')).toHaveTextContent('הסיבה:');
    expect(screen.getByText("not installed: the bundle's version 0.1.0 is not newer than the running 0.1.0")).toHaveAttribute('lang', 'en');
    expect(screen.queryByRole('button', { name: 'הפעלה מחדש עכשיו' })).not.toBeInTheDocument();
    expect(screen.getByTestId('update-file')).toBeEnabled();
  });
});

describe('the fleet sync section', () => {
  const at = '2026-12-08T10:30:00Z';
  const sync = {
    state: 'offline' as const,
    alerts: [{ code: 'sync_offline', severity: 'warning', message: 'offline for 40 min', value: 40, limit: 30 }],
    offline_since: '2026-12-08T09:50:00Z',
    v: 1,
    agent_version: '0.1.0',
    pid: 4242,
    updated_at: '2026-12-08T10:29:58Z',
    org: 'acme',
    box_id: 'tlv-1',
    mqtt: { connected: true, since: '2026-12-08T08:00:00Z' },
    s3: { connected: false, since: '2026-12-08T09:50:00Z', last_error: 'connection refused' },
    waiting_records: 1200,
    oldest_waiting_at: '2026-12-08T09:50:00Z',
    waiting_optouts: 3,
    disk_bytes: 1024 * 1024,
    disk_limit_bytes: 10 * 1024 * 1024,
    dnc: { version: 7, applied_at: '2026-12-08T10:00:00Z', listed: 2 },
    model: { name: 'best-hours', version: '3', sha256: 'ab'.repeat(32), installed_at: '2026-12-01T00:00:00Z' },
    offline_alert_minutes: 30,
    waiting_alert_percent: 80,
    counters: { records_uploaded_total: 7 },
    errors: [{ at: '2026-12-08T10:29:00Z', what: 's3: connection refused' }],
  };

  it('says how to set sync up when the box has no agent', () => {
    fakeBox({});
    renderPage(<FleetSyncCard />, { lang: 'en', live: { snapshot: snapshot(), status: 'open' } });
    const section = screen.getByTestId('sync-not-configured');
    expect(section).toHaveTextContent('Not configured');
    expect(within(section).getByText('[sync]').tagName).toBe('CODE');
    expect(within(section).getByText('docs/sync.md').tagName).toBe('CODE');
  });

  it('shows the links, what waits, the central list, the model, alerts and errors', () => {
    fakeBox({});
    renderPage(<FleetSyncCard />, { live: { snapshot: snapshot({ at, sync }), status: 'open' } });
    expect(screen.getByTestId('sync-state')).toHaveAttribute('data-state', 'offline');
    expect(screen.getByTestId('sync-state')).toHaveTextContent('מנותק');
    expect(screen.getByText(exactly('סנכרון הצי מנותק כבר 40 דקות (התראה אחרי 30). הרשומות ממתינות במערכת עד שהחיבור יחזור.'))).toBeInTheDocument();
    expect(screen.getByText('1,200')).toBeInTheDocument();
    // Waiting since 09:50, at 10:30: forty minutes.
    expect(screen.getByTestId('sync-oldest-age')).toHaveTextContent('40:00');
    expect(screen.getByText('best-hours 3')).toBeInTheDocument();
    expect(screen.getByText(exactly('שני מספרים ברשימה'))).toBeInTheDocument();
    // The agent's own words stay in English.
    expect(screen.getByText('connection refused')).toHaveAttribute('lang', 'en');
    expect(within(screen.getByTestId('sync-errors')).getByText('s3: connection refused')).toHaveAttribute('lang', 'en');
  });
});

// The dashboard's and the campaign page's figures (issue 18): the last-hour chart
// moves while a campaign runs, the figures shown are the API's (`/api/v1/status`,
// `/api/v1/campaigns/:id`) as the box computed them, each with the caption that
// says what it counts, and filter rows keep their inputs on one line.
//
// Every figure the pages show carries `data-figure` (its name) and `data-value`
// (the number the box sent), and its text is that number formatted.

/** The last-hour chart's bars as `group/key=value`, in order: what changes when a bar moves. */
export async function lastHourBars(page) {
  await page.locator('[data-testid="last-hour-chart"]').waitFor({ timeout: 30_000 });
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="last-hour-chart"] rect[data-key]')].map((bar) => `${bar.getAttribute('data-group')}/${bar.getAttribute('data-key')}=${bar.getAttribute('data-value')}`).join(' '),
  );
}

/** Waits until the chart's bars differ from `before` (the page is not reloaded). */
export async function waitForBarsToMove(page, before, timeout = 90_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const now = await lastHourBars(page);
    if (now !== before) return now;
    if (Date.now() > deadline) throw new Error(`the last-hour chart did not move in ${timeout / 1000} s: ${before || '(no bars)'}`);
    await page.waitForTimeout(1000);
  }
}

/** The figures `data-figure` on the page, inside `scope`: name → { value, text }. */
async function shownFigures(page, scope) {
  return page.evaluate((scope) => {
    const figures = {};
    for (const element of document.querySelectorAll(`${scope} [data-figure]`)) {
      const name = element.getAttribute('data-figure');
      if (name in figures) continue;
      const raw = element.getAttribute('data-value');
      figures[name] = { value: raw === '' || raw === null ? null : Number(raw), text: element.textContent.replace(/[\u2068\u2069]/g, '').trim() };
    }
    return figures;
  }, scope);
}

/** `value` formatted as the page formats it (a percentage with one decimal, or a number with two at most). */
async function formatted(page, lang, value, percent) {
  return page.evaluate(
    ({ lang, value, percent }) => {
      if (value === null) return '—';
      const locale = lang === 'he' ? 'he-IL' : 'en-IL';
      return new Intl.NumberFormat(locale, percent ? { style: 'percent', maximumFractionDigits: 1 } : { maximumFractionDigits: 2 }).format(value);
    },
    { lang, value, percent },
  );
}

const close = (a, b) => (a === null || b === null ? a === b : Math.abs(a - b) < 1e-9);

/**
 * Compares the figures shown with the API's, several times until they agree (the
 * page and the API are read a moment apart while calls end); returns the
 * disagreements left after `timeout`.
 */
async function agree(read, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const problems = await read();
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function expectFigure(page, lang, problems, where, figures, name, expected, { percent = false, caption } = {}) {
  const shown = figures[name];
  if (!shown) {
    problems.push(`${where}: no figure "${name}"`);
    return;
  }
  if (!close(shown.value, expected)) problems.push(`${where}: ${name} is ${shown.value}, the API says ${expected}`);
  // A figure is its number formatted, or a caption made of the numbers it names.
  const text = await formatted(page, lang, shown.value, percent);
  if (!caption && shown.text !== text) problems.push(`${where}: ${name} reads "${shown.text}", not ${text}`);
  if (caption && !caption.every((part) => shown.text.includes(part))) problems.push(`${where}: ${name}'s caption "${shown.text}" lacks ${caption.join(', ')}`);
}

/** The dashboard's and campaign `id`'s page's figures against the API's; pushes what disagrees to `failures`. */
export async function figuresAgree(page, base, lang, id, failures, log) {
  const api = async (path) => (await page.request.get(`${base}${path}`)).json();
  const num = (value) => new Intl.NumberFormat(lang === 'he' ? 'he-IL' : 'en-IL').format(value);
  await page.goto(`${base}/`);
  await page.locator('[data-testid="live-stats"] [data-figure="answer-rate"]').waitFor();
  const dashboard = await agree(async () => {
    const problems = [];
    const shown = await shownFigures(page, '[data-testid="live-stats"]');
    const status = await api('/api/v1/status');
    const totals = status.totals;
    await expectFigure(page, lang, problems, 'dashboard', shown, 'calls', totals.calls);
    await expectFigure(page, lang, problems, 'dashboard', shown, 'answer-rate', totals.answer_rate, { percent: true });
    await expectFigure(page, lang, problems, 'dashboard', shown, 'conversion-rate', totals.conversion_rate, { percent: true });
    await expectFigure(page, lang, problems, 'dashboard', shown, 'opt-out-rate', totals.opt_out_rate, { percent: true });
    // The answer rate's caption: answered of dialed calls that ended, the API's own counts.
    await expectFigure(page, lang, problems, 'dashboard', shown, 'dialed', totals.dialed, { caption: [num(totals.answered), num(totals.dialed)] });
    await expectFigure(page, lang, problems, 'dashboard', shown, 'dialing-rate', status.calls_last_minute / 60);
    // The outcomes panel: shares of every call, as many as the calls card counts.
    const outcomes = await shownFigures(page, '.main');
    if (outcomes['outcomes-total']?.value !== totals.calls) problems.push(`dashboard: the outcomes are shares of ${outcomes['outcomes-total']?.value}, the calls are ${totals.calls}`);
    const row = status.campaigns.find((c) => c.id === id);
    if (row) {
      const pace = await shownFigures(page, `tr[data-campaign="${id}"]`);
      await expectFigure(page, lang, problems, 'dashboard campaign row', pace, 'pace', row.effective_cps);
      await expectFigure(page, lang, problems, 'dashboard campaign row', pace, 'answer-rate', row.figures.answer_rate, { percent: true });
    }
    return problems;
  });
  failures.push(...dashboard);

  await page.goto(`${base}/campaigns/${id}`);
  await page.locator('[data-testid="campaign-stats"] [data-figure="answer-rate"]').waitFor();
  const campaign = await agree(async () => {
    const problems = [];
    const shown = await shownFigures(page, '[data-testid="campaign-stats"]');
    const status = await api('/api/v1/status');
    const detail = await api(`/api/v1/campaigns/${id}`);
    const live = status.campaigns.find((c) => c.id === id);
    if (!live) {
      problems.push(`campaign ${id} is not in /api/v1/status`);
      return problems;
    }
    await expectFigure(page, lang, problems, 'campaign page', shown, 'answer-rate', live.figures.answer_rate, { percent: true });
    await expectFigure(page, lang, problems, 'campaign page', shown, 'dialed', live.figures.dialed, { caption: [num(live.figures.answered), num(live.figures.dialed)] });
    await expectFigure(page, lang, problems, 'campaign page', shown, 'pace', live.effective_cps);
    // The outcomes panel: of every call the campaign made, by /api/v1/campaigns/:id's own count.
    const calls = Object.values(detail.calls).reduce((sum, n) => sum + n, 0);
    const outcomes = await shownFigures(page, '.main');
    if (outcomes['outcomes-total']?.value !== calls) problems.push(`campaign page: the outcomes are shares of ${outcomes['outcomes-total']?.value}, /api/v1/campaigns/${id} counts ${calls} calls`);
    if (live.figures.calls !== calls) problems.push(`campaign ${id}: the live figures count ${live.figures.calls} calls, /api/v1/campaigns/${id} ${calls}`);
    return problems;
  });
  failures.push(...campaign);
  log(`${lang}: the dashboard's and campaign ${id}'s figures ${dashboard.length + campaign.length === 0 ? 'agree with the API' : 'DISAGREE with the API'}`);
}

/**
 * The filter rows of the calls, do-not-call and campaign pages at the desktop's
 * width: within a row, the inputs and its button start on one line (a field
 * with a hint beneath it included).
 */
export async function filtersAligned(page, base, lang, id, failures, log) {
  for (const path of ['/calls', '/blacklist', `/campaigns/${id}`]) {
    await page.goto(`${base}${path}`);
    await page.locator('.filters').first().waitFor();
    await page.waitForTimeout(400);
    const off = await page.evaluate(() =>
      [...document.querySelectorAll('.filters')].map((filters) => {
        const controls = [...filters.querySelectorAll(':scope > .field > input, :scope > .field > select, :scope > button, :scope > .btn')].filter((c) => c.getBoundingClientRect().height > 0);
        const lines = [];
        for (const control of controls) {
          const box = control.getBoundingClientRect();
          const line = lines.find((l) => Math.abs(l.top - box.top) < 30);
          if (line) line.tops.push(box.top);
          else lines.push({ top: box.top, tops: [box.top] });
        }
        return Math.max(0, ...lines.map((l) => Math.max(...l.tops) - Math.min(...l.tops)));
      }),
    );
    if (off.some((px) => px > 1)) failures.push(`${lang} ${path}: filter inputs are ${off.map((px) => px.toFixed(1)).join(', ')} px out of line`);
  }
  log(`${lang}: filter rows line up on the calls, do-not-call and campaign pages`);
}

// The campaign wizard's traps (issue 18), in Chromium: a sound chosen but not
// saved, an empty name, Enter, SMS types, the Next button's chevron, toasts over
// the action bar, and the do-not-call check of a number with a letter on it.
// Runs on a scratch draft of its own, deleted at the end.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { toneWav } from './fixtures.mjs';

/** Calls the API from the page, as the UI does (session cookie, CSRF token). */
async function call(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const session = await (await fetch('/api/v1/session')).json();
      const response = await fetch(path, {
        method,
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    { method, path, body },
  );
}

function overlaps(a, b) {
  return a && b && a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/**
 * `assert(condition, message)` throws; `log(message)` reports; `work` is a
 * scratch directory. Leaves the page on the campaigns list.
 */
export async function wizardTraps({ page, base, lang, assert, log, work }) {
  const next = page.locator('[data-testid="wizard-next"]');
  await page.goto(`${base}/campaigns/new`);
  const name = page.locator('[data-testid="campaign-name"]');
  await name.waitFor();

  // SMS and combined are not offered: disabled, with the reason.
  for (const type of ['sms', 'hybrid']) {
    assert(await page.locator(`[data-testid="campaign-type-${type}"]`).isDisabled(), `the ${type} type is offered as a normal choice`);
  }
  assert(await page.locator('[data-testid="campaign-type-voice"]').isEnabled(), 'the voice type is not offered');

  // The chevron of "next" sits on the text's line (its middle within the text's line box).
  const chevron = await next.evaluate((button) => {
    const svg = button.querySelector('svg').getBoundingClientRect();
    const range = document.createRange();
    const text = [...button.querySelectorAll('span')].flatMap((span) => [...span.childNodes]).find((node) => node.nodeType === 3 && node.textContent.trim());
    range.selectNodeContents(text);
    const line = range.getBoundingClientRect();
    return { svgMiddle: svg.top + svg.height / 2, top: line.top, bottom: line.bottom };
  });
  assert(chevron.svgMiddle > chevron.top && chevron.svgMiddle < chevron.bottom && Math.abs(chevron.svgMiddle - (chevron.top + chevron.bottom) / 2) <= 3, `the Next chevron is off the text's line: ${JSON.stringify(chevron)}`);

  // An empty name: marked, described, focused; Enter in the field is "next".
  await name.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid="campaign-name"]').getAttribute('aria-invalid') === 'true');
  assert(await name.evaluate((el) => el === document.activeElement), 'the empty name field is not focused');
  const described = await name.evaluate((el) => (el.getAttribute('aria-describedby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent ?? '').join(' '));
  assert(described.includes(lang === 'he' ? 'נא לתת לקמפיין שם' : 'Please give the campaign a name'), `the name field does not say what is wrong: ${described}`);
  // The message in the summary reads in its own direction (Hebrew right to left).
  const dirs = await page.locator('.field-problems bdi').evaluateAll((list) => list.map((el) => el.getAttribute('dir')));
  assert(dirs.length > 0 && dirs.every((dir) => dir === 'auto'), `the field messages are forced to a direction: ${dirs}`);

  const title = lang === 'he' ? 'בדיקת הקלטה שלא נשמרה' : 'Unsaved recording check';
  await name.fill(title);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/campaigns\/\d+\/setup$/);
  const id = Number(/\/campaigns\/(\d+)\/setup$/.exec(page.url())[1]);

  // The "draft created" toast does not cover the action bar, on a desktop and on a phone.
  const toast = page.locator('.toast').last();
  await toast.waitFor();
  assert(!overlaps(await toast.boundingBox(), await next.boundingBox()), 'a toast covers the Next button');
  await page.setViewportSize({ width: 360, height: 740 });
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await next.scrollIntoViewIfNeeded();
  if (await toast.isVisible()) assert(!overlaps(await toast.boundingBox(), await next.boundingBox()), 'a toast covers the Next button on a phone');
  await page.setViewportSize({ width: 1366, height: 900 });

  // The trap: choose a file, listen, press "save and continue" (not "save recording").
  await next.click(); // contacts: none here
  const file = page.locator('[data-testid="audio-file-campaign"]');
  await file.waitFor();
  const wav = join(work, `unsaved-${lang}.wav`);
  writeFileSync(wav, toneWav(1, 523));
  await file.setInputFiles(wav);
  await page.locator('[data-testid="audio-save"]').waitFor();
  await next.click();
  await page.locator('[data-testid="flow-mode-default"]').waitFor();
  const audio = (await call(page, 'GET', '/api/v1/audio')).body;
  const saved = audio.find((a) => a.name === 'campaign' && a.campaign_id === id);
  assert(saved, `the chosen recording was dropped: the campaign has no message (${JSON.stringify(audio.map((a) => [a.name, a.campaign_id]))})`);
  await page.locator('.wizard-nav button').first().click(); // back
  await page.locator('[data-testid="audio-current"]').waitFor();
  assert((await page.locator('[data-testid="audio-save"]').count()) === 0, 'the recording is still waiting to be saved after "next"');
  log(`${lang}: a chosen recording is saved by "next" (the campaign has its message); the empty name is marked and focused; Enter is "next"; SMS types are not offered`);

  // A recording still running is not dropped either: "next" stops and says so.
  // (Chromium's fake microphone; skipped when the browser has none.)
  const record = page.locator('[data-testid="audio-record"]');
  if (await record.isVisible()) {
    await record.click();
    const stop = page.locator('[data-testid="audio-stop"]');
    if (await stop.waitFor({ timeout: 5_000 }).then(() => true, () => false)) {
      await next.click();
      await page.locator('[data-testid="wizard-problem"]').waitFor();
      assert(await stop.isVisible(), 'the wizard left the audio step while a recording was running');
      await stop.click();
      await page.locator('[data-testid="audio-save"]').waitFor();
      await page.locator('.audio-candidate button.btn-ghost').click(); // discard
      log(`${lang}: "next" during a recording stops and says so`);
    }
  }

  // An SMS campaign made through the API (as before this check) is refused at start.
  const sms = await call(page, 'POST', '/api/v1/campaigns', { name: `${title} SMS`, type: 'sms' });
  assert(sms.status === 201, `creating an SMS draft: ${JSON.stringify(sms)}`);
  const refused = await call(page, 'POST', `/api/v1/campaigns/${sms.body.id}/start`, {});
  assert(refused.status === 409 && refused.body.error.code === 'sms_unavailable', `starting an SMS campaign: ${JSON.stringify(refused)}`);
  await page.goto(`${base}/campaigns/${sms.body.id}/setup`);
  await page.locator('.steps button').last().click();
  await page.locator('[data-testid="review-blocked"]').waitFor();
  assert(await page.locator('[data-testid="wizard-start"]').isDisabled(), 'the review lets an SMS campaign start');
  log(`${lang}: an SMS campaign is refused at start (409 sms_unavailable) and its review blocks the start`);

  for (const draft of [id, sms.body.id]) {
    const deleted = await call(page, 'DELETE', `/api/v1/campaigns/${draft}`);
    assert(deleted.status === 204, `deleting scratch draft ${draft}: ${JSON.stringify(deleted)}`);
  }
  await page.goto(`${base}/campaigns`);
}

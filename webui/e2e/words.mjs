// Words a clerk understands (issue 18, items 7 and 11), end to end in Chromium:
// a recording named in Hebrew is uploaded, listed, played back and picked in the
// flow builder; the builder shows nodes by words, offers its ready menus (each one
// valid on the box), takes a node name in Hebrew and never lets cards overlap; a
// call's details say in words how it ended; the audit log reads as words, not JSON,
// and names people without "web:".
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toneWav } from './fixtures.mjs';
import { log } from './harness.mjs';

function assert(condition, message) {
  if (!condition) throw new Error(`words: ${message}`);
}

const LATIN = /[A-Za-z]{2,}/;

/** The name this run gives a recording: Hebrew in both languages (names are data). */
export function hebrewRecording(lang) {
  return `הודעת-בדיקה-${lang === 'he' ? 'א' : 'ב'}`;
}

/** The names this module types (recordings and nodes in Hebrew, in both languages): data, not UI text. */
export const WORDS_USER_DATA = [hebrewRecording('he'), hebrewRecording('en'), 'פתיח', 'פתיח-אנגלית'];

function overlapping(boxes) {
  const found = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      if (a.x < b.x + b.width - 1 && b.x < a.x + a.width - 1 && a.y < b.y + b.height - 1 && b.y < a.y + a.height - 1) found.push(`${a.name} and ${b.name}`);
    }
  }
  return found;
}

async function cardBoxes(page) {
  const boxes = [];
  for (const card of await page.locator('.flow-node').all()) boxes.push({ name: await card.getAttribute('data-node'), ...(await card.boundingBox()) });
  return boxes;
}

export async function checkWords(page, base, lang, { campaignId, work, capture }) {
  // A recording named in Hebrew: uploaded on the Audio page, listed by that name,
  // played back, and the toast names it (never an internal name).
  const name = hebrewRecording(lang);
  const wav = join(work, 'words.wav');
  writeFileSync(wav, toneWav(1, 660));
  await page.goto(`${base}/audio`);
  await page.locator('[data-testid="audio-name"]').fill(name);
  await page.locator(`[data-testid="audio-file-${name}"]`).setInputFiles(wav);
  await page.locator('[data-testid="audio-save"]').click();
  const toast = page.locator('.toast-success').last();
  await toast.waitFor({ timeout: 30_000 });
  const said = (await toast.innerText()).replace(/[\u2068\u2069]/g, '');
  assert(said.includes(name), `the toast names the recording ${name}: "${said}"`);
  const listed = (await page.request.get(`${base}/api/v1/audio`).then((r) => r.json())).find((a) => a.name === name);
  assert(listed, `${name} is listed by the box`);
  assert(/^[\x21-\x7e]+$/.test(listed.playback_url), `its playback address is plain ASCII: ${listed.playback_url}`);
  const playback = await page.request.get(`${base}${listed.playback_url}`);
  assert(playback.ok() && (await playback.body()).subarray(0, 4).toString() === 'RIFF', `${name} plays back: ${playback.status()}`);
  await page.reload();
  await page.locator('table th[scope="row"] bdi', { hasText: name }).first().waitFor();
  log(`${lang}: a recording named "${name}" uploaded, listed and played back`);

  // The flow builder: nodes by words, ready menus, a Hebrew node name, the
  // recording picked from the box's, and no card on another.
  await page.goto(`${base}/flows/new`);
  await page.locator('.flow-editor').waitFor();
  const starterNames = await page.locator('.flow-node-name').allInnerTexts();
  assert(!starterNames.some((text) => ['main', 'optout', 'bye'].includes(text.trim())), `the starter's nodes by words: ${starterNames.join(', ')}`);
  if (lang === 'he') assert(!starterNames.some((text) => LATIN.test(text)), `Hebrew node names: ${starterNames.join(', ')}`);
  const templates = await page.locator('[data-testid="flow-template"] option').evaluateAll((options) => options.map((o) => o.value));
  assert(templates.length >= 4, `the ready menus offered: ${templates}`);
  for (const template of templates) {
    await page.locator('[data-testid="flow-template"]').selectOption(template);
    await page.locator('[data-testid="flow-template-use"]').click();
    // The box checks the new menu (the verdict on the one before goes first;
    // the starter is the same document as "information + remove from list").
    await page.locator('[data-testid="flow-valid"]').waitFor({ state: 'detached', timeout: 3000 }).catch(() => {});
    await page.locator('[data-testid="flow-valid"]').waitFor({ timeout: 20_000 });
    log(`${lang}: the ready menu "${template}" is valid on the box`);
  }
  await page.locator('[data-testid="flow-template"]').selectOption('info');
  await page.locator('[data-testid="flow-template-use"]').click();
  await page.locator('[data-node="message"]').click();
  await page.locator('[data-testid="prompt-pick"]').selectOption(name);
  await page.locator(`[data-prompt-chip="${name}"]`).waitFor();
  const hebrewNode = lang === 'he' ? 'פתיח' : 'פתיח-אנגלית';
  await page.locator('[data-testid="node-name"]').fill(hebrewNode);
  await page.locator('[data-testid="node-name"]').blur();
  await page.locator(`[data-node="${hebrewNode}"]`).waitFor();
  await page.locator('[data-testid="flow-valid"]').waitFor({ timeout: 20_000 });
  // New cards, and a card dragged onto another: nothing overlaps.
  const addNode = page.locator('.flow-toolbar button').first();
  for (let i = 0; i < 3; i++) await addNode.click();
  const [first, second] = await cardBoxes(page);
  await page.mouse.move(second.x + 20, second.y + 10);
  await page.mouse.down();
  await page.mouse.move(first.x + 40, first.y + 30, { steps: 8 });
  await page.mouse.move(first.x + 20, first.y + 10, { steps: 4 });
  await page.mouse.up();
  await addNode.click();
  const boxes = await cardBoxes(page);
  assert(boxes.length === 6, `six cards: ${boxes.map((b) => b.name)}`);
  const overlaps = overlapping(boxes);
  assert(overlaps.length === 0, `cards overlap: ${overlaps.join('; ')}`);
  await capture(page, lang, '34-flow-templates');
  log(`${lang}: ready menus, the Hebrew recording picked, node "${hebrewNode}" named in Hebrew, ${boxes.length} cards and none overlapping`);

  // A call's details: how it ended and what AMD found, in words; the codes second.
  const answered = await page.request.get(`${base}/api/v1/calls?campaign=${campaignId}&outcome=answered&per_page=1`).then((r) => r.json());
  const call = answered.items[0];
  assert(call, 'an answered call to look at');
  await page.goto(`${base}/calls?number=${encodeURIComponent(call.number)}`);
  await page.locator('table .link-button').first().click();
  const cause = (await page.locator('dialog [data-testid="call-cause"]').innerText()).trim();
  const amd = (await page.locator('dialog [data-testid="call-amd"]').innerText()).trim();
  assert(!/Normal Clearing|ANSWER|HUMAN|MACHINE/.test(`${cause} ${amd}`), `call details in words: "${cause}", "${amd}"`);
  if (lang === 'he') assert(!LATIN.test(cause) && !LATIN.test(amd), `call details in Hebrew: "${cause}", "${amd}"`);
  if (call.hangup_code === 16) assert(cause === (lang === 'he' ? 'השיחה הסתיימה כרגיל' : 'The call ended normally'), `cause 16 in words: "${cause}"`);
  await page.locator('dialog details.technical summary').click();
  const technical = await page.locator('dialog [data-testid="call-technical"]').innerText();
  assert(technical.includes(String(call.hangup_code)), `the technical details keep the code: "${technical}"`);
  await capture(page, lang, '18b-call-details-technical', { element: 'dialog' });
  await page.keyboard.press('Escape');
  log(`${lang}: a call's details say "${cause}" / "${amd}", technical "${technical}"`);

  // The audit log: words, not JSON; people by name.
  await page.goto(`${base}/settings`);
  await page.locator('td.audit-details').first().waitFor();
  const details = await page.locator('td.audit-details > dl').allInnerTexts();
  assert(details.length > 0, 'audit entries have readable details');
  for (const text of details) assert(!/[{}]|":/.test(text), `audit details without JSON: ${text}`);
  const actors = await page.locator('.actor').allInnerTexts();
  assert(actors.length > 0 && actors.every((a) => !/^(web|api|cli):/.test(a)), `audit actors by name: ${actors.slice(0, 5)}`);
  log(`${lang}: the audit log in words (${details.length} entries with details), actors by name`);
}

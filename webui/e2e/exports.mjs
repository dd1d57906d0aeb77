// Exports people open in Excel, "until" as people read it, keys per menu and the
// summary PDF (issue 18, items 8, 9 and 13), end to end: the Reports page's
// files are downloaded as a user does, the CSV is read back as a spreadsheet
// reads it (exceljs's CSV reader turns what looks like a number or a date into
// one, as Excel does), the workbook's cells are checked for their type, and the
// PDFs are read through poppler's `pdftotext` (Debian: apt-get install -y
// poppler-utils; without it this part fails and says so).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import ExcelJS from 'exceljs';

function assert(condition, message) {
  if (!condition) throw new Error(`exports: ${message}`);
}

/** The date in Israel of `when` (default now), `2026-12-07`: the box's day, whatever this machine's zone. */
function israelDay(when = new Date()) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Jerusalem', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(when));
}

function dayBefore(day) {
  const date = new Date(`${day}T12:00:00Z`);
  date.setUTCDate(date.getUTCDate() - 1);
  return date.toISOString().slice(0, 10);
}

/** The local form the UI shows (src/lib/format.ts, formatPhone), for Israeli mobiles and landlines. */
function localForm(e164) {
  const national = e164.replace(/^\+972/, '');
  if (/^[57]\d{8}$/.test(national)) return `0${national.slice(0, 2)}-${national.slice(2)}`;
  if (/^[2-489]\d{7}$/.test(national)) return `0${national.slice(0, 1)}-${national.slice(1)}`;
  return e164;
}

/** The text poppler extracts, without the invisible bidi marks it adds around runs; null when pdftotext is missing. */
function pdfText(path) {
  try {
    return execFileSync('pdftotext', [path, '-'], { encoding: 'utf8' }).replace(/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '');
  } catch (error) {
    if (error.code === 'ENOENT') return null;
    throw error;
  }
}

async function download(page, selector) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.locator(selector).first().click()]);
  return { path: await file.path(), url: file.url() };
}

const WORDS = {
  he: { number: 'מספר טלפון', outcome: 'תוצאה', campaign: 'קמפיין', summary: 'סיכום קמפיין', keys: 'מקשים שנלחצו בכל תפריט', until: 'עד תאריך (כולל)', answerRate: 'מתוך שחויגו' },
  en: { number: 'Number', outcome: 'Outcome', campaign: 'Campaign', summary: 'Campaign summary', keys: 'Keys pressed in each menu', until: 'Until (inclusive)', answerRate: 'of dialed' },
};
const OUTCOME_CODES = new Set(['answered', 'voicemail', 'busy', 'no_answer', 'congestion', 'rejected', 'failed', 'blacklisted']);

export async function checkExports(page, base, lang, { campaignId, failures, log, capture }) {
  const words = WORDS[lang];
  const get = async (path) => {
    const response = await page.request.get(`${base}${path}`);
    assert(response.ok(), `GET ${path}: ${response.status()}`);
    return response.json();
  };
  // The period: from the day of the campaign's first call to today, both in
  // Israel. Usually one day; two when the run crossed Israel's midnight (CI may
  // run at any hour), which a fixed "today" would miss.
  const all = await get(`/api/v1/calls?campaign=${campaignId}&per_page=500&sort=started_at`);
  assert(all.items.length > 0, 'the campaign has no calls to export');
  const first = israelDay(all.items.map((call) => call.started_at).sort()[0]);
  const today = israelDay();
  // "Until today" counts today's calls (the campaign ran today); "until
  // yesterday" counts none of them: the until day is included whole, the next
  // day not (issue 18, item 9).
  const report = await get(`/api/v1/campaigns/${campaignId}/report?from=${first}&to=${today}`);
  const calls = report.figures.calls;
  assert(calls > 0, `the campaign's calls today are not in a report until today: ${JSON.stringify(report.figures)}`);
  const before = await get(`/api/v1/campaigns/${campaignId}/report?to=${dayBefore(first)}`);
  assert(before.figures.calls === 0, `a report until yesterday counts today's calls: ${before.figures.calls}`);
  const listed = await get(`/api/v1/calls?campaign=${campaignId}&from=${first}&to=${today}&per_page=500`);
  assert(listed.total === calls, `the calls list until today has ${listed.total} calls, the report ${calls}`);
  const numbers = new Set(listed.items.map((call) => localForm(call.number)));

  await page.goto(`${base}/reports?campaign=${campaignId}`);
  await page.locator('.breakdown').waitFor();
  const dates = page.locator('.tab-panel input[type="date"]');
  await dates.nth(0).fill(first);
  await dates.nth(1).fill(today);
  await page.locator(`.export-row a[href*="to=${today}"]`).first().waitFor();
  await page.locator('table[data-menu]').first().waitFor({ timeout: 15_000 });
  await capture(page, lang, '22b-reports-keys-per-menu');

  // The CSV, read back as a spreadsheet reads it.
  const csv = await download(page, '.export-row a[href*="format=csv"]');
  assert(csv.url.includes(`to=${today}`) && csv.url.includes(`lang=${lang}`), `the CSV link: ${csv.url}`);
  const raw = readFileSync(csv.path);
  assert(raw.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])), 'the CSV starts with a UTF-8 byte order mark (Excel reads Hebrew right)');
  const book = new ExcelJS.Workbook();
  const sheet = await book.csv.read(Readable.from(raw.subarray(3)));
  const header = sheet.getRow(1).values.slice(1);
  const column = (name) => header.indexOf(name) + 1;
  for (const name of [words.number, words.outcome, words.campaign]) assert(column(name) > 0, `no column "${name}" in ${JSON.stringify(header)}`);
  const rows = sheet.rowCount - 1;
  assert(rows === calls, `the CSV until today lists ${rows} calls, the report counts ${calls} (the until day must be counted)`);
  const problems = [];
  for (let index = 2; index <= sheet.rowCount; index++) {
    const row = sheet.getRow(index);
    const number = row.getCell(column(words.number));
    if (number.type !== ExcelJS.ValueType.String || !/^0\d{1,2}-\d{7}$/.test(number.value)) problems.push(`number ${JSON.stringify(number.value)} (type ${number.type})`);
    else if (!numbers.has(number.value)) problems.push(`number ${number.value} is not a call of the list`);
    const outcome = String(row.getCell(column(words.outcome)).value ?? '');
    if (OUTCOME_CODES.has(outcome)) problems.push(`outcome code ${outcome}`);
    if (row.getCell(column(words.campaign)).value !== report.campaign.name) problems.push(`campaign ${row.getCell(column(words.campaign)).value}`);
    for (const cell of row.values.slice(1)) if (typeof cell === 'string' && cell.startsWith('+972')) problems.push(`E.164 ${cell}`);
  }
  const durations = [...Array(sheet.rowCount - 1).keys()].map((i) => sheet.getRow(i + 2).values.slice(1)).flat().filter((v) => typeof v === 'string' && /^\d+:\d{2}$/.test(v));
  if (!durations.length) problems.push('no m:ss duration');
  if (problems.length) failures.push(`exports ${lang}: the CSV as a spreadsheet reads it: ${[...new Set(problems)].slice(0, 8).join('; ')}`);
  log(`${lang}: CSV until ${today} read back: ${rows} calls, numbers as text (${[...numbers][0]}), outcomes in words, ${durations.length} m:ss durations`);

  // The workbook: numbers are string cells in the local form.
  const xlsx = await download(page, '.export-row a[href*="format=xlsx"]');
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(readFileSync(xlsx.path));
  const callsSheet = workbook.worksheets[1];
  const xlsxHeader = callsSheet.getRow(1).values.slice(1);
  const xlsxNumber = xlsxHeader.indexOf(words.number) + 1;
  assert(xlsxNumber > 0, `no number column in the workbook: ${JSON.stringify(xlsxHeader)}`);
  assert(callsSheet.rowCount - 1 === calls, `the workbook until today lists ${callsSheet.rowCount - 1} calls, the report ${calls}`);
  const badCells = [];
  for (let index = 2; index <= callsSheet.rowCount; index++) {
    const cell = callsSheet.getRow(index).getCell(xlsxNumber);
    if (cell.type !== ExcelJS.ValueType.String || !/^0\d{1,2}-\d{7}$/.test(cell.value)) badCells.push(`${JSON.stringify(cell.value)} (type ${cell.type})`);
  }
  if (badCells.length) failures.push(`exports ${lang}: workbook numbers not local text: ${badCells.slice(0, 5).join(', ')}`);

  // The PDFs through pdftotext: the report (calls listed in the local form) and
  // the summary for a manager (the keys per menu, the answer rate's base).
  const pdf = await download(page, '.export-row a[href*="format=pdf"]');
  const summary = await download(page, '.export-row a[href*="format=summary"]');
  const reportText = pdfText(pdf.path);
  if (reportText === null) {
    failures.push('exports: pdftotext is not installed, so the PDFs could not be read back: apt-get install -y poppler-utils');
    return;
  }
  const summaryText = pdfText(summary.path);
  const missing = [];
  for (const expected of [words.until, [...numbers][0]]) if (!reportText.includes(expected)) missing.push(`report: ${expected}`);
  if (reportText.includes('+972')) missing.push('report: a number in E.164 (+972…)');
  if (!/\b\d+:\d{2}\b/.test(reportText)) missing.push('report: an m:ss talk time');
  for (const expected of [words.summary, words.keys, words.until, words.answerRate, report.campaign.name, String(calls)]) if (!summaryText.includes(expected)) missing.push(`summary: ${expected}`);
  if (summaryText.includes([...numbers][0])) missing.push('summary: lists calls');
  if (missing.length) failures.push(`exports ${lang}: the PDFs as pdftotext reads them miss ${missing.join('; ')}`);
  log(`${lang}: report and summary PDFs read back through pdftotext (local numbers, "${words.until}", keys per menu)`);

  // The campaign page links the summary too.
  await page.goto(`${base}/campaigns/${campaignId}`);
  const link = page.locator('a[href*="format=summary"]');
  await link.first().waitFor();
  assert((await link.first().getAttribute('href')).includes(`lang=${lang}`), 'the campaign page links the summary PDF in the UI language');
}

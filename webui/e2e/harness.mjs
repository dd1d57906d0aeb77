// The end-to-end run's machinery: a real `shofar serve --simulate` on a free
// loopback port with its own data directory, Debian's Chromium driven by
// playwright-core, and the checks run on every page (axe-core, untranslated text,
// console and CSP errors).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // The microphone for in-browser recording: Chromium's fake device (a beep).
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];

export function log(...parts) {
  const at = new Date().toISOString().slice(11, 19);
  console.log(`[e2e ${at}]`, ...parts);
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Runs `shofar serve --simulate`; resolves once /healthz answers, with the setup link it printed. */
export async function startBox(binary, { port, keepData = false } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'shofar-e2e-'));
  const listen = `127.0.0.1:${port ?? (await freePort())}`;
  const base = `http://${listen}`;
  // Its own prompts folder: the default ([asterisk] sounds_dir) is the machine's
  // /var/lib/asterisk/sounds/shofar, shared by every box on it.
  const config = join(dataDir, 'shofar.toml');
  writeFileSync(config, `[asterisk]\nsounds_dir = ${JSON.stringify(join(dataDir, 'sounds'))}\n`);
  let output = '';
  const child = spawn(binary, ['--config', config, 'serve', '--simulate', '--listen', listen, '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  });
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`shofar serve did not answer within 60 s:\n${output}`);
    if (child.exitCode !== null) throw new Error(`shofar serve exited (${child.exitCode}):\n${output}`);
    try {
      const response = await fetch(`${base}/healthz`);
      if (response.ok) break;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  for (let i = 0; i < 50 && !/setup\?token=/.test(output); i++) await new Promise((r) => setTimeout(r, 100));
  const setup = /(\/setup\?token=[0-9a-f]+)/.exec(output)?.[1] ?? null;
  return {
    base,
    dataDir,
    setupPath: setup,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Debian's Chromium with the flags this machine needs (TESTBED.md). playwright-core
 * gives every launch a new, empty profile directory of its own (--user-data-dir).
 */
export async function launchBrowser(executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium', uiLanguage = 'he') {
  const args = [...CHROMIUM_FLAGS.filter((flag) => flag !== '--headless'), `--lang=${uiLanguage}`];
  const browser = await chromium.launch({ executablePath, headless: true, args, env: { ...process.env, LANGUAGE: uiLanguage } });
  return { browser, close: () => browser.close() };
}

/** Problems seen on a page: console errors (CSP violations among them) and uncaught exceptions. */
export function watchPage(page, problems, { allow = [] } = {}) {
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    // A 401 before logging in, 404/409/422 the test asked for on purpose.
    if (/status of (401|403|404|409|422)/.test(text)) return;
    if (allow.some((pattern) => pattern.test(text))) return;
    problems.push(`console: ${text}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
}

/** axe-core on the page as it is: serious and critical violations are failures. */
export async function axeCheck(page, label, failures) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const run = await axe.run(document, { resultTypes: ['violations'] });
    return run.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const serious = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of serious) failures.push(`axe ${label}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(' | ')}`);
  return result;
}

/** Words in the other language outside user data (<bdi>, code, [lang]) : untranslated strings. */
export const ALLOWED_LATIN = new Set([
  'CSV', 'PDF', 'XLSX', 'WAV', 'MP3', 'SMS', 'API', 'IVR', 'VoIP', 'Asterisk', 'Debian', 'xlsx', 'xls', 'ods', 'csv',
  'token', 'dBFS', 'CPU', 'menu', 'thanks', 'info', 'optout', 'confirm', 'input', 'invalid', 'goodbye', 'no', 'mm', 'dd', 'yyyy', 'Hz', 'KB', 'MB', 'campaign',
]);

/** `data`: names the test itself typed (users, campaigns, flows, prompts), which may appear in any language. */
export async function untranslated(page, lang, data = []) {
  return page.evaluate(
    ({ lang, allowed }) => {
      const skip = (el) => el.closest('bdi, code, script, style, noscript, [lang]:not(html), [translate="no"], option, audio, svg title');
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      const found = new Set();
      const foreign = lang === 'he' ? /[A-Za-z][A-Za-z0-9'’-]*[A-Za-z0-9]/g : /[\u0590-\u05FF]{2,}/g;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const parent = node.parentElement;
        if (!parent || skip(parent)) continue;
        const style = getComputedStyle(parent);
        if (style.display === 'none' || style.visibility === 'hidden') continue;
        for (const word of node.textContent.match(foreign) ?? []) {
          if (!allowed.includes(word)) found.add(`${word} ← "${node.textContent.trim().slice(0, 60)}"`);
        }
      }
      for (const el of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
        if (skip(el)) continue;
        for (const attr of ['aria-label', 'title', 'placeholder']) {
          const value = el.getAttribute(attr);
          if (!value) continue;
          for (const word of value.match(foreign) ?? []) {
            if (!allowed.includes(word) && !/^\d/.test(value)) found.add(`${word} ← ${attr}="${value.slice(0, 60)}"`);
          }
        }
      }
      return [...found];
    },
    { lang, allowed: [...ALLOWED_LATIN, ...data, ...data.flatMap((d) => d.split(/[\s–-]+/))] },
  );
}

export function ensureDir(path) {
  mkdirSync(dirname(path), { recursive: true });
}

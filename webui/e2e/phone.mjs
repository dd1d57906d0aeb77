// Every page on a phone (issue 18): in a phone's browser (a touch screen, a
// device pixel ratio of 2, the page's own viewport meta tag), 390×844 and then
// 360×740, no page may scroll sideways. The measure is the document's scroll
// width against the device's width itself, never window.innerWidth: an emulated
// phone zooms out to show what overflows, and innerWidth grows with it. In
// Hebrew what overflows goes to the left, so no box may start left of 0 either.
// A table may scroll inside its own box (.table-wrap); the page may not. The
// header takes one row. Screenshots at 390 px (phone-NN-name.png) go beside the
// desktop ones, for docs/webui.md.
//
//   import { phoneCheck } from './phone.mjs';
//   await phoneCheck({ browser, base, lang, user, pages: phonePages({ id, flowId }), shotsDir, failures, log });
//
// `pages`: [{ name, path, then?(page) }] — `then` opens a tab or a dialog once the page is there.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';

export const PHONES = [
  { width: 390, height: 844 },
  { width: 360, height: 740 },
];

/** The header's height on a phone when it takes one row (a 40 px button and padding). */
const ONE_ROW = 64;

/**
 * What sticks out of `width` in the page as it is: the document's scroll width,
 * the boxes past either edge that nothing clips (widest first), the header's height.
 */
export async function measureOverflow(page, width) {
  return page.evaluate((width) => {
    const doc = document.documentElement;
    // A phone that zooms out to show what overflows lays the page out wider than
    // the screen: the screen's part is at the document's start edge (its right
    // in Hebrew). Boxes are measured against that part.
    const rtl = getComputedStyle(doc).direction === 'rtl';
    const page = doc.getBoundingClientRect();
    const start = rtl ? page.right - width : page.left;
    const end = start + width;
    const positioned = (style) => style.position !== 'static' || style.transform !== 'none';
    /** A box that clips the element sideways (an ancestor in its containing block chain, overflow not visible) and itself fits. */
    const clipped = (element) => {
      let style = getComputedStyle(element);
      if (style.position === 'fixed') return false;
      let needPositioned = style.position === 'absolute';
      for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
        const ps = getComputedStyle(parent);
        // An absolutely positioned box escapes every ancestor up to its containing block.
        if (needPositioned && !positioned(ps)) continue;
        needPositioned = false;
        if (ps.overflowX !== 'visible') {
          // Clipped by a box that fits (a table's scroll box); a box that clips but
          // sticks out itself (an icon's svg) is judged by its own ancestors.
          const box = parent.getBoundingClientRect();
          if (box.left >= start - 0.5 && box.right <= end + 0.5) return true;
        }
        if (ps.position === 'fixed') return false;
        if (ps.position === 'absolute') needPositioned = true;
      }
      return false;
    };
    const describe = (element) => {
      const id = element.id ? `#${element.id}` : '';
      const classes = typeof element.className === 'string' && element.className ? `.${element.className.trim().split(/\s+/).join('.')}` : '';
      const testid = element.getAttribute('data-testid') ? `[data-testid=${element.getAttribute('data-testid')}]` : '';
      return `${element.tagName.toLowerCase()}${id}${classes}${testid}`;
    };
    const outside = [];
    for (const element of document.body.querySelectorAll('*')) {
      const box = element.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      const beyond = Math.max(box.right - end, start - box.left);
      if (beyond <= 0.5 || clipped(element)) continue;
      outside.push({ element: describe(element), left: Math.round(box.left - start), right: Math.round(box.right - start), beyond: Math.round(beyond), text: (element.textContent ?? '').trim().slice(0, 40) });
    }
    // The widest offenders first (their children often repeat them).
    outside.sort((a, b) => b.beyond - a.beyond);
    const topbar = document.querySelector('.topbar');
    return {
      scrollWidth: doc.scrollWidth,
      innerWidth: window.innerWidth,
      outside: outside.slice(0, 8),
      header: topbar ? Math.round(topbar.getBoundingClientRect().height) : 0,
    };
  }, width);
}

/** The failures of one measure: the page wider than the phone, or a box past its start (RTL), or a header of several rows. */
export function overflowProblems(measure, width, label) {
  const problems = [];
  const offenders = measure.outside.map((o) => `${o.element} [${o.left}..${o.right}] "${o.text}"`).join('; ');
  if (measure.scrollWidth > width) problems.push(`${label}: the page is ${measure.scrollWidth} px wide on a ${width} px phone: ${offenders || '(no box found)'}`);
  else if (measure.outside.length > 0) problems.push(`${label}: boxes past the screen's edge: ${offenders}`);
  if (measure.outside.some((o) => o.left < -0.5)) problems.push(`${label}: boxes start left of the screen (right to left overflow): ${offenders}`);
  if (measure.header > ONE_ROW) problems.push(`${label}: the header takes ${measure.header} px (more than one row)`);
  return problems;
}

async function settle(page) {
  await page.waitForTimeout(500);
  await page.waitForFunction(() => !document.querySelector('.loading, [aria-busy="true"]'), null, { timeout: 15_000 }).catch(() => {});
  // Fonts and late layout (charts measure their width).
  await page.waitForTimeout(300);
}

/** Visits `pages` on both phones, logged in as `user`; pushes a failure per page that does not fit. */
export async function phoneCheck({ browser, base, lang, user, pages, shotsDir, failures, log }) {
  for (const phone of PHONES) {
    const context = await browser.newContext({
      viewport: phone,
      screen: phone,
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: lang === 'he' ? 'he-IL' : 'en-IL',
      timezoneId: 'Asia/Jerusalem',
    });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const before = failures.length;
    try {
      // The login page first, as it is before logging in.
      await page.goto(`${base}/login`);
      await page.waitForSelector('input[autocomplete="username"]');
      await page.evaluate((lang) => localStorage.setItem('shofar.lang', lang), lang);
      await page.reload();
      await page.waitForSelector('input[autocomplete="username"]');
      await check(page, phone, lang, { name: '01-login' }, shotsDir, failures);
      await page.locator('input[autocomplete="username"]').fill(user.name);
      await page.locator('input[autocomplete="current-password"]').fill(user.password);
      await page.locator('button[type="submit"]').click();
      await page.waitForURL((url) => !url.pathname.startsWith('/login'));
      // On a phone the navigation is behind the menu button.
      await page.locator('.topbar .nav-toggle').waitFor();
      for (const spec of pages) {
        await page.goto(`${base}${spec.path}`);
        await settle(page);
        if (spec.then) await spec.then(page);
        await check(page, phone, lang, spec, shotsDir, failures);
        // A dialog left open would hide the next page's header.
        await page.keyboard.press('Escape').catch(() => {});
      }
      const found = failures.length - before;
      log(`${lang}: ${pages.length + 1} pages on a ${phone.width}×${phone.height} phone: ${found === 0 ? 'all fit' : `${found} problem(s)`}`);
    } finally {
      await context.close();
    }
  }
}

async function check(page, phone, lang, spec, shotsDir, failures) {
  await settle(page);
  const measure = await measureOverflow(page, phone.width);
  if (process.env.PHONE_DEBUG) console.log(phone.width, spec.name, JSON.stringify(measure));
  for (const problem of overflowProblems(measure, phone.width, `phone ${phone.width} ${lang}/${spec.name}`)) failures.push(problem);
  if (phone.width === PHONES[0].width && shotsDir) {
    const path = join(shotsDir, lang, `phone-${spec.name}.png`);
    mkdirSync(join(shotsDir, lang), { recursive: true });
    for (const close of await page.locator('.toast button').all()) await close.click().catch(() => {});
    await page.screenshot({ path, fullPage: !spec.dialog });
  }
}

/** Every page the end-to-end run visits, with its tabs and dialogs: campaign `id`, flow `flowId`. */
export function phonePages({ id, flowId }) {
  const tab = (index) => async (page) => {
    // A tap on the tab itself (a page that overflows would put another box over it).
    await page.getByRole('tab').nth(index).evaluate((tab) => tab.click());
    await settle(page);
  };
  return [
    { name: '02-dashboard', path: '/' },
    { name: '04-campaigns', path: '/campaigns' },
    { name: '05-wizard-1-basics', path: '/campaigns/new' },
    { name: '13-campaign', path: `/campaigns/${id}` },
    { name: '14-campaign-contacts', path: `/campaigns/${id}`, then: tab(1) },
    { name: '15-campaign-calendar', path: `/campaigns/${id}`, then: tab(2) },
    { name: '15b-campaign-settings', path: `/campaigns/${id}`, then: tab(3) },
    { name: '17-calls', path: '/calls' },
    {
      name: '18-call-details',
      path: '/calls',
      dialog: true,
      then: async (page) => {
        await page.locator('[data-testid="calls-table"] tbody tr button.link-button').first().evaluate((button) => button.click());
        await page.locator('dialog').waitFor();
      },
    },
    { name: '19-blacklist', path: '/blacklist' },
    { name: '20-blacklist-add', path: '/blacklist', then: tab(1) },
    { name: '20b-blacklist-import', path: '/blacklist', then: tab(2) },
    { name: '21-blacklist-history', path: '/blacklist', then: tab(3) },
    { name: '22-reports-campaign', path: `/reports?campaign=${id}` },
    { name: '23-reports-history', path: '/reports', then: tab(1) },
    { name: '24-reports-compare', path: '/reports', then: tab(2) },
    { name: '25-flows', path: '/flows' },
    { name: '26-flow-builder', path: `/flows/${flowId}` },
    { name: '27-audio', path: '/audio' },
    { name: '28-users', path: '/users' },
    { name: '29-settings', path: '/settings' },
    { name: '30-account', path: '/account' },
  ];
}


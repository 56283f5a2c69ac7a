/**
 * Debian's chromium driven by playwright-core, headless, for the web console's test. The browser may reach only
 * the loopback addresses: every other request is aborted and recorded, so a page that needs the network (a CDN)
 * fails its test instead of passing on a machine that happens to be online.
 */
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface ConsoleBrowser {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Requests the page tried beyond loopback (aborted). */
  offLoopback: string[];
  /** Uncaught errors and console errors of the page. */
  pageErrors: string[];
}

/** Fails loudly, naming the package, when Debian's chromium is not installed (scripts/ensure-peers.sh installs it). */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (scripts/ensure-peers.sh does this as root)`);
}

export async function launchChromium(t: TestContext): Promise<ConsoleBrowser> {
  requireChromium();
  // --no-sandbox: the tests run as root, where chromium refuses its sandbox.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
  const offLoopback: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
    offLoopback.push(url.href);
    return route.abort();
  });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    // The browser logs every 4xx as a failed resource: the API's 401 to a wrong token and 409 to a stale ETag are
    // what the test provokes; anything else (a console file answered 404) is an error of the page.
    if (m.type() === 'error' && !/status of (401|409)\b/.test(m.text())) pageErrors.push(m.text());
  });
  return { browser, context, page, offLoopback, pageErrors };
}

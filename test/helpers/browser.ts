// Browser tests' shared start: Debian's Chromium driven by playwright-core,
// and a page signed in through the real login form.
import { chromium, type Browser, type Page } from 'playwright-core';
import { ADMIN_PASSWORD } from './env';

/** Headless Chromium (CHROMIUM_PATH, or Debian's /usr/bin/chromium). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * A new page (in a context of its own, so sessions do not mix) signed in as `username`, with console
 * errors and page errors collected into `errors`.
 */
export async function signedInPage(
  browser: Browser, baseUrl: string, errors: string[], user: { username: string; password: string } = { username: 'admin', password: ADMIN_PASSWORD },
): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}/`);
  return page;
}

/**
 * Clicks a button whose form answers by sending the browser on (htmx's HX-Redirect, or a 303), and
 * waits until the page it goes to has loaded, even when that is the page already shown: the next
 * step then acts on the new page, never on one being replaced.
 */
export async function clickAndLoad(page: Page, button: string): Promise<void> {
  const loaded = page.waitForEvent('load');
  await page.getByRole('button', { name: button }).click();
  await loaded;
}

/// <reference lib="dom" />
// The UI in a real browser (Debian's Chromium driven by playwright-core):
// an admin builds a container, a pattern and a gated two-task mission, runs
// it, watches it live, approves from the inbox with notes and sees it
// complete; a viewer sees no mutating controls and a forged post is refused.
// UPDATE_SCREENSHOTS=1 also saves the main pages to docs/screenshots/.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type RunningWeb } from '../../api/server';
import { ADMIN_PASSWORD } from '../helpers/env';
import { createTestApp, userWithRole, type TestApp } from '../helpers/app';
import { startTestWorker } from '../helpers/worker';
import type { RunningWorker } from '../../worker';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const saveShots = process.env.UPDATE_SCREENSHOTS === '1';

let t: TestApp;
let worker: RunningWorker;
let web: RunningWeb;
let browser: Browser;
let viewer: { username: string; password: string };
const consoleErrors: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  worker = await startTestWorker(t);
  web = await startWebServer(t.deps, { port: 0, host: '127.0.0.1' });
  viewer = await userWithRole(t, 'VIEWER');
  browser = await launchChromium();
  if (saveShots) await mkdir(SHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await worker?.stop();
  await t?.close();
});

async function newPage(width = 1280): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  page.setDefaultTimeout(15_000);
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  return page;
}

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.goto(`${web.url}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${web.url}/`);
}

async function shot(page: Page, name: string): Promise<void> {
  if (saveShots) await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

let runUrl = '';
const POLL = { timeout: 20_000, interval: 200 };

describe('an admin in the browser', () => {
  // A long walk of condition waits (each bounded by POLL or the page's default
  // timeout): ~40 s on an idle machine, so its budget is well above the 60 s default.
  it('builds a container, a pattern and a two-task mission with a gate, runs it, approves with notes, and sees it complete', { timeout: 240_000 }, async () => {
    const page = await newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD);

    // A container.
    await page.goto(`${web.url}/containers/new`);
    await page.locator('#cf-name').fill('Outreach');
    await page.locator('#cf-category').selectOption('messaging');
    await page.locator('#container-form button[type=submit]').click();
    await page.waitForURL(/\/containers\/[0-9a-f-]{36}$/);

    // A pattern: the syntax is checked as we type.
    await page.goto(`${web.url}/patterns/new`);
    await page.locator('#pf-name').fill('draft-email');
    await page.locator('#pf-container').selectOption({ label: 'Outreach (messaging)' });
    await page.locator('#pf-code').fill('async (input, ctx) => {\n  ctx.log("drafting for", input.to)\n  return { to: input.to, text: `Hi ${input.to}` + (ctx.notes ? ` (${ctx.notes})` : "") \n');
    await expect.poll(() => page.locator('#code-check').textContent(), POLL).toMatch(/line \d+, column \d+/i);
    await page.locator('#pf-code').fill('async (input, ctx) => {\n  ctx.log("drafting for", input.to)\n  return { to: input.to, text: `Hi ${input.to}` }\n}');
    await expect.poll(() => page.locator('#code-check').textContent(), POLL).toMatch(/^Syntax OK/);
    await shot(page, 'pattern-editor');
    await page.locator('#pattern-form button[type=submit]').first().click();
    await page.waitForURL(/\/patterns\/[0-9a-f-]{36}$/);

    // A mission with two tasks; the first waits for approval.
    await page.goto(`${web.url}/missions/new`);
    await page.getByLabel('Name', { exact: true }).first().fill('Spring outreach');
    // Choosing the container reloads the task rows (htmx swaps #planner-tasks).
    // The rows shown before the swap may already list the pattern, so wait for
    // the swap itself: a row filled in before it lands would be replaced by an
    // empty one, and the mission would not be created.
    await page.locator('#planner-tasks').evaluate((el) => el.setAttribute('data-before-swap', ''));
    await page.locator('#m-container').selectOption({ label: 'Outreach (messaging)' });
    await page.locator('#planner-tasks[data-before-swap]').waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('select[name$="[source]"] option', { hasText: 'draft-email' }).count(), POLL).toBeGreaterThan(0);
    const first = page.locator('.task-row').nth(0);
    await first.getByLabel('Name').fill('draft');
    await first.locator('select[name$="[source]"]').selectOption({ label: 'draft-email (v1)' });
    await first.locator('textarea[name$="[input]"]').fill('{"to": "ada@example.com"}');
    await first.getByLabel('Needs approval').check();
    await page.getByRole('button', { name: 'Add a task' }).click();
    const second = page.locator('.task-row').nth(1);
    await second.waitFor({ state: 'visible' });
    await second.getByLabel('Name').fill('follow-up');
    await second.getByLabel('Order').fill('1');
    await second.locator('select[name$="[source]"]').selectOption({ label: 'draft-email (v1)' });
    await second.locator('textarea[name$="[input]"]').fill('{"to": "bob@example.com"');
    await second.getByText(/not valid JSON/i).waitFor(); // checked inline as we type
    await second.locator('textarea[name$="[input]"]').fill('{"to": "bob@example.com"}');
    await page.locator('#m-cron').fill('0 9 * * 1-5');
    await expect.poll(() => page.locator('#cron-preview').textContent(), POLL).toContain('Monday through Friday');
    await shot(page, 'mission-planner');
    await page.getByRole('button', { name: 'Create mission' }).click();
    await page.waitForURL(/\/missions\/[0-9a-f-]{36}$/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('Spring outreach');

    // Run it and watch the run view update by itself.
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.waitForURL(/\/runs\/mission-/);
    runUrl = page.url();
    await expect.poll(async () => (await page.locator('#run h1 .pill').textContent())?.trim(), POLL).toBe('Needs approval');
    await expect.poll(() => page.locator('#run').textContent(), POLL).toContain('Waiting for a decision');
    await shot(page, 'run-view');

    // Approve from the inbox, with notes.
    await page.goto(`${web.url}/approvals`);
    await expect.poll(() => page.locator('#inbox').textContent(), POLL).toContain('draft');
    await expect.poll(() => page.locator('#inbox pre').textContent(), POLL).toContain('ada@example.com');
    await shot(page, 'approvals');
    await page.getByRole('button', { name: 'With notes…' }).click();
    await page.getByLabel('Notes (kept with the decision)').fill('Looks good, send it');
    await page.getByRole('button', { name: 'Approve with notes' }).click();
    await expect.poll(() => page.locator('#inbox').textContent(), POLL).toContain('approve with notes recorded');

    // The run completes, and the page shows it without a reload.
    await page.goto(runUrl);
    await expect.poll(async () => (await page.locator('#run h1 .pill').textContent())?.trim(), POLL).toBe('Completed');
    await expect.poll(() => page.locator('#run').textContent(), POLL).toContain('approve with notes by admin — Looks good, send it');
    await expect.poll(() => page.locator('#progress-bar').getAttribute('value'), POLL).toBe('100');
    await shot(page, 'run-completed');

    await page.goto(`${web.url}/`);
    await expect.poll(() => page.locator('#col-Completed').textContent(), POLL).toContain('Completed');
    await expect.poll(() => page.locator('#board').textContent(), POLL).toContain('Spring outreach');
    await shot(page, 'board');
    for (const [name, url] of [['patterns', '/patterns'], ['schedules', '/schedules'], ['audit', '/audit'], ['settings', '/settings']] as const) {
      await page.goto(`${web.url}${url}`);
      await shot(page, name);
    }
    const narrow = await newPage(390);
    await narrow.context().addCookies(await page.context().cookies());
    await narrow.goto(`${web.url}/`);
    await narrow.locator('#board').getByText('Spring outreach').first().waitFor(); // measured with the board filled in
    const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0); // the page itself never scrolls sideways (the board scrolls within)
    await shot(narrow, 'board-narrow');
    expect(consoleErrors).toEqual([]);
  });
});

describe('a viewer in the browser', () => {
  it('sees no mutating controls, and a forged post is refused', { timeout: 120_000 }, async () => {
    expect(runUrl, 'the run made by the admin test above').toMatch(/\/runs\/mission-/);
    const page = await newPage();
    await signIn(page, viewer.username, viewer.password);
    for (const url of ['/', runUrl.replace(web.url, ''), '/missions', '/approvals', '/patterns', '/schedules', '/settings']) {
      await page.goto(`${web.url}${url}`);
      const mutating = await page.locator('form[method=post]:not([action="/logout"]), [hx-post], [hx-delete]').count();
      expect(mutating, `mutating controls on ${url}`).toBe(0);
    }
    // A hand-made post with the viewer's own session and CSRF token: the server says no.
    await page.goto(runUrl);
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const forged = await page.request.post(`${runUrl}/cancel`, { form: { _csrf: csrf }, headers: { Origin: web.url } });
    expect(forged.status()).toBe(403);
    const crossSite = await page.request.post(`${web.url}/settings/safety/dry-run`, { form: { _csrf: csrf, dryRun: 'false' }, headers: { Origin: 'https://evil.example' } });
    expect(crossSite.status()).toBe(403);
    const { safety } = await (await fetch(`${web.url}/api/settings/safety`, { headers: { Authorization: `Bearer ${(await userWithRole(t, 'VIEWER')).token}` } })).json() as { safety: { dryRun: boolean } };
    expect(safety.dryRun).toBe(true);
  });
});

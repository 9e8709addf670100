/// <reference lib="dom" />
// Seed 002's day in a real browser, on the sample data that ships: an admin
// runs the five example jobs now from their mission pages, sees the leads
// appear and get scored, approves the outreach drafts with notes from a
// draft's page (the drafting run's gate takes it), requests changes on the
// post, overrides a score with a reason, and reads the brief on its run.
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type RunningWeb } from '../../api/server';
import { seedExamples } from '../../core/missions/examples';
import type { RunningWorker } from '../../worker';
import { createTestApp, type TestApp } from '../helpers/app';
import { clickAndLoad, launchChromium, signedInPage } from '../helpers/browser';
import { result, waitFor } from '../helpers/missions';
import { startTestWorker } from '../helpers/worker';

let t: TestApp;
let worker: RunningWorker;
let web: RunningWeb;
let browser: Browser;
const consoleErrors: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  worker = await startTestWorker(t);
  expect(await seedExamples(t.db.sql, t.deps.temporal, (code) => t.deps.sandbox.check(code))).toBe(true);
  web = await startWebServer(t.deps, { port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await worker?.stop();
  await t?.close();
});

/** Runs the job from its mission page (the Run button); returns the run's workflow id, from the page it lands on. */
async function runNow(page: Page, job: string): Promise<string> {
  await page.goto(`${web.url}/missions`);
  await page.getByRole('link', { name: job, exact: true }).first().click();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.waitForURL(/\/runs\/mission-/);
  return decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
}

describe("the outreach day, in a browser", () => {
  it('runs the five jobs, scores the leads, decides drafts, overrides a score and reads the brief', async () => {
    const page = await signedInPage(browser, web.url, consoleErrors);

    expect((await result(t, await runNow(page, 'lead_research'))).status).toBe('Completed');
    await page.goto(`${web.url}/leads`);
    for (const name of ['Dana Whitfield', 'Raj Patel', 'Mei Chen', 'Luc Tremblay', 'Aisha Mohamed', 'Tom Kowalski']) {
      expect(await page.getByRole('link', { name }).count()).toBe(1);
    }

    expect((await result(t, await runNow(page, 'enrichment_scoring'))).status).toBe('Completed');
    await page.goto(`${web.url}/leads`);
    await page.getByRole('link', { name: 'Dana Whitfield' }).click();
    await expect.poll(() => page.locator('#lead-title .outreach-status').textContent()).toBe('Enriched');
    expect(await page.locator('#score .outreach-effective').textContent()).toContain('A');

    // Drafting waits at its gate with four drafts in the inbox; approving one with notes decides the gate.
    const drafting = await runNow(page, 'outreach_drafting_qa');
    await waitFor(t, drafting, (p) => p.status === 'NeedsApproval');
    await page.goto(`${web.url}/drafts`);
    await page.getByRole('link', { name: 'A faster way to list inventory, Northside Motors' }).click();
    await page.getByLabel('Notes for version 1').fill('Lead with the demo');
    await clickAndLoad(page, 'Approve with notes');
    await expect.poll(() => page.locator('#draft-title .outreach-status').textContent()).toBe('Approved');
    expect((await result(t, drafting)).status).toBe('Completed');
    await page.goto(`${web.url}/drafts?status=APPROVED`);
    expect(await page.getByRole('link', { name: /^A faster way to list inventory, / }).count()).toBe(4);

    // The post: changes requested from its page; its task writes it again, and it waits once more.
    const content = await runNow(page, 'content_research_creation_qa');
    await waitFor(t, content, (p) => p.status === 'NeedsApproval');
    await page.goto(`${web.url}/drafts`);
    await page.getByRole('link', { name: 'Post: spring inventory' }).click();
    await page.getByLabel('Notes for version 1').fill('Name the models');
    await clickAndLoad(page, 'Request changes');
    await waitFor(t, content, (p) => p.status === 'NeedsApproval' && p.tasks[0]!.runs === 2);
    await page.reload();
    await expect.poll(() => page.locator('#draft-title .outreach-status').textContent()).toBe('Needs approval');
    expect(await page.locator('#decisions').textContent()).toContain('Name the models');

    // A score overridden with a reason.
    await page.goto(`${web.url}/leads`);
    await page.getByRole('link', { name: 'Mei Chen' }).click();
    await page.getByLabel('Override score').selectOption('B');
    await page.getByLabel('Reason (required)').fill('Opening a second garage');
    await clickAndLoad(page, 'Override score');
    await expect.poll(() => page.locator('#score .outreach-override').textContent()).toContain('Opening a second garage');

    // The brief, on its run's page.
    const brief = await runNow(page, 'daily_brief');
    expect((await result(t, brief)).status).toBe('Completed');
    await page.reload();
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).toContain('6 new leads');
    expect(text).toContain('4 drafts approved');
    expect(text).toContain('1 drafts wait for a decision');
    expect(consoleErrors).toEqual([]);
  });
});

/// <reference lib="dom" />
// The approvals inbox when two runs of one mission wait at once: every id on
// the page is unique per run and task, each decision button names its task
// and mission, the toggled forms take focus and close on Escape, a decision
// reaches only its own run, and the inbox narrows to one mission and stays
// narrowed through its own refresh and after a decision. In a real Chromium
// (playwright-core) and through app.request().
import { type Browser as Chromium, type Locator, type Page } from 'playwright-core';
import { launchChromium, signedInPage } from '../helpers/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type RunningWeb } from '../../api/server';
import { ADMIN_PASSWORD, apiClient, createTestApp, signIn, userWithRole, type ApiClient, type Browser, type TestApp } from '../helpers/app';
import { ADMIN_TOKEN } from '../helpers/env';
import { eventually, execute, makeContainer, makeMission, makePattern, progress, waitFor } from '../helpers/missions';
import { startTestWorker } from '../helpers/worker';
import type { RunningWorker } from '../../worker';

const OUTREACH = 'Outreach';
const DIGEST = 'Digest & <b>"news"</b>';
const DIGEST_HTML = 'Digest &amp; &lt;b&gt;&quot;news&quot;&lt;/b&gt;';
const HTMX = { headers: { 'HX-Request': 'true' } };
const POLL = { timeout: 20_000, interval: 200 };

let t: TestApp;
let worker: RunningWorker;
let web: RunningWeb;
let chromiumBrowser: Chromium;
let api: ApiClient;
let admin: Browser;
let viewer: Browser;
let outreach: string;
let digest: string;
const outreachRuns: string[] = [];
const digestRuns: string[] = [];
const consoleErrors: string[] = [];
/** Every run this file starts: ended before its worker stops, so no other file's inbox meets a run nobody answers for. */
const started: string[] = [];

/** A run of the mission, once its gated task waits for a decision. */
async function waitingRun(missionId: string): Promise<string> {
  const workflowId = await execute(api, missionId);
  started.push(workflowId);
  await waitFor(t, workflowId, (p) => p.status === 'NeedsApproval');
  return workflowId;
}

const runHref = (workflowId: string) => `/runs/${encodeURIComponent(workflowId)}`;

/** The inbox's HTML once it lists every one of these runs (Temporal's visibility lags a run a moment). */
async function inboxListing(b: Browser, path: string, workflowIds: string[]): Promise<string> {
  const html = await eventually(async () => (await b.get(path)).text(), (h) => workflowIds.every((wf) => h.includes(`href="${runHref(wf)}"`)));
  for (const wf of workflowIds) expect(html, `${wf} in ${path}`).toContain(`href="${runHref(wf)}"`);
  return html;
}

/** Each approval card's HTML, keyed by the run it belongs to. */
function cards(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const card of html.split('<article').slice(1)) {
    const wf = /href="\/runs\/([^"/]+)"/.exec(card)?.[1];
    if (wf) out.set(decodeURIComponent(wf), card.slice(0, card.indexOf('</article>')));
  }
  return out;
}

const ids = (html: string) => [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
const attrs = (html: string, name: string) => [...html.matchAll(new RegExp(`\\s${name}="([^"]+)"`, 'g'))].map((m) => m[1]!);
const version = (html: string) => /data-live="\/approvals\?[^"]*v=([\w-]+)"/.exec(html)?.[1];

beforeAll(async () => {
  t = await createTestApp();
  worker = await startTestWorker(t);
  web = await startWebServer(t.deps, { port: 0, host: '127.0.0.1' });
  api = apiClient(t, ADMIN_TOKEN);
  const v = await userWithRole(t, 'VIEWER');
  [admin, viewer] = await Promise.all([signIn(t, 'admin', ADMIN_PASSWORD), signIn(t, v.username, v.password)]);
  const containerId = await makeContainer(api);
  const pattern = await makePattern(api, containerId, 'async (input) => ({ draft: `Hi ${input.to}` })', { failureAction: 'skip' });
  const gated = (name: string) => makeMission(api, { name, containerId, tasks: [{ name: 'draft', order: 0, patternId: pattern, input: { to: 'Ada' }, requiresApproval: true }] });
  [outreach, digest] = await Promise.all([gated(OUTREACH), gated(DIGEST)]);
  outreachRuns.push(await waitingRun(outreach), await waitingRun(outreach));
  digestRuns.push(await waitingRun(digest));
  chromiumBrowser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await chromiumBrowser?.close();
  await web?.close();
  await Promise.all(started.map((wf) => t.deps.temporal.client.workflow.getHandle(wf).terminate('the test file is done').catch(() => undefined)));
  await worker?.stop();
  await t?.close();
});

describe('the inbox with two runs of one mission waiting', () => {
  it('gives every element an id of its own, built from the run and the task, and each card controls only its own forms', async () => {
    const html = await inboxListing(admin, '/approvals', [...outreachRuns, ...digestRuns]);
    const all = ids(html);
    expect(all.filter((id, i) => all.indexOf(id) !== i), 'ids used twice').toEqual([]);
    const [first, second] = outreachRuns.map((wf) => cards(html).get(wf)!);
    expect(first).toBeTruthy();
    expect(second).toBeTruthy();
    for (const card of [first!, second!]) {
      const own = ids(card);
      expect(own.every((id) => /^[A-Za-z0-9_-]+$/.test(id)), own.join(' ')).toBe(true);
      // Each toggle opens a form of its own card; each label is for a field of its own card.
      const controls = attrs(card, 'aria-controls');
      expect(controls).toHaveLength(3);
      for (const id of [...controls, ...attrs(card, 'for'), ...attrs(card, 'aria-labelledby')]) expect(own, id).toContain(id);
      expect(attrs(card, 'data-toggle')).toEqual(controls);
    }
    // Same mission, same task: nothing of the first card is named like the second.
    expect(ids(first!).filter((id) => ids(second!).includes(id))).toEqual([]);
  });

  it('names the task and the mission on every decision button, escaped', async () => {
    const html = await inboxListing(admin, `/approvals?missionId=${digest}`, digestRuns);
    const card = cards(html).get(digestRuns[0]!)!;
    const labels = attrs(card, 'aria-label');
    expect(labels).toEqual([
      `Approve “draft” in ${DIGEST_HTML}`, `Reject “draft” in ${DIGEST_HTML}`, `Approve “draft” in ${DIGEST_HTML} with notes…`,
      `Request changes to “draft” in ${DIGEST_HTML}…`, `Edit and approve “draft” in ${DIGEST_HTML}…`,
    ]);
    expect(card).toContain(`hx-confirm="Reject “draft” in ${DIGEST_HTML}?"`);
    expect(html).not.toContain(DIGEST);
  });
});

describe('the inbox narrowed to one mission', () => {
  it('shows only that mission’s runs, with the mission chosen in the filter', async () => {
    const html = await inboxListing(admin, `/approvals?missionId=${outreach}`, outreachRuns);
    expect([...cards(html).keys()].sort()).toEqual([...outreachRuns].sort());
    expect(html).toMatch(new RegExp(`<option value="${outreach}" selected>${OUTREACH}</option>`));
    expect(html).toContain(`<option value="${digest}">${DIGEST_HTML}</option>`);
    expect(html).toContain(`data-live="/approvals?missionId=${outreach}&amp;v=${version(html)}"`);
    const everything = await admin.get('/approvals?missionId=');
    expect(everything.status).toBe(200);
    expect(cards(await everything.text()).has(digestRuns[0]!)).toBe(true);
  });

  it('keeps the filter through its own refresh: unchanged is a 204, a new run of the mission shows, others do not', async () => {
    const first = await inboxListing(admin, `/approvals?missionId=${digest}`, digestRuns);
    const v = version(first)!;
    const same = await admin.get(`/approvals?missionId=${digest}&v=${v}`, HTMX);
    expect(same.status).toBe(204);
    // The same version means nothing for another mission's inbox.
    const other = await admin.get(`/approvals?missionId=${outreach}&v=${v}`, HTMX);
    expect(other.status).toBe(200);
    expect([...cards(await other.text()).keys()].sort()).toEqual([...outreachRuns].sort());

    digestRuns.push(await waitingRun(digest));
    const refreshed = await eventually(
      async () => admin.get(`/approvals?missionId=${digest}&v=${v}`, HTMX),
      (r) => r.status === 200,
    );
    expect(refreshed.status).toBe(200);
    const html = await refreshed.text();
    expect(html).toMatch(/^<div id="inbox"/);
    expect(html).toContain(`data-live="/approvals?missionId=${digest}&amp;v=`);
    const shown = [...(await inboxListing(admin, `/approvals?missionId=${digest}`, digestRuns).then(cards)).keys()];
    expect(shown.sort()).toEqual([...digestRuns].sort());
  });

  it('answers a bad mission id with a readable 400, and an unknown mission with a 404', async () => {
    for (const path of ['/approvals?missionId=not-a-uuid', '/approvals?missionId=1%27%20or%201%3D1']) {
      const res = await admin.get(path);
      expect(res.status, path).toBe(400);
      const html = await res.text();
      expect(html).toContain('Not a valid mission id; choose a mission from the list.');
      expect(html).not.toContain('Something went wrong');
    }
    const polled = await admin.get('/approvals?missionId=nope&v=x', HTMX);
    expect(polled.status).toBe(400);
    expect(JSON.parse(polled.headers.get('hx-trigger')!)).toMatchObject({ flash: { kind: 'error', text: expect.stringContaining('Not a valid mission id') } });
    const unknown = await admin.get('/approvals?missionId=00000000-0000-4000-8000-000000000000');
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('Mission was not found.');
  });

  it('comes back narrowed after a decision taken from it, and refuses a bad filter before deciding', async () => {
    const [decided, left] = digestRuns as [string, string];
    const taskId = (await progress(t, decided)).pendingApprovals[0]!.taskId;
    const bad = await admin.post(`/runs/${decided}/decide`, { taskId, action: 'approve', from: 'inbox', missionId: 'x' }, HTMX);
    expect(bad.status).toBe(400);
    expect((await progress(t, decided)).pendingApprovals).toHaveLength(1);

    const res = await admin.post(`/runs/${decided}/decide`, { taskId, action: 'approve', from: 'inbox', missionId: digest }, HTMX);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('draft: approve recorded.');
    expect(html).toContain(`data-live="/approvals?missionId=${digest}&amp;v=`);
    expect(html).toContain(`name="missionId" value="${digest}"`);
    for (const wf of cards(html).keys()) expect([left, decided]).toContain(wf);
    expect((await t.deps.temporal.client.workflow.getHandle(decided).result()).tasks[0]!.decisions).toEqual([expect.objectContaining({ action: 'approve' })]);

    const plain = await admin.post(`/runs/${left}/decide`, { taskId, action: 'reject', from: 'inbox', missionId: digest });
    expect(plain.status).toBe(303);
    expect(plain.headers.get('location')).toBe(`/approvals?missionId=${digest}`);
    digestRuns.splice(0, 2);
  });

  it('shows a viewer the cards without a decision control, and refuses the viewer’s decision', async () => {
    const html = await inboxListing(viewer, `/approvals?missionId=${outreach}`, outreachRuns);
    expect(html).not.toContain('/decide');
    expect(html).toContain(`<select id="ap-mission" name="missionId">`);
    const taskId = (await progress(t, outreachRuns[0]!)).pendingApprovals[0]!.taskId;
    expect((await viewer.post(`/runs/${outreachRuns[0]}/decide`, { taskId, action: 'approve', from: 'inbox' })).status).toBe(403);
    expect((await progress(t, outreachRuns[0]!)).pendingApprovals).toHaveLength(1);
  });
});

const newPage = (): Promise<Page> => signedInPage(chromiumBrowser, web.url, consoleErrors);

const cardOf = (page: Page, workflowId: string): Locator =>
  page.locator('article.approval-card', { has: page.locator(`a[href="${runHref(workflowId)}"]`) });
const focusedId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? '');

describe('an admin in the browser', () => {
  it('opens “With notes…” on the second of two runs of one mission, types into it and decides only that run', { timeout: 120_000 }, async () => {
    const page = await newPage();
    await page.goto(`${web.url}/approvals`);
    const [firstRun, secondRun] = outreachRuns as [string, string];
    const first = cardOf(page, firstRun);
    const second = cardOf(page, secondRun);
    await second.waitFor();
    await first.waitFor();

    // Every decision button says which task of which mission, exactly.
    for (const name of [`Approve “draft” in ${OUTREACH}`, `Reject “draft” in ${OUTREACH}`, `Approve “draft” in ${OUTREACH} with notes…`, `Request changes to “draft” in ${OUTREACH}…`, `Edit and approve “draft” in ${OUTREACH}…`]) {
      await expect.poll(() => second.getByRole('button', { name, exact: true }).count(), POLL).toBe(1);
    }

    const toggle = second.getByRole('button', { name: `Approve “draft” in ${OUTREACH} with notes…`, exact: true });
    await toggle.click();
    const form = second.locator('form:has(textarea[name=notes]):has(input[value=approve_with_notes])');
    await form.waitFor({ state: 'visible' });
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    const field = form.locator('textarea');
    expect(await focusedId(page)).toBe(await field.getAttribute('id'));
    // The first card's form stays shut.
    expect(await first.locator('form:has(input[value=approve_with_notes])').isHidden()).toBe(true);
    expect(await first.getByRole('button', { name: /with notes…$/ }).getAttribute('aria-expanded')).toBe('false');

    await page.keyboard.type('Only the second run');
    expect(await field.inputValue()).toBe('Only the second run');
    await form.getByRole('button', { name: `Approve with notes for “draft” in ${OUTREACH}`, exact: true }).click();
    await expect.poll(() => page.locator('#inbox').textContent(), POLL).toContain('draft: approve with notes recorded.');

    const decided = await t.deps.temporal.client.workflow.getHandle(secondRun).result();
    expect(decided.tasks[0]!.decisions).toEqual([expect.objectContaining({ action: 'approve_with_notes', notes: 'Only the second run', actor: 'admin' })]);
    const untouched = await progress(t, firstRun);
    expect(untouched.status).toBe('NeedsApproval');
    expect(untouched.tasks[0]!.decisions).toEqual([]);
    await expect.poll(() => second.count(), POLL).toBe(0);
    outreachRuns.splice(1, 1);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('moves focus into “Request changes…” and “Edit and approve…”, and Escape closes them back onto their toggle', { timeout: 60_000 }, async () => {
    const page = await newPage();
    await page.goto(`${web.url}/approvals?missionId=${outreach}`);
    const card = cardOf(page, outreachRuns[0]!);
    await card.waitFor();
    for (const [name, field] of [[`Request changes to “draft” in ${OUTREACH}…`, 'notes'], [`Edit and approve “draft” in ${OUTREACH}…`, 'output']] as const) {
      const toggle = card.getByRole('button', { name, exact: true });
      await toggle.click();
      const form = page.locator(`#${await toggle.getAttribute('aria-controls')}`);
      await form.waitFor({ state: 'visible' });
      const textarea = form.locator(`textarea[name=${field}]`);
      expect(await focusedId(page)).toBe(await textarea.getAttribute('id'));
      await page.keyboard.press('Escape');
      await form.waitFor({ state: 'hidden' });
      expect(await toggle.getAttribute('aria-expanded')).toBe('false');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-controls') ?? '')).toBe(await toggle.getAttribute('aria-controls'));
    }
    expect((await progress(t, outreachRuns[0]!)).pendingApprovals).toHaveLength(1);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('keeps what is being typed: a note half-written survives another run’s approval arriving, pushed', { timeout: 90_000 }, async () => {
    const page = await newPage();
    await page.goto(`${web.url}/approvals?missionId=${outreach}`);
    const card = cardOf(page, outreachRuns[0]!);
    await card.waitFor();
    await expect.poll(() => page.locator('#live-status').getAttribute('data-state'), POLL).toBe('live');
    await card.getByRole('button', { name: `Approve “draft” in ${OUTREACH} with notes…`, exact: true }).click();
    await page.keyboard.type('Half a thought');
    const notes = card.locator('form:has(input[value=approve_with_notes]) textarea');
    outreachRuns.push(await waitingRun(outreach));
    // The new run's card arrives by the stream, into the same page: no reload, nothing typed lost.
    await cardOf(page, outreachRuns[1]!).waitFor({ timeout: 30_000 });
    expect(await notes.inputValue()).toBe('Half a thought');
    expect(await notes.isVisible()).toBe(true);
    expect(await notes.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press('Escape');
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('narrows the inbox with the mission filter, keeps it in the address, and its refresh keeps it too', { timeout: 90_000 }, async () => {
    const page = await newPage();
    await page.goto(`${web.url}/approvals`);
    await cardOf(page, outreachRuns[0]!).waitFor();
    await page.getByLabel('Mission', { exact: true }).selectOption({ label: DIGEST });
    await page.waitForURL(`${web.url}/approvals?missionId=${digest}`);
    await cardOf(page, outreachRuns[0]!).waitFor({ state: 'detached' });
    expect(await page.locator('#inbox').textContent()).toContain('Nothing of this mission is waiting for a decision.');
    // A run of the chosen mission appears by the inbox's own refresh, and nothing of the other mission with it.
    digestRuns.push(await waitingRun(digest));
    await cardOf(page, digestRuns[0]!).waitFor({ timeout: 30_000 });
    expect(await page.locator('#inbox article.approval-card').count()).toBe(1);
    expect(await page.locator('#inbox').getAttribute('data-live')).toMatch(new RegExp(`^/approvals\\?missionId=${digest}&v=`));
    expect(consoleErrors).toEqual([]);
    await page.close();
  });
});

describe('the planner in the browser', () => {
  it('makes Type scheduled when “Run on a schedule” is ticked and manual again when unticked, and the other way round', { timeout: 60_000 }, async () => {
    const page = await newPage();
    await page.goto(`${web.url}/missions/new`);
    const type = page.locator('#m-type');
    const box = page.getByLabel('Run on a schedule', { exact: true });
    expect(await type.inputValue()).toBe('manual');
    expect(await box.isChecked()).toBe(false);
    await box.check();
    expect(await type.inputValue()).toBe('scheduled');
    await box.uncheck();
    expect(await type.inputValue()).toBe('manual');
    await type.selectOption('scheduled');
    expect(await box.isChecked()).toBe(true);
    await type.selectOption('manual');
    expect(await box.isChecked()).toBe(false);
    // A webhook mission keeps its trigger whether or not it also runs on a schedule.
    await type.selectOption('triggered');
    await box.check();
    expect(await type.inputValue()).toBe('triggered');
    await box.uncheck();
    expect(await type.inputValue()).toBe('triggered');
    expect(consoleErrors).toEqual([]);
    await page.close();
  });
});

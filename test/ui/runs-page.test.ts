/// <reference lib="dom" />
// The Runs page: filters that narrow the list, start order either way with
// pages that neither skip nor repeat a run, one convention for times, charts
// of the filtered runs, and cancelling a selection of open runs (operators
// only, each audited once) — over the real app, worker and Temporal, and in
// Chromium.
import { type Browser as Chromium } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type RunningWeb } from '../../api/server';
import { listAudit } from '../../core/audit/audit-log';
import { listRuns, runQuery, type RunSummary } from '../../core/runs/visibility';
import { signIn, userWithRole, type Browser, type TestApp } from '../helpers/app';
import { eventually, execute, makeContainer, makeMission, makePattern, missionEnv, result, waitFor, type MissionEnv } from '../helpers/missions';

let env: MissionEnv;
let t: TestApp;
let operator: Browser;
let viewer: Browser;
let operatorLogin: { username: string; password: string };
let quick: string;
/** The list tests' runs, in the order they started; none is cancelled. */
const started: string[] = [];
let gatedMission: string;
let quickMission: string;

const HTMX = { 'HX-Request': 'true' };
const rowsOf = (html: string) => [...html.matchAll(/<tr data-workflow-id="([^"]+)"/g)].map((m) => m[1]!);
/** A mission whose one task waits for approval: its runs stay open, costing no sandbox thread. */
async function gated(containerId: string): Promise<string> {
  const patternId = containerId === env.containerId ? quick : await makePattern(env.admin, containerId, 'async () => ({ ok: true })');
  return makeMission(env.operator, { containerId, tasks: [{ name: 'gate', order: 0, patternId, requiresApproval: true }] });
}
const waiting = async (workflowId: string) => (await waitFor(t, workflowId, (p) => p.status === 'NeedsApproval'), workflowId);
const statusOf = async (workflowId: string) => (await t.deps.temporal.client.workflow.getHandle(workflowId).describe()).status.name;
const audits = async (action: string, entityId: string) => (await listAudit(t.db.sql, { action, entityId, limit: 20 })).length;
async function listed(path: string, n: number, b: Browser = viewer): Promise<{ status: number; html: string; ids: string[] }> {
  // Visibility lags a run by design: read until the list holds the runs the test made.
  return eventually(async () => {
    const res = await b.get(path);
    const html = await res.text();
    return { status: res.status, html, ids: rowsOf(html) };
  }, (r) => r.ids.length === n);
}

beforeAll(async () => {
  env = await missionEnv();
  t = env.t;
  quick = await makePattern(env.admin, env.containerId, 'async () => ({ ok: true })');
  gatedMission = await gated(env.containerId);
  quickMission = await makeMission(env.operator, { containerId: env.containerId, tasks: [{ name: 'only', order: 0, patternId: quick }] });
  operatorLogin = await userWithRole(t, 'OPERATOR');
  const viewerLogin = await userWithRole(t, 'VIEWER');
  [operator, viewer] = await Promise.all([signIn(t, operatorLogin.username, operatorLogin.password), signIn(t, viewerLogin.username, viewerLogin.password)]);
  // Closed and open runs interleaved: visibility lists the open ones first, then by close time.
  for (const kind of ['quick', 'gated', 'quick', 'gated', 'quick']) {
    const wf = await execute(env.operator, kind === 'quick' ? quickMission : gatedMission);
    if (kind === 'quick') await result(t, wf);
    else await waiting(wf);
    started.push(wf);
  }
  // Five more at once, so that paging by one crosses the narrowing of the oldest-first window.
  const burst = await Promise.all(Array.from({ length: 5 }, () => execute(env.operator, quickMission)));
  await Promise.all(burst.map((wf) => result(t, wf)));
  const starts = await Promise.all(burst.map(async (wf) => {
    const d = await t.deps.temporal.client.workflow.getHandle(wf).describe();
    return [wf, d.startTime.getTime(), d.runId] as const;
  }));
  // Runs started in the same millisecond are in run id order, as the list puts them (core/runs/visibility.ts).
  started.push(...starts.sort((a, b) => a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0)).map(([wf]) => wf));
}, 180_000);

afterAll(async () => {
  // Runs left waiting for a decision do not outlive the file on the shared server.
  const open = t ? t.deps.temporal.client.workflow.list({ query: `${runQuery({})} AND ExecutionStatus = 'Running' AND TaskQueue = '${t.config.TEMPORAL_TASK_QUEUE}'` }) : [];
  for await (const r of open) await t.deps.temporal.client.workflow.getHandle(r.workflowId).terminate('test over').catch(() => {});
  await env?.close();
});

describe('the runs list', () => {
  it('shows runs newest first by start time, oldest first on request, though Temporal keeps them in another order', async () => {
    const newest = [...started].reverse();
    const raw: string[] = [];
    for await (const r of t.deps.temporal.client.workflow.list({ query: runQuery({ containerId: env.containerId }) })) raw.push(r.workflowId);
    expect(raw, 'visibility itself lists the open runs first').not.toEqual(newest);

    const page = await listed(`/runs?containerId=${env.containerId}`, started.length);
    expect(page.status).toBe(200);
    expect(page.ids).toEqual(newest);
    expect(page.html).toContain('aria-sort="descending"');
    const oldest = await listed(`/runs?containerId=${env.containerId}&sort=oldest`, started.length);
    expect(oldest.ids).toEqual(started);
    expect(oldest.html).toContain('aria-sort="ascending"');
  });

  it('pages by start time without skipping or repeating a run, both ways', async () => {
    for (const order of ['newest', 'oldest'] as const) {
      for (const limit of [1, 2, 3]) {
        const seen: RunSummary[] = [];
        let cursor: string | null = null;
        do {
          const at: { before?: Date; after?: Date } = cursor ? (order === 'newest' ? { before: new Date(cursor) } : { after: new Date(cursor) }) : {};
          const page = await listRuns(t.deps.temporal, { containerId: env.containerId, ...at }, limit, order);
          expect(page.runs.length, `${order} by ${limit}`).toBeGreaterThan(0);
          seen.push(...page.runs);
          cursor = page.next;
        } while (cursor && seen.length <= started.length);
        expect(seen.map((r) => r.workflowId), `${order} by ${limit}`).toEqual(order === 'newest' ? [...started].reverse() : started);
      }
    }
    // Through the page: the link to the next page carries the cursor.
    const html = await (await viewer.get(`/runs?containerId=${env.containerId}&sort=oldest`)).text();
    expect(html).not.toContain('Newer runs →'); // ten runs fit on one page
  });

  it('narrows by status, mission, trigger, container and start date, with readable status names', async () => {
    const gatedRuns = [started[3]!, started[1]!];
    const needs = await listed(`/runs?containerId=${env.containerId}&status=NeedsApproval`, 2);
    expect(needs.ids).toEqual(gatedRuns);
    expect(needs.html).toContain('>Needs approval</span>');
    expect(needs.html).toContain('<option value="NeedsApproval" selected>Needs approval</option>');
    expect(needs.html).not.toMatch(/>NeedsApproval</);
    expect((await listed(`/runs?containerId=${env.containerId}&status=Completed`, 8)).ids).toEqual([...started].reverse().filter((w) => !gatedRuns.includes(w)));
    expect((await listed(`/runs?missionId=${gatedMission}`, 2)).ids).toEqual(gatedRuns);
    expect((await listed(`/runs?containerId=${env.containerId}&trigger=manual`, 10)).ids).toHaveLength(10);
    expect((await listed(`/runs?containerId=${env.containerId}&trigger=scheduled`, 0)).ids).toEqual([]);
    expect((await listed(`/runs?containerId=${await makeContainer(env.admin)}`, 0)).ids).toEqual([]);

    const d = await t.deps.temporal.client.workflow.getHandle(started[0]!).describe();
    const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const first = dayOf(d.startTime.getTime());
    const last = dayOf(Date.now());
    expect((await listed(`/runs?containerId=${env.containerId}&from=${first}&to=${last}`, 10)).ids).toHaveLength(10);
    expect((await listed(`/runs?containerId=${env.containerId}&to=${dayOf(d.startTime.getTime() - 86_400_000)}`, 0)).ids).toEqual([]);
    expect((await listed(`/runs?containerId=${env.containerId}&from=${dayOf(Date.now() + 86_400_000)}`, 0)).ids).toEqual([]);
    // To the millisecond: from the third run's start on, the last eight.
    const third = (await t.deps.temporal.client.workflow.getHandle(started[2]!).describe()).startTime.toISOString();
    expect((await listed(`/runs?containerId=${env.containerId}&from=${encodeURIComponent(third)}`, 8)).ids).toEqual([...started].reverse().slice(0, 8));
  });

  it('answers a date range that ends before it starts, or a date that is none, with a 400 that says so', async () => {
    const backwards = await viewer.get(`/runs?containerId=${env.containerId}&from=2026-03-10&to=2026-03-01`);
    expect(backwards.status).toBe(400);
    const html = await backwards.text();
    expect(html).toContain('The end of the date range (to) is before its start (from).');
    expect(html).toContain('value="2026-03-10"'); // the filters as typed
    expect(html).toContain('aria-invalid="true"');
    for (const bad of ['from=tomorrow', 'to=2026-02-30', 'from=99999999999999999999', 'sort=sideways', 'status=Unknown', 'before=yesterday']) {
      const res = await viewer.get(`/runs?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.headers.get('content-type'), bad).toMatch(/^text\/html/);
    }
    const fragment = await viewer.get('/runs?from=2026-03-10&to=2026-03-01', { headers: HTMX });
    expect(fragment.status).toBe(400);
    expect(fragment.headers.get('hx-trigger')).toContain('The end of the date range');
  });

  it('renders every time one way, for the browser to localise, with a duration column', async () => {
    const { html } = await listed(`/runs?containerId=${env.containerId}`, 10);
    const table = html.slice(html.indexOf('id="runs-rows"'));
    const rows = table.slice(table.indexOf('<tbody>'), table.indexOf('</tbody>'));
    expect(rows.match(/<time datetime="[^"]+Z" data-local>/g)).toHaveLength(10 + 8); // started, and ended for the closed runs
    expect(rows.replace(/<time[^>]*>[^<]*<\/time>/g, '')).not.toMatch(/\d{2}:\d{2}(:\d{2})?/);
    expect(rows.match(/running for \d/g)).toHaveLength(2);
    expect(rows.match(/<td>\d+(\.\d+)? (ms|s)<\/td>|<td>\d+ min \d+ s<\/td>/g)).toHaveLength(8);
  });

  it('charts runs per hour by outcome and durations over time, and says how many runs they read', async () => {
    const { html } = await listed(`/runs?containerId=${env.containerId}`, 10);
    expect(html).toMatch(/<svg class="runs-chart" id="runs-per-hour"[^>]*role="img" aria-label="Runs per hour over \d+ hours?: 8 completed, 2 running/);
    expect(html).toMatch(/<rect class="o-completed"/);
    expect(html).toMatch(/<rect class="o-running"/);
    const durations = html.slice(html.indexOf('id="run-durations"'), html.indexOf('</svg>', html.indexOf('id="run-durations"')));
    expect(durations.match(/<circle class="o-completed"/g)).toHaveLength(8);
    expect(html).toContain('The charts read at most the newest 500 runs that match the filters.');
    const none = await (await viewer.get(`/runs?containerId=${env.containerId}&trigger=scheduled`)).text();
    expect(none).toContain('No runs match: the charts appear with the first run.');
  });
});

describe('cancelling a selection', () => {
  let containerId: string;
  let missionId: string;
  beforeAll(async () => {
    containerId = await makeContainer(env.admin);
    missionId = await gated(containerId);
  });

  it('cancels exactly the selected open runs, each audited once, and reports one that had ended', async () => {
    const [a, b, keep] = await Promise.all([0, 1, 2].map(async () => waiting(await execute(env.operator, missionId))));
    const ended = started[0]!;
    await listed(`/runs?containerId=${containerId}`, 3, operator);
    const res = await operator.post('/runs/cancel', { workflowIds: a!, containerId, reason: 'wrong list' }, { headers: HTMX });
    expect(res.status, await res.clone().text()).toBe(200);
    // A form field may repeat: post the three as a real form does.
    const body = new URLSearchParams({ _csrf: operator.csrf, containerId, reason: 'wrong list' });
    for (const id of [b!, ended]) body.append('workflowIds', id);
    const res2 = await t.app.request('/runs/cancel', { method: 'POST', headers: { Cookie: operator.cookie, Origin: 'http://localhost', 'Content-Type': 'application/x-www-form-urlencoded', ...HTMX }, body });
    const html = await res2.text();
    expect(res2.status).toBe(200);
    expect(html).toContain('Cancellation requested for 1 run; 1 not cancelled.');
    expect(html).toContain(`<code>${ended}</code>: This run has already ended (Completed).`);

    await Promise.all([a, b].map((wf) => expect(result(t, wf!)).rejects.toThrow(/cancel/i)));
    expect(await statusOf(keep!)).toBe('RUNNING');
    for (const wf of [a!, b!]) {
      expect(await audits('run.cancel_requested', wf), wf).toBe(1);
      expect(await eventually(() => audits('run.cancelled', wf), (n) => n === 1)).toBe(1);
    }
    expect(await audits('run.cancel_requested', keep!)).toBe(0);
    expect(await audits('run.cancel_requested', ended)).toBe(0);
    const [entry] = await listAudit(t.db.sql, { action: 'run.cancel_requested', entityId: a!, limit: 1 });
    expect(entry).toMatchObject({ actor: operatorLogin.username, details: { reason: 'wrong list' } });

    // The rows poll while a cancelled run still shows open, and stop once it shows Cancelled.
    const poll = await eventually(async () => (await operator.get(`/runs?containerId=${containerId}&watch=${a},${b}`, { headers: { ...HTMX, 'HX-Target': 'runs-rows' } })).text(),
      (h) => (h.match(/>Cancelled<\/span>/g) ?? []).length === 2);
    expect(poll).toMatch(/^<div id="runs-rows"/);
    expect(poll).not.toContain('hx-get=');
    expect(poll).not.toContain('id="batch-cancel"');
  });

  it('refuses an empty selection or more than 100 runs, naming why', async () => {
    const none = await operator.post('/runs/cancel', { containerId });
    expect(none.status).toBe(400);
    expect(await none.text()).toContain('Select at least one run to cancel.');
    const body = new URLSearchParams({ _csrf: operator.csrf });
    for (let i = 0; i < 101; i++) body.append('workflowIds', `mission-${missionId}-x${i}`);
    const many = await t.app.request('/runs/cancel', { method: 'POST', headers: { Cookie: operator.cookie, Origin: 'http://localhost', 'Content-Type': 'application/x-www-form-urlencoded' }, body });
    expect(many.status).toBe(400);
    expect(await many.text()).toContain('At most 100 runs can be cancelled at once.');
  });

  it('shows a viewer no selection or cancel button, and refuses a viewer’s post with 403', async () => {
    const wf = await waiting(await execute(env.operator, missionId));
    const { html, ids } = await listed(`/runs?containerId=${containerId}&status=NeedsApproval`, 2); // and the run the first test kept
    expect(ids).toContain(wf);
    expect(html).not.toContain('name="workflowIds"');
    expect(html).not.toContain('Cancel selected');
    expect([...html.matchAll(/<form\b[^>]*method="post"[^>]*>/g)].map((m) => m[0]).filter((f) => !f.includes('action="/logout"'))).toEqual([]);
    expect((await viewer.post('/runs/cancel', { workflowIds: wf })).status).toBe(403);
    expect(await statusOf(wf)).toBe('RUNNING');
    expect(await audits('run.cancel_requested', wf)).toBe(0);
    // An operator sees both.
    const op = await (await operator.get(`/runs?containerId=${containerId}&status=NeedsApproval`)).text();
    expect(op).toContain(`name="workflowIds" value="${wf}" form="batch-cancel"`);
    expect(op).toContain('hx-confirm="Cancel the selected runs?');
  });
});

describe('in the browser', () => {
  let web: RunningWeb;
  let chromiumBrowser: Chromium;
  beforeAll(async () => {
    web = await startWebServer(t.deps, { port: 0, host: '127.0.0.1' });
    chromiumBrowser = await launchChromium();
  });
  afterAll(async () => {
    await chromiumBrowser?.close();
    await web?.close();
  });

  it('an operator ticks two running runs, confirms, and sees them Cancelled while the third runs on', { timeout: 120_000 }, async () => {
    const containerId = await makeContainer(env.admin);
    const missionId = await gated(containerId);
    const runs = await Promise.all([0, 1, 2].map(async () => waiting(await execute(env.operator, missionId))));
    const errors: string[] = [];
    const page = await chromiumBrowser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(15_000);
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${web.url}/login`);
    await page.getByLabel('Username').fill(operatorLogin.username);
    await page.getByLabel('Password').fill(operatorLogin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${web.url}/`);

    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Runs' }).click();
    await page.waitForURL(`${web.url}/runs`);
    await page.goto(`${web.url}/runs?containerId=${containerId}`);
    const row = (wf: string) => page.locator(`tr[data-workflow-id="${wf}"]`);
    await expect.poll(async () => { await page.reload(); return page.locator('#runs-rows tbody tr[data-workflow-id]').count(); }, { timeout: 20_000 }).toBe(3);
    await expect.poll(() => row(runs[0]!).locator('time').first().getAttribute('data-localized')).toBe('1');

    let asked = '';
    page.on('dialog', (d) => { asked = d.message(); void d.accept(); });
    await row(runs[0]!).getByRole('checkbox').check();
    await row(runs[1]!).getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Cancel selected' }).click();
    await expect.poll(() => page.locator('.runs-outcome').textContent()).toContain('Cancellation requested for 2 runs.');
    expect(asked).toBe('Cancel the selected runs? Their running tasks are stopped.');
    for (const wf of runs.slice(0, 2)) await expect.poll(() => row(wf!).locator('.pill').textContent(), { timeout: 20_000 }).toBe('Cancelled');
    expect(await row(runs[2]!).locator('.pill').textContent()).toBe('Needs approval');
    expect(await page.locator('.runs-outcome').textContent()).toContain('Cancellation requested for 2 runs.'); // kept while the rows polled
    for (const wf of runs.slice(0, 2)) expect(await audits('run.cancel_requested', wf!)).toBe(1);
    expect(await audits('run.cancel_requested', runs[2]!)).toBe(0);
    expect(errors).toEqual([]);
  });
});

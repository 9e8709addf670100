/// <reference lib="dom" />
// The schedules page: each schedule's recent runs with their status beside its
// next runs; the backfill form (times in the schedule's zone, operators only,
// a readable 400 for a bad range, CSRF); and one schedule that Temporal is slow
// to describe showing a placeholder while the others render, without holding
// the page, then loading on its own (also in a real browser, through htmx).
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type Browser as Chromium } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { listAudit } from '../../core/audit/audit-log';
import { formatInZone } from '../../core/schedules/cron';
import { loadScheduleOverviews } from '../../core/schedules/overview';
import { temporalDescribe, type DescribeFn } from '../../core/schedules/schedules';
import { getMission } from '../../core/missions/missions';
import type { TemporalHandle } from '../../lib/temporal';
import { ORIGIN, signIn, userWithRole, type Browser, type TestApp } from '../helpers/app';
import { type MissionEnv, eventually, makeMission, makePattern, missionEnv, result, waitFor } from '../helpers/missions';

let env: MissionEnv;
let t: TestApp;
let viewer: Browser;
let operator: Browser;
let quick: string;

const HTMX = { headers: { 'HX-Request': 'true' } };
const SCRIPT_NAME = '<script>alert(1)</script>';

beforeAll(async () => {
  env = await missionEnv();
  t = env.t;
  const [v, o] = await Promise.all([userWithRole(t, 'VIEWER'), userWithRole(t, 'OPERATOR')]);
  [viewer, operator] = await Promise.all([signIn(t, v.username, v.password), signIn(t, o.username, o.password)]);
  quick = await makePattern(env.admin, env.containerId, 'async () => ({ ok: true })');
});
afterAll(async () => env?.close());

/** A scheduled mission; its schedule paused unless told otherwise, so only the test starts its runs. */
const scheduledMission = (schedule: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  makeMission(env.operator, { containerId: env.containerId, type: 'scheduled', tasks: [{ name: 'only', order: 0, patternId: quick }], schedule: { paused: true, ...schedule }, ...extra });

async function html(b: Browser | ((path: string) => Response | Promise<Response>), path: string): Promise<{ status: number; html: string }> {
  const res = typeof b === 'function' ? await b(path) : await b.get(path);
  return { status: res.status, html: await res.text() };
}

/** The row of one schedule in a page. */
function rowOf(page: string, missionId: string): string {
  const m = new RegExp(`<article id="schedule-${missionId}"[\\s\\S]*?</article>`).exec(page);
  expect(m, `the row of ${missionId}`).not.toBeNull();
  return m![0];
}

/**
 * The row of one schedule once Temporal described it in time: a busy Temporal gets the page's placeholder
 * ("not loaded", a test of its own below), which is not what these assertions are about.
 */
async function loadedRowOf(b: Browser, missionId: string): Promise<string> {
  const page = await eventually(() => html(b, '/schedules'), (p) => !rowOf(p.html, missionId).includes('schedule-pending'));
  return rowOf(page.html, missionId);
}

/** Recent runs as the page lists them: [workflow id, status shown]. */
const recentRuns = (row: string) =>
  [...row.matchAll(/<li><a href="\/runs\/([^"]+)"[^>]*>[\s\S]*?<span class="pill[^"]*">([^<]+)<\/span>/g)].map((m) => [decodeURIComponent(m[1]!), m[2]!]);

const runNowId = async (missionId: string) =>
  (await listAudit(t.db.sql, { action: 'schedule.run_now', entityId: `mission-${missionId}`, limit: 1 }))[0]!.details.workflowId as string;

describe('recent runs', () => {
  it('shows, beside the next runs, the runs that "Run now" started with their status in words, each linking to its run', async () => {
    // Running schedules that fire only on 1 January, so that only "Run now" starts their runs here.
    const digest = await scheduledMission({ cron: '0 9 1 1 *', timezone: 'America/Toronto', paused: false }, { name: SCRIPT_NAME });
    const gated = await scheduledMission({ cron: '0 3 1 1 *', timezone: 'UTC' }, { tasks: [{ name: 'review', order: 0, patternId: quick, requiresApproval: true }] });

    const ran = await operator.post(`/schedules/${digest}/run`, {}, HTMX);
    expect(ran.status).toBe(200);
    const done = await runNowId(digest);
    // The row that comes back already lists the run (its status may not be listed yet).
    expect(recentRuns(await ran.text()).map(([id]) => id)).toEqual([done]);
    expect(await result(t, done)).toMatchObject({ status: 'Completed' });
    expect((await operator.post(`/schedules/${gated}/run`, {}, HTMX)).status).toBe(200);
    const waiting = await runNowId(gated);
    await waitFor(t, waiting, (p) => p.status === 'NeedsApproval');

    // Visibility follows a run by a moment: read until both statuses show.
    const page = await eventually(() => html(viewer, '/schedules'), (p) =>
      recentRuns(rowOf(p.html, digest))[0]?.[1] === 'Completed' && recentRuns(rowOf(p.html, gated))[0]?.[1] === 'Needs approval');
    expect(page.status).toBe(200);
    const row = rowOf(page.html, digest);
    expect(recentRuns(row)).toEqual([[done, 'Completed']]);
    expect(row).toContain(`href="/runs/${encodeURIComponent(done)}"`);
    expect(row).toMatch(/<h3 id="next-[^"]+">Next runs<\/h3>[\s\S]*\d{4}-\d{2}-\d{2} 09:00 \(America\/Toronto\)[\s\S]*<h3 id="recent-[^"]+">Recent runs<\/h3>/);
    expect(row).toContain('run now');
    expect(row).not.toContain(SCRIPT_NAME);
    expect(row).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(recentRuns(rowOf(page.html, gated))).toEqual([[waiting, 'Needs approval']]);
    expect(rowOf(page.html, gated)).toContain('pill pill-NeedsApproval');
  });
});

describe('backfill from the page', () => {
  it('reads the times in the schedule\'s zone, starts the runs Temporal would have started, audits once, and lists them with the time they were for', async () => {
    const m = await scheduledMission({ cron: '0 * * * *', timezone: 'America/Toronto' });
    const year = new Date().getUTCFullYear() - 1; // a January day last year: Toronto is UTC-5
    const res = await operator.post(`/schedules/${m}/backfill`, { start: `${year}-01-10T10:30`, end: `${year}-01-10T12:30`, overlap: 'allow_all' }, HTMX);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.headers.get('hx-trigger')!)).toMatchObject({ flash: { kind: 'ok', text: expect.stringMatching(/Temporal is starting 2 runs/) } });
    expect(await res.text()).toMatch(new RegExp(`^<article id="schedule-${m}"`));

    const ids = [`${year}-01-10T16:00:00Z`, `${year}-01-10T17:00:00Z`].map((at) => `mission-${m}-scheduled-${at}`);
    for (const id of ids) expect(await result(t, id)).toMatchObject({ status: 'Completed', trigger: 'scheduled' });
    expect(await listAudit(t.db.sql, { action: 'schedule.backfilled', entityId: `mission-${m}`, limit: 5 })).toEqual([
      expect.objectContaining({ details: expect.objectContaining({ missionId: m, start: `${year}-01-10T15:30:00Z`, end: `${year}-01-10T17:30:00Z`, runs: 2 }) }),
    ]);

    const page = await eventually(() => html(viewer, '/schedules'), (p) => recentRuns(rowOf(p.html, m)).filter(([, s]) => s === 'Completed').length === 2);
    const row = rowOf(page.html, m);
    expect(recentRuns(row).sort()).toEqual(ids.map((id) => [id, 'Completed']).sort());
    for (const at of [`${year}-01-10T16:00:00Z`, `${year}-01-10T17:00:00Z`]) expect(row).toContain(`for ${formatInZone(new Date(at), 'America/Toronto')}`);
  });

  it('is offered to operators only, says which time zone it reads, and explains the limits and a paused mission', async () => {
    const m = await scheduledMission({ cron: '30 6 * * *', timezone: 'Asia/Kolkata' });
    const asViewer = await loadedRowOf(viewer, m);
    expect(asViewer).not.toContain('/backfill');
    const asOperator = await loadedRowOf(operator, m);
    expect(asOperator).toContain(`action="/schedules/${m}/backfill"`);
    expect(asOperator).toMatch(/<input type="hidden" name="_csrf" value="[^"]+">\s*<p class="muted wide"[^>]*>Starts the runs/);
    expect(asOperator).toMatch(/From \(Asia\/Kolkata\)\s*<input type="datetime-local"[^>]*name="start"/);
    expect(asOperator).toMatch(/To \(Asia\/Kolkata\)\s*<input type="datetime-local"[^>]*name="end"/);
    expect(asOperator).toContain('Times are in <strong>Asia/Kolkata</strong>, the schedule\'s time zone. At most 31 days and 50 runs at a time, none in the future.');

    expect((await env.operator.request('POST', `/api/missions/${m}/pause`, { reason: 'hold' })).status).toBe(200);
    const paused = await loadedRowOf(operator, m);
    expect(paused).not.toContain(`action="/schedules/${m}/backfill"`);
    expect(paused).toContain('The mission is paused, and a paused mission starts nothing: backfilled runs would stop at once.');
    const year = new Date().getUTCFullYear() - 1;
    const refused = await operator.post(`/schedules/${m}/backfill`, { start: `${year}-01-10T10:30`, end: `${year}-01-10T12:30` }, HTMX);
    expect(refused.status).toBe(409);
  });

  it('answers a bad range with a readable 400 (a message for htmx, the page for a plain post), a viewer with a 403, a post without its CSRF token with a 403; nothing starts', async () => {
    const m = await scheduledMission({ cron: '0 * * * *', timezone: 'UTC' });
    const year = new Date().getUTCFullYear() - 1;
    const cases: [Record<string, string>, RegExp][] = [
      [{ start: `${year}-01-10T12:30`, end: `${year}-01-10T10:30` }, /^The end \(.+\) must be after the start/],
      [{ start: 'soon', end: `${year}-01-10T10:30` }, /^Start: "soon" is not a date and time like 2026-11-30T09:00\.$/],
      [{ start: `${year}-02-30T10:00`, end: `${year}-03-01T10:30` }, /^Start: ".+" is not a date and time/],
      [{ end: `${year}-01-10T10:30` }, /^Start: enter a date and time\.$/],
      [{ start: `${year}-01-10T10:30`, end: '2999-01-01T00:00' }, /^A backfill covers past times only/],
      [{ start: `${year}-01-01T00:00`, end: `${year}-03-01T00:00` }, /at most 31 days/],
      [{ start: `${year}-01-10T10:30`, end: `${year}-01-10T12:30`, overlap: 'sometimes' }, /^Overlap: "sometimes" is not one of/],
    ];
    for (const [form, message] of cases) {
      const res = await operator.post(`/schedules/${m}/backfill`, form, HTMX);
      expect(res.status, JSON.stringify(form)).toBe(400);
      expect(JSON.parse(res.headers.get('hx-trigger')!).flash, JSON.stringify(form)).toMatchObject({ kind: 'error', text: expect.stringMatching(message) });
    }
    const plain = await operator.post(`/schedules/${m}/backfill`, { start: 'soon', end: `${year}-01-10T10:30` });
    expect(plain.status).toBe(400);
    expect(plain.headers.get('content-type')).toMatch(/^text\/html/);
    const body = await plain.text();
    expect(body).toContain('Start: &quot;soon&quot; is not a date and time like 2026-11-30T09:00.');
    expect(body).toContain('<h1>Schedules</h1>');

    const good = { start: `${year}-01-10T10:30`, end: `${year}-01-10T12:30` };
    expect((await viewer.post(`/schedules/${m}/backfill`, good)).status).toBe(403);
    const noToken = await t.app.request(`/schedules/${m}/backfill`, {
      method: 'POST', headers: { Cookie: operator.cookie, Origin: ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(good),
    });
    expect(noToken.status).toBe(403);
    expect(await listAudit(t.db.sql, { action: 'schedule.backfilled', entityId: `mission-${m}`, limit: 5 })).toEqual([]);
    expect((await t.deps.temporal.client.schedule.getHandle(`mission-${m}`).describe()).info.recentActions).toEqual([]);
  });
});

// ---- a slow describe ------------------------------------------------------------------------

/**
 * The app's Temporal handle, except that describing `slowId`'s schedule never answers the
 * first `times` times, and visibility lists are counted.
 */
function slowTemporal(real: TemporalHandle, slowScheduleId: string, times = Infinity): { temporal: TemporalHandle; lists: () => number } {
  let slowLeft = times;
  let lists = 0;
  const schedule = Object.create(real.client.schedule, {
    getHandle: {
      value: (id: string) => {
        const handle = real.client.schedule.getHandle(id);
        if (id !== slowScheduleId || slowLeft-- <= 0) return handle;
        return Object.create(handle, { describe: { value: () => new Promise(() => {}) } });
      },
    },
  });
  const workflow = Object.create(real.client.workflow, {
    list: { value: (...args: Parameters<typeof real.client.workflow.list>) => (lists++, real.client.workflow.list(...args)) },
  });
  const client = Object.create(real.client, { schedule: { value: schedule }, workflow: { value: workflow } });
  return { temporal: { ...real, client }, lists: () => lists };
}

describe('a schedule Temporal is slow to describe', () => {
  let slow: string;
  let fine: string;
  beforeAll(async () => {
    slow = await scheduledMission({ cron: '15 8 * * *', timezone: 'Europe/Paris' });
    fine = await scheduledMission({ cron: '45 7 1 1 *', timezone: 'Europe/Paris', paused: false });
    // A run, so that the page has statuses to look up.
    expect((await operator.post(`/schedules/${fine}/run`, {}, HTMX)).status).toBe(200);
    await result(t, await runNowId(fine));
  });

  it('shows a placeholder in its row while every other row renders, with one visibility call for the page', async () => {
    const { temporal, lists } = slowTemporal(t.deps.temporal, `mission-${slow}`, 1);
    const { app } = createApp({ ...t.deps, temporal });
    const get = (path: string) => app.request(path, { headers: { Cookie: viewer.cookie } });

    const started = performance.now();
    const page = await html(get, '/schedules');
    const ms = performance.now() - started;
    expect(page.status).toBe(200);
    expect(ms).toBeLessThan(5000); // the describe never answers: the row's own deadline (1.5 s) ends it
    expect(lists()).toBe(1);
    const placeholder = rowOf(page.html, slow);
    expect(placeholder).toContain('Could not load this schedule\'s details in time — refresh to retry.');
    expect(placeholder).toContain(`hx-get="/schedules/${slow}/row"`);
    expect(placeholder).toContain('Europe/Paris');
    expect(placeholder).not.toContain('Next runs');
    const other = rowOf(page.html, fine);
    expect(other).toMatch(/\d{4}-\d{2}-\d{2} 07:45 \(Europe\/Paris\)/);
    expect(recentRuns(other)).toEqual([[await runNowId(fine), expect.any(String)]]);

    // "Load this schedule again": the row on its own, now that Temporal answers.
    const again = await html(get, `/schedules/${slow}/row`);
    expect(again.status).toBe(200);
    expect(again.html).toMatch(new RegExp(`^<article id="schedule-${slow}" class="panel schedule"`));
    expect(again.html).toMatch(/\d{4}-\d{2}-\d{2} 08:15 \(Europe\/Paris\)|None while paused/);
    expect(again.html).not.toContain('Could not load');
  });

  it('has its describe cancelled at the deadline, and the others described as usual', async () => {
    let seen: AbortSignal | undefined;
    const real = temporalDescribe(t.deps.temporal);
    const describe: DescribeFn = (id, signal) => {
      if (id !== `mission-${slow}`) return real(id, signal);
      seen = signal;
      return new Promise(() => {});
    };
    const missions = await Promise.all([slow, fine].map((id) => getMission(t.db.sql, id)));
    const [s, f] = await loadScheduleOverviews(t.db.sql, t.deps.temporal, missions, { describe, timeoutMs: 300 });
    expect(s).toMatchObject({ missionId: slow, view: null, timedOut: true, error: null, recentRuns: [] });
    expect(seen?.aborted).toBe(true);
    expect(f).toMatchObject({ missionId: fine, timedOut: false, error: null, view: expect.objectContaining({ timezone: 'Europe/Paris', paused: false }) });
    expect(f!.recentRuns).toEqual([expect.objectContaining({ workflowId: await runNowId(fine), source: 'run now', status: 'Completed', statusText: 'Completed' })]);
  });

  it('loads on its own in the browser when asked ("Load this schedule again", through htmx)', async () => {
    const { temporal } = slowTemporal(t.deps.temporal, `mission-${slow}`, 1);
    // The app alone (no reconciler, whose describes would take the slow one's turn).
    const { app } = createApp({ ...t.deps, temporal });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const web = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    let browser: Chromium | undefined;
    try {
      browser = await launchChromium();
      const context = await browser.newContext();
      await context.addCookies([{ name: viewer.cookie.split('=')[0]!, value: viewer.cookie.split('=').slice(1).join('='), url: web.url }]);
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      await page.goto(`${web.url}/schedules`);
      const row = page.locator(`#schedule-${slow}`);
      await expect.poll(() => row.textContent()).toContain('Could not load this schedule\'s details in time');
      // A mark on the page: htmx swaps the row in place, so it survives (a plain link would reload the page).
      await page.evaluate(() => Object.assign(window, { stillHere: true }));
      await row.getByRole('link', { name: 'Load this schedule again' }).click();
      await expect.poll(() => page.locator(`#schedule-${slow} h3`).first().textContent(), { timeout: 15_000 }).toBe('Next runs');
      expect(await page.locator(`#schedule-${slow}`).textContent()).not.toContain('Could not load');
      expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
    } finally {
      await browser?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    }
  });
});

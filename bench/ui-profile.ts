// The in-process part of bench/ui.ts, without HTTP: each load the board and
// the run view make, timed alone one call after another; the uncached
// loadBoard under concurrency; and Temporal's visibility rate limit itself.
//
// Calls to the visibility API (list, count) are paced (untimed pauses) to stay
// under the rate limit, so the step times are the calls' own costs; the
// "throttled" column says whether that held, "vis" how many visibility calls a
// step made (through the web server's counted client), "cpu" this process's
// CPU ms per call. Indented steps are parts of the line above.
import { Connection } from '@temporalio/client';
import type { Hono } from 'hono';
import { createApp } from '../api/app';
import type { AppDeps } from '../api/context';
import { BOARD_COLUMNS, createBoardLoader, loadBoard, loadFeed } from '../core/board/board';
import { getSession } from '../core/access/sessions';
import { listContainers } from '../core/patterns/containers';
import { describeRun } from '../core/runs/detail';
import { countRuns, countRunsByExecutionStatus, listRuns, runQuery } from '../core/runs/visibility';
import { listMissions } from '../core/missions/missions';
import { runsOfWorkflow } from '../core/patterns/pattern-runs';
import { MISSION_WORKFLOW_TYPE, type MissionStatus } from '../lib/names';
import { progressQuery } from '../workflows/messages';
import { fmt, log, table, timeEach, type Stats } from './lib';
import { loadFor } from './load';
import { RESOURCE_EXHAUSTED, callsSince, type Counters } from './ui-servers';

const ITER = 15;
const WARM = 2;
/** Untimed pause per visibility call made: ~80 calls/s at most, under the dev server's limit. */
const PACE_MS = 12.5;
/** The columns loadBoard counts one by one (the closed ones come from one grouped count). */
const OPEN: MissionStatus[] = ['Running', 'Paused', 'NeedsApproval'];

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Visibility calls one uncached board load makes, counted. */
export async function visibilityPerLoad(deps: AppDeps, counters: Counters): Promise<number> {
  const before = counters.visibility;
  await loadBoard(deps.sql, deps.temporal, {});
  return counters.visibility - before;
}

export async function inProcessSteps(o: {
  deps: AppDeps; counters: Counters; completedId: string; openId: string; cookie: string; bareApp: Hono; perLoad: number;
}): Promise<void> {
  const { deps, counters, completedId, openId, cookie, bareApp, perLoad } = o;
  const { sql, temporal } = deps;
  const { app, renderer } = createApp(deps);
  const rows: string[][] = [];
  const step = async (name: string, fn: () => Promise<unknown>, visibilityCalls = 0) => {
    const cpu = process.cpuUsage();
    const [throttled, visibility, calls] = [counters.throttled, counters.visibility, { ...counters.calls }];
    const s = await timeEach(ITER, WARM, fn, visibilityCalls * PACE_MS);
    const used = process.cpuUsage(cpu);
    rows.push([
      name, fmt(s.p50, 2), fmt(s.p90, 2), fmt(s.mean, 2), fmt((used.user + used.system) / 1000 / (ITER + WARM), 2),
      String(counters.throttled - throttled), fmt((counters.visibility - visibility) / (ITER + WARM), 1), fmt(callsSince(counters, calls).total / (ITER + WARM), 1),
    ]);
  };
  const request = async (target: { request: Hono['request'] }, p: string, headers: Record<string, string> = {}) => {
    const res = await target.request(p, { headers: { Cookie: cookie, ...headers } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`in-process GET ${p} answered ${res.status}`);
  };
  await step('board page, app.request (no HTTP; opening: a fresh load)', () => request(app, '/'), perLoad);
  await step('board fragment, app.request, HX-Request (a fresh load, no containers, no feed)', () => request(app, '/board', { 'HX-Request': 'true' }), perLoad);
  await step('board fragment, app.request, X-Live-Refresh (the shared load)', () => request(app, '/board', { 'HX-Request': 'true', 'X-Live-Refresh': '1' }));
  const shared = createBoardLoader(sql, temporal);
  await shared({}); // loaded: the calls below are hits
  await step('  createBoardLoader, a cache hit', () => shared({}));
  await step('  loadBoard uncached (lists + counts in parallel; drafts)', () => loadBoard(sql, temporal, {}), perLoad);
  await step('    listRuns Completed, 12', () => listRuns(temporal, { status: 'Completed' }, 12), 1);
  // The closed columns' scan reads pages of 13 + 1 until it has passed the 12th newest start (core/runs/visibility.ts).
  const closedQuery = `${runQuery({ status: 'Completed' })} AND ExecutionStatus != 'Running'`;
  for (const pageSize of [14, 100]) {
    await step(`      one page of ${pageSize} of that list (ListWorkflowExecutions)`, () =>
      temporal.client.workflowService.listWorkflowExecutions({ namespace: temporal.namespace, query: closedQuery, pageSize }), 1);
  }
  await step('    listRuns NeedsApproval, 12', () => listRuns(temporal, { status: 'NeedsApproval' }, 12), 1);
  await step('    countRuns NeedsApproval (one per open column)', () => countRuns(temporal, { status: 'NeedsApproval' }), 1);
  await step('    countRunsByExecutionStatus (closed columns, grouped)', () => countRunsByExecutionStatus(temporal, {}), 1);
  await step(`    the ${perLoad} Temporal calls one after another`, async () => {
    for (const col of BOARD_COLUMNS) await listRuns(temporal, { status: col.status }, 12);
    for (const status of OPEN) await countRuns(temporal, { status });
    await countRunsByExecutionStatus(temporal, {});
  }, perLoad);
  await step('    listMissions drafts', () => listMissions(sql, { status: 'draft', limit: 12, offset: 0 }));
  await step('  listContainers (full page only)', () => listContainers(sql, { limit: 200, offset: 0 }));
  await step('  loadFeed (full page only)', () => loadFeed(sql));
  const handle = temporal.client.workflow.getHandle(completedId);
  await step('run view, app.request (no HTTP; closed run: fresh describe, progress cached)', () => request(app, `/runs/${encodeURIComponent(completedId)}`));
  await step('  describeRun (describe + cached progress)', () => describeRun(temporal, completedId));
  await step('    describe', () => handle.describe());
  await step('    progress query, uncached (a replay on the worker: a first view)', () => handle.query(progressQuery));
  await step('    result from history (what the query answers, for a completed run)', () => handle.result());
  await step('  runsOfWorkflow', () => runsOfWorkflow(sql, completedId));
  // What each live viewer's refetch costs once an event changed the run: the shared describe + query is a hit.
  const liveRefetch = `/runs/${encodeURIComponent(openId)}?v=stale`;
  await step('run live refetch, changed: app.request, X-Live-Refresh, an old ?v= (200 fragment)', () => request(app, liveRefetch, { 'HX-Request': 'true', 'X-Live-Refresh': '1' }));
  // The route's own render call, captured from one refetch, then timed alone.
  const partial = renderer.partial.bind(renderer);
  let captured: Parameters<typeof partial> | undefined;
  renderer.partial = (...args) => ((captured ??= args), partial(...args));
  await request(app, liveRefetch, { 'HX-Request': 'true', 'X-Live-Refresh': '1' });
  renderer.partial = partial;
  if (captured) await step(`  render ${captured[0]} alone (Eta)`, async () => partial(...captured!));
  await step('  runsOfWorkflow (every refetch)', () => runsOfWorkflow(sql, openId));
  await step('app floor, app.request /static/favicon.svg', () => request(app, '/static/favicon.svg'));
  // The signed cookie's value is <session id>.<signature>, URL-encoded.
  const sessionId = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1)).replace(/\.[^.]*$/, '');
  await step('  getSession (PostgreSQL, every UI request)', async () => {
    if (!(await getSession(sql, sessionId))) throw new Error('the bench\'s session was not found');
  });
  await step('bare, bareApp.request (no HTTP)', () => request(bareApp, '/bare'));

  log(
    `\nIn-process, one call at a time (ms; ${ITER} calls each after ${WARM} untimed; indented = part of the line above; cpu = this process's CPU ms per call; ` +
      'vis = visibility calls (list, count) per call; Temporal = gRPC calls per call, pages and retries included)',
  );
  log(table(['step', 'p50', 'p90', 'mean', 'cpu', 'throttled', 'vis', 'Temporal'], rows));

  // Fewer counts: one grouped count instead of one per column, where the server supports it.
  for (const by of ['ExecutionStatus', 'MissionStatus']) {
    try {
      const t = performance.now();
      const grouped = await temporal.client.workflow.count(`WorkflowType = '${MISSION_WORKFLOW_TYPE}' GROUP BY ${by}`);
      log(
        `count ... GROUP BY ${by}: supported, ${fmt(performance.now() - t, 1)} ms, ` +
          (grouped.groups ?? []).map((g) => `${g.groupValues.join('/')}=${g.count}`).join(', '),
      );
    } catch (err) {
      log(`count ... GROUP BY ${by}: not supported by this server (${err instanceof Error ? err.message.slice(0, 140) : String(err)})`);
    }
  }
}

export interface AloneRow {
  concurrency: number;
  latency: Stats;
  perSecond: number;
  throttledPerCall: number;
  visibilityPerSecond: number;
}

/** The uncached loadBoard, `concurrency` lanes back to back for `ms`, through the web server's client. */
export async function loadBoardAlone(deps: AppDeps, counters: Counters, concurrency: number, ms: number): Promise<AloneRow> {
  const [throttled, visibility] = [counters.throttled, counters.visibility];
  const r = await loadFor(concurrency, ms, () => loadBoard(deps.sql, deps.temporal, {}));
  return {
    concurrency, latency: r.latency, perSecond: r.perSecond,
    throttledPerCall: (counters.throttled - throttled) / r.latency.n, visibilityPerSecond: (counters.visibility - visibility) / r.seconds,
  };
}

/**
 * Count calls with no retry at all, 32 at a time for 2 s: how many visibility calls per second
 * this server accepts for one namespace, and how many it refuses.
 */
export async function rateLimit(deps: AppDeps, address: string): Promise<{ accepted: number; refused: number }> {
  await pause(1500); // a full rate-limit bucket to start from
  const noRetry = await Connection.connect({ address, interceptors: [] });
  try {
    let accepted = 0;
    let refused = 0;
    const query = `WorkflowType = '${MISSION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Completed'`;
    const probe = await loadFor(32, 2000, () =>
      noRetry.workflowService.countWorkflowExecutions({ namespace: deps.temporal.namespace, query }).then(
        () => accepted++,
        (err: { code?: number }) => {
          if (err.code !== RESOURCE_EXHAUSTED) throw err;
          refused++;
        },
      ),
    );
    return { accepted: accepted / probe.seconds, refused: refused / probe.seconds };
  } finally {
    await noRetry.close();
  }
}

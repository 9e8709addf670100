// Replay: saved histories of representative missions (test/fixtures/histories)
// run through Worker.runReplayHistories against the current workflow code, so
// a change that would break runs in flight (nondeterminism) fails here before
// it reaches a worker. A negative check proves the replay can fail.
//
// Histories are append-only (README "Changing the workflow safely"): each
// release records its scenarios once, as <scenario>.v<MISSION_INPUT_VERSION>.json
// (the first release's have no suffix), and they are kept for good, so every
// later workflow change must still replay all of them. Record the scenarios
// of a new version (or a new scenario) with one command; it records on the
// test servers through the real API and worker, never overwrites a recorded
// file, and adds the new ones to MANIFEST:
//
//   RECORD_HISTORIES=1 npx vitest run test/missions/replay.test.ts
//
// A history exported with `temporal workflow show --workflow-id <id> -o json`
// can be dropped into test/fixtures/histories/ as well: every *.json there is
// replayed.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, makeTelemetryFilterString, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MISSION_INPUT_VERSION, decisionSignal, type Progress } from '../../workflows/messages';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { ApiClient, TestApp } from '../helpers/app';
import type * as Missions from '../helpers/missions';
import type { RunningWorker } from '../../worker';

const RECORD = process.env.RECORD_HISTORIES === '1';
const HISTORIES = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
const BROKEN_WORKFLOWS = fileURLToPath(new URL('../fixtures/nondeterministic-workflows.ts', import.meta.url));

// ---- the scenarios ------------------------------------------------------------------

interface Recording {
  t: TestApp;
  admin: ApiClient;
  operatorName: string;
  m: typeof Missions;
  /** Container holding only patterns that succeed (policy tasks choose from it). */
  goodContainer: string;
  /** Container for everything else. */
  containerId: string;
  p: Record<'draft' | 'send' | 'echo' | 'ok' | 'slow' | 'failSkip' | 'failRetry', string>;
}

interface Scenario {
  name: string;
  covers: string;
  /** Makes the run through the API and returns its workflow id once it has closed as expected. */
  record(r: Recording): Promise<string>;
}

const quiet = () => {};
const quietLogger = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: (m: string) => console.error(m) };

/** A draft task behind an approval gate, then a send task; returns the run waiting at the gate. */
async function gated(r: Recording, opts: { timeout?: number; onTimeout?: string } = {}) {
  const missionId = await r.m.makeMission(r.admin, {
    containerId: r.containerId,
    config: opts.onTimeout ? { onApprovalTimeout: opts.onTimeout } : {},
    tasks: [
      { name: 'draft', order: 0, patternId: r.p.draft, input: { to: 'Ada' }, requiresApproval: true, ...(opts.timeout ? { approvalTimeoutSeconds: opts.timeout } : {}) },
      { name: 'send', order: 1, patternId: r.p.send },
    ],
  });
  const workflowId = await r.m.execute(r.admin, missionId);
  const waiting = await r.m.waitFor(r.t, workflowId, (p) => p.status === 'NeedsApproval');
  return { workflowId, taskId: waiting.tasks[0]!.id };
}

async function decide(r: Recording, workflowId: string, body: Record<string, unknown>): Promise<void> {
  const res = await r.admin.request('POST', `/api/runs/${workflowId}/decisions`, body);
  expect(res.status, await res.clone().text()).toBe(200);
}

const statuses = (p: Progress) => p.tasks.map((x) => x.status);

/** The run's end: its result, or the progress query's answer when it failed or was cancelled. */
async function ended(r: Recording, workflowId: string): Promise<Progress> {
  return r.m.result(r.t, workflowId).catch(() => r.m.progress(r.t, workflowId));
}

const SCENARIOS: Scenario[] = [
  {
    name: 'parallel-completed',
    covers: 'five tasks in three orders: three in parallel under maxConcurrency 2, a policy task (selectPattern), then one reading ctx.previous; Completed',
    async record(r) {
      const missionId = await r.m.makeMission(r.admin, {
        containerId: r.goodContainer,
        config: { maxConcurrency: 2 },
        tasks: [
          { name: 'a', order: 0, patternId: r.p.echo, input: { n: 1 } },
          { name: 'b', order: 0, patternId: r.p.echo, input: { n: 2 } },
          { name: 'c', order: 0, patternId: r.p.echo, input: { n: 3 } },
          { name: 'picked', order: 1, selection: 'default_first', input: { n: 4 } },
          { name: 'last', order: 2, patternId: r.p.echo, input: { n: 5 } },
        ],
      });
      const workflowId = await r.m.execute(r.admin, missionId);
      const final = await r.m.result(r.t, workflowId);
      expect(final.status).toBe('Completed');
      expect(statuses(final)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed']);
      return workflowId;
    },
  },
  {
    name: 'skipped-task',
    covers: 'a failing task with failureAction skip (one retry) is skipped and the mission goes on; Completed',
    async record(r) {
      const missionId = await r.m.makeMission(r.admin, {
        containerId: r.containerId,
        config: { retryDelayMs: 100 },
        tasks: [{ name: 'flaky', order: 0, patternId: r.p.failSkip }, { name: 'next', order: 1, patternId: r.p.ok }],
      });
      const workflowId = await r.m.execute(r.admin, missionId);
      const final = await r.m.result(r.t, workflowId);
      expect(statuses(final)).toEqual(['skipped', 'completed']);
      return workflowId;
    },
  },
  {
    name: 'failed-retry-exhausted',
    covers: 'a failing task with failureAction retry exhausts its retries (linear, 3 attempts); alert raised; Failed',
    async record(r) {
      const missionId = await r.m.makeMission(r.admin, {
        containerId: r.containerId,
        config: { retryPolicy: 'linear', retryDelayMs: 100 },
        tasks: [{ name: 'broken', order: 0, patternId: r.p.failRetry }, { name: 'never', order: 1, patternId: r.p.ok }],
      });
      const workflowId = await r.m.execute(r.admin, missionId);
      await expect(r.m.result(r.t, workflowId)).rejects.toThrow();
      const final = await r.m.progress(r.t, workflowId);
      expect(final.status).toBe('Failed');
      expect(statuses(final)).toEqual(['failed', 'pending']);
      return workflowId;
    },
  },
  {
    name: 'approval-approve',
    covers: 'approval gate: a refused decision (operator signalling directly), then approve by an admin; Completed',
    async record(r) {
      const { workflowId, taskId } = await gated(r);
      await r.t.deps.temporal.client.workflow.getHandle(workflowId).signal(decisionSignal, { taskId, action: 'approve', actor: r.operatorName });
      await r.m.waitFor(r.t, workflowId, (p) => p.refusedDecisions.length === 1);
      await decide(r, workflowId, { taskId, action: 'approve' });
      expect(statuses(await r.m.result(r.t, workflowId))).toEqual(['completed', 'completed']);
      return workflowId;
    },
  },
  {
    name: 'approval-approve-with-notes',
    covers: 'approval gate: approve_with_notes; Completed',
    async record(r) {
      const { workflowId, taskId } = await gated(r);
      await decide(r, workflowId, { taskId, action: 'approve_with_notes', notes: 'personalise the greeting next time' });
      expect((await r.m.result(r.t, workflowId)).tasks[0]!.notes).toEqual(['personalise the greeting next time']);
      return workflowId;
    },
  },
  {
    name: 'approval-edit-inline',
    covers: 'approval gate: edit_inline_approve replaces the output; Completed',
    async record(r) {
      const { workflowId, taskId } = await gated(r);
      await decide(r, workflowId, { taskId, action: 'edit_inline_approve', output: { draft: 'Dear Ada' } });
      expect((await r.m.result(r.t, workflowId)).tasks[0]!.output).toEqual({ draft: 'Dear Ada' });
      return workflowId;
    },
  },
  {
    name: 'approval-request-changes',
    covers: 'approval gate: request_changes runs the task again with the notes, then approve; Completed',
    async record(r) {
      const { workflowId, taskId } = await gated(r);
      await decide(r, workflowId, { taskId, action: 'request_changes', notes: 'mention the spring sale' });
      await r.m.waitFor(r.t, workflowId, (p) => p.status === 'NeedsApproval' && p.tasks[0]!.runs === 2);
      await decide(r, workflowId, { taskId, action: 'approve' });
      expect((await r.m.result(r.t, workflowId)).tasks[0]!.decisions.map((d) => d.action)).toEqual(['request_changes', 'approve']);
      return workflowId;
    },
  },
  {
    name: 'approval-reject',
    covers: 'approval gate: reject; the task (failureAction skip) is rejected and the mission goes on; Completed',
    async record(r) {
      const { workflowId, taskId } = await gated(r);
      await decide(r, workflowId, { taskId, action: 'reject' });
      expect(statuses(await r.m.result(r.t, workflowId))).toEqual(['rejected', 'completed']);
      return workflowId;
    },
  },
  {
    name: 'approval-timeout',
    covers: 'approval gate with a 1 s timeout and onApprovalTimeout reject: the timer fires, an alert is raised; Completed',
    async record(r) {
      const { workflowId } = await gated(r, { timeout: 1, onTimeout: 'reject' });
      const final = await r.m.result(r.t, workflowId);
      expect(final.tasks[0]!.decisions).toEqual([expect.objectContaining({ action: 'timeout' })]);
      expect(statuses(final)).toEqual(['rejected', 'completed']);
      return workflowId;
    },
  },
  {
    name: 'pause-resume',
    covers: 'pause while a task runs (it finishes, the next waits), then resume; both audited by activity; Completed',
    async record(r) {
      const missionId = await r.m.makeMission(r.admin, {
        containerId: r.containerId,
        tasks: [{ name: 'first', order: 0, patternId: r.p.slow, input: { ms: 800 } }, { name: 'second', order: 1, patternId: r.p.ok }],
      });
      const workflowId = await r.m.execute(r.admin, missionId);
      await r.m.waitFor(r.t, workflowId, (p) => p.tasks[0]!.status === 'running');
      expect((await r.admin.request('POST', `/api/runs/${workflowId}/pause`, { reason: 'checking numbers' })).status).toBe(200);
      await r.m.waitFor(r.t, workflowId, (p) => p.status === 'Paused' && p.tasks[0]!.status === 'completed');
      await new Promise((res) => setTimeout(res, 300));
      expect((await r.admin.request('POST', `/api/runs/${workflowId}/resume`, {})).status).toBe(200);
      expect(statuses(await r.m.result(r.t, workflowId))).toEqual(['completed', 'completed']);
      return workflowId;
    },
  },
  {
    name: 'cancelled',
    covers: 'cancel while a long task runs: the activity is cancelled (WAIT_CANCELLATION_COMPLETED), run.cancelled recorded; Cancelled',
    async record(r) {
      const missionId = await r.m.makeMission(r.admin, {
        containerId: r.containerId,
        tasks: [{ name: 'forever', order: 0, patternId: r.p.slow, input: { ms: 30_000 } }, { name: 'after', order: 1, patternId: r.p.ok }],
      });
      const workflowId = await r.m.execute(r.admin, missionId);
      await r.m.waitFor(r.t, workflowId, (p) => p.tasks[0]!.status === 'running');
      await new Promise((res) => setTimeout(res, 300));
      expect((await r.admin.request('POST', `/api/runs/${workflowId}/cancel`, { reason: 'wrong list' })).status).toBe(202);
      const final = await ended(r, workflowId);
      expect(final.status).toBe('Cancelled');
      expect(statuses(final)).toEqual(['cancelled', 'cancelled']);
      return workflowId;
    },
  },
  {
    name: 'scheduled-run',
    covers: 'a run started by the mission schedule itself (triggered): the plan is loaded by the loadPlan activity; Completed',
    async record(r) {
      const missionId = await r.m.makeMission(r.admin, { containerId: r.containerId, tasks: [{ name: 'only', order: 0, patternId: r.p.ok, input: { n: 7 } }] });
      expect((await r.admin.request('PUT', `/api/missions/${missionId}/schedule`, { cron: '0 9 * * 1-5', timezone: 'UTC' })).status).toBe(200);
      const client = r.t.deps.temporal.client;
      // The schedule starts it (the app's "run now" starts runs directly, with the plan as input).
      await client.schedule.getHandle(`mission-${missionId}`).trigger();
      let workflowId: string | undefined;
      for (let i = 0; i < 100 && !workflowId; i++) {
        for await (const info of client.workflow.list({ query: `MissionId = '${missionId}'` })) workflowId = info.workflowId;
        if (!workflowId) await new Promise((res) => setTimeout(res, 100));
      }
      expect(workflowId).toMatch(new RegExp(`^mission-${missionId}-scheduled-`));
      const final = await r.m.result(r.t, workflowId!);
      expect(final).toMatchObject({ trigger: 'scheduled', status: 'Completed' });
      expect((await r.admin.request('DELETE', `/api/missions/${missionId}/schedule`)).status).toBe(200);
      return workflowId!;
    },
  },
];

/** This release's recording of a scenario. */
const fixturePath = (name: string) => path.join(HISTORIES, `${name}.v${MISSION_INPUT_VERSION}.json`);

// ---- recording (RECORD_HISTORIES=1) -----------------------------------------------------

describe.runIf(RECORD)('recording the histories', () => {
  let r: Recording;
  let worker: RunningWorker;

  beforeAll(async () => {
    // Imported here so that replaying needs nothing but the bundle and the fixtures.
    const { apiClient, createTestApp, userWithRole } = await import('../helpers/app');
    const { ADMIN_TOKEN } = await import('../helpers/env');
    const { startTestWorker } = await import('../helpers/worker');
    const m = await import('../helpers/missions');
    const t = await createTestApp({ MC_SANDBOX_THREADS: '4' });
    worker = await startTestWorker(t);
    const admin = apiClient(t, ADMIN_TOKEN);
    const operatorName = (await userWithRole(t, 'OPERATOR')).username;
    const goodContainer = await m.makeContainer(admin);
    const containerId = await m.makeContainer(admin);
    const failing = 'async () => { throw new Error("boom") }';
    r = {
      t, admin, operatorName, m, goodContainer, containerId,
      p: {
        echo: await m.makePattern(admin, goodContainer, 'async (input, ctx) => ({ n: input.n ?? null, seen: Object.keys(ctx.previous).sort() })'),
        ok: await m.makePattern(admin, containerId, 'async (input) => ({ n: input.n ?? null })'),
        draft: await m.makePattern(admin, containerId, 'async (input, ctx) => ({ draft: `Hi ${input.to}`, notes: ctx.notes })', { failureAction: 'skip' }),
        send: await m.makePattern(admin, containerId, 'async (input, ctx) => ({ sent: ctx.previous.draft ?? null })'),
        slow: await m.makePattern(admin, containerId, 'async (input, ctx) => { const end = ctx.now() + input.ms; while (ctx.now() < end) {} return { slept: input.ms } }', { timeout: 60_000 }),
        failSkip: await m.makePattern(admin, containerId, failing, { failureAction: 'skip', retryCount: 1 }),
        failRetry: await m.makePattern(admin, containerId, failing, { failureAction: 'retry', retryCount: 2 }),
      },
    };
    await mkdir(HISTORIES, { recursive: true });
  });
  afterAll(async () => {
    await worker?.stop();
    await r?.t.close();
  });

  it.each(SCENARIOS)('$name', async (scenario) => {
    const file = fixturePath(scenario.name);
    if (existsSync(file)) return; // recorded already: histories are never re-recorded
    const workflowId = await scenario.record(r);
    const history = await r.t.deps.temporal.client.workflow.getHandle(workflowId).fetchHistory();
    const last = history.events?.at(-1);
    expect(last?.workflowExecutionCompletedEventAttributes ?? last?.workflowExecutionFailedEventAttributes ?? last?.workflowExecutionCanceledEventAttributes).toBeTruthy();
    const text = historyToJSON(history);
    await writeFile(file, text);
    await appendFile(path.join(HISTORIES, 'MANIFEST'), `${createHash('sha256').update(text).digest('hex')}  ${path.basename(file)}\n`);
  });
});

// ---- replay -------------------------------------------------------------------------------

function loadFixtures() {
  const files = existsSync(HISTORIES) ? readdirSync(HISTORIES).filter((f) => f.endsWith('.json')).sort() : [];
  return files.map((file) => ({ workflowId: `fixture:${path.basename(file, '.json')}`, history: historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'))) }));
}

async function replayAll(workflowBundle: { codePath: string } | { code: string }, histories: ReturnType<typeof loadFixtures>): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle, replayName: 'mission-fixtures' }, histories)) results.push(result);
  return results;
}

describe('replaying the saved histories', () => {
  beforeAll(() => {
    // The negative check makes the SDK warn about nondeterminism on purpose; keep errors only.
    // (When recording, the test worker has installed the runtime already.)
    if (RECORD) return;
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) } } });
    } catch {
      // A runtime is already installed in this process: its logging stays.
    }
  });

  it('has a saved history for every scenario', () => {
    const missing = SCENARIOS.filter((s) => !existsSync(fixturePath(s.name))).map((s) => s.name);
    expect(missing, 'record them with RECORD_HISTORIES=1 npx vitest run test/missions/replay.test.ts').toEqual([]);
  });

  it('replays every history against the current workflow code without nondeterminism', async () => {
    const histories = loadFixtures();
    expect(histories.length).toBeGreaterThanOrEqual(SCENARIOS.length);
    const results = await replayAll({ codePath: inject('workflowBundlePath') }, histories);
    expect(results.map((x) => x.workflowId)).toEqual(histories.map((h) => h.workflowId));
    expect(results.filter((x) => x.error).map((x) => `${x.workflowId}: ${x.error!.name}: ${x.error!.message}`)).toEqual([]);
  });

  it('fails on a changed workflow: every history reports a nondeterminism error', async () => {
    const histories = loadFixtures();
    const { code } = await bundleWorkflowCode({ workflowsPath: BROKEN_WORKFLOWS, logger: quietLogger });
    const results = await replayAll({ code }, histories);
    expect(results).toHaveLength(histories.length);
    for (const result of results) {
      expect(result.error?.name, result.workflowId).toBe('DeterminismViolationError');
      expect(result.error?.message, result.workflowId).toMatch(/nondetermin/i);
    }
  });
});

// Operating missions with the real `temporal` CLI (README, "Operating with the
// Temporal CLI"): every command the README lists, run against real runs made
// through the API, with its effect checked. Visibility (list, schedule list)
// is eventually consistent, so those reads poll briefly.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { reconcileOnce } from '../../core/schedules/reconcile';
import { missionScheduleId } from '../../lib/names';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { Progress } from '../../workflows/messages';
import { json, type ApiClient, type TestApp } from '../helpers/app';
import { type MissionEnv, execute, makeMission, makePattern, missionEnv, waitFor, BUSY_PATTERN } from '../helpers/missions';
import { reconcileDeps } from '../helpers/temporal-down';

const execFileP = promisify(execFile);

let t: TestApp;
let env: MissionEnv;
let admin: ApiClient;
let operatorName: string;
let containerId: string;
let draft: string;
let quick: string;
let slow: string;
let workspaceId: string;

beforeAll(async () => {
  env = await missionEnv();
  ({ t, admin, operatorName, containerId } = env);
  draft = await makePattern(admin, containerId, 'async (input) => ({ draft: `Hi ${input.to}` })', { failureAction: 'skip' });
  quick = await makePattern(admin, containerId, 'async (input, ctx) => ({ sent: ctx.previous.draft ?? null })');
  slow = await makePattern(admin, containerId, BUSY_PATTERN, { timeout: 30_000 });
  [{ workspaceId }] = await t.db.sql<[{ workspaceId: string }]>`select id as "workspaceId" from workspaces where is_default`;
});
afterAll(async () => env?.close());

// ---- the CLI ------------------------------------------------------------------

/** Runs the real CLI against the test server; fails with its stderr. */
async function temporal(...args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileP(inject('temporalCli'), [...args, '--address', inject('temporalAddress'), '--namespace', t.config.TEMPORAL_NAMESPACE], {
      timeout: 15_000,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, // no TEMPORAL_* from the caller's shell
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`temporal ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function temporalJson(...args: string[]): Promise<any> {
  const out = (await temporal(...args, '-o', 'json')).trim();
  return out ? JSON.parse(out) : null;
}

interface ListedRun {
  workflowId: string;
  status: string;
  searchAttributes: Record<string, unknown>;
}

/** Search attributes as the CLI prints them: base64 JSON payloads, decoded. */
function decodeSearchAttributes(sa: { indexedFields?: Record<string, { data?: string }> } | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(sa?.indexedFields ?? {}).map(([k, v]) => [k, v.data ? JSON.parse(Buffer.from(v.data, 'base64').toString()) : null]));
}

async function listRuns(query: string): Promise<ListedRun[]> {
  const rows = ((await temporalJson('workflow', 'list', '--query', query)) ?? []) as {
    execution: { workflowId: string }; status: string; searchAttributes?: { indexedFields?: Record<string, { data?: string }> };
  }[];
  return rows.map((r) => ({ workflowId: r.execution.workflowId, status: r.status, searchAttributes: decodeSearchAttributes(r.searchAttributes) }));
}

async function describeRun(workflowId: string): Promise<{ status: string; searchAttributes: Record<string, unknown> }> {
  const { workflowExecutionInfo: info } = await temporalJson('workflow', 'describe', '--workflow-id', workflowId);
  return { status: info.status, searchAttributes: decodeSearchAttributes(info.searchAttributes) };
}

/** The `progress` query through the CLI (empty lists come back as null from the CLI's JSON). */
async function queryProgress(workflowId: string): Promise<Progress> {
  const out = await temporalJson('workflow', 'query', '--workflow-id', workflowId, '--name', 'progress');
  return out.queryResult[0] as Progress;
}

async function signal(workflowId: string, name: string, input?: unknown): Promise<void> {
  await temporal('workflow', 'signal', '--workflow-id', workflowId, '--name', name, ...(input === undefined ? [] : ['--input', JSON.stringify(input)]));
}

/** Polls `read` until `ok` holds; visibility lags the workflow by a moment. */
async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let error: unknown;
  while (Date.now() < deadline) {
    try {
      last = await read();
      error = undefined;
      if (ok(last)) return last;
    } catch (err) {
      error = err;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`not reached in ${timeoutMs} ms; last value: ${JSON.stringify(last)}${error ? `; last error: ${String(error)}` : ''}`);
}

const ids = (runs: ListedRun[]) => runs.map((r) => r.workflowId);

// ---- runs to operate on ---------------------------------------------------------

/** A draft task behind an approval gate, then a send task; returns the run once it waits. */
async function gatedRun(missionId?: string) {
  missionId ??= await makeMission(admin, {
    containerId,
    tasks: [
      { name: 'draft', order: 0, patternId: draft, input: { to: 'Ada' }, requiresApproval: true },
      { name: 'send', order: 1, patternId: quick },
    ],
  });
  const workflowId = await execute(admin, missionId);
  const waiting = await waitFor(t, workflowId, (p) => p.status === 'NeedsApproval');
  return { missionId, workflowId, taskId: waiting.tasks[0]!.id };
}

const audit = (action: string, entityId: string) => listAudit(t.db.sql, { action, entityId, limit: 10 });

/** One reconcile pass of this app (tests run concurrently: wait for the pass another test may be running). */
async function reconcile(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await reconcileOnce(reconcileDeps(t))).ran) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no reconcile pass ran');
}

// ---- the commands ----------------------------------------------------------------

// Independent runs of separate missions: the tests run concurrently to keep the file fast.
describe.concurrent('operating with the temporal CLI', () => {
  it("temporal workflow list: finds runs waiting at an approval gate by MissionStatus, and a mission's runs by MissionId", async () => {
    const first = await gatedRun();
    const second = await gatedRun(first.missionId);

    const inbox = `WorkspaceId='${workspaceId}' AND MissionStatus='NeedsApproval' AND ExecutionStatus='Running'`;
    const waiting = await eventually(() => listRuns(inbox), (r) => ids(r).includes(first.workflowId) && ids(r).includes(second.workflowId));
    const row = waiting.find((r) => r.workflowId === first.workflowId)!;
    expect(row.status).toBe('WORKFLOW_EXECUTION_STATUS_RUNNING');
    expect(row.searchAttributes).toMatchObject({
      MissionId: first.missionId, ContainerId: containerId, MissionStatus: 'NeedsApproval', MissionTrigger: 'manual', WorkspaceId: workspaceId,
    });

    const ofMission = await eventually(() => listRuns(`MissionId='${first.missionId}'`), (r) => r.length === 2);
    expect(ids(ofMission).sort()).toEqual([first.workflowId, second.workflowId].sort());
    expect(await listRuns(`MissionId='${first.missionId}' AND MissionStatus='Paused'`)).toEqual([]);
    const count = await temporalJson('workflow', 'count', '--query', `MissionId='${first.missionId}' AND MissionStatus='NeedsApproval'`);
    expect(Number(count.count)).toBe(2);

    // Cancelling every open run of a mission at once is a batch job.
    await temporal('workflow', 'cancel', '--query', `MissionId='${first.missionId}' AND ExecutionStatus='Running'`, '--reason', 'cleanup', '--yes');
    const closed = await eventually(() => listRuns(`MissionId='${first.missionId}'`), (r) => r.every((x) => x.status === 'WORKFLOW_EXECUTION_STATUS_CANCELED'), 20_000);
    expect(closed.map((r) => r.searchAttributes.MissionStatus)).toEqual(['Cancelled', 'Cancelled']);
  });

  it('temporal workflow query and signal: progress answers what the run is doing; a decision signal from a non-admin is refused, from an admin it is applied', async () => {
    const { missionId, workflowId, taskId } = await gatedRun();
    const waiting = await queryProgress(workflowId);
    expect(waiting).toMatchObject({ missionId, status: 'NeedsApproval', paused: false, percent: 0 });
    expect(waiting.pendingApprovals).toEqual([expect.objectContaining({ taskId, taskName: 'draft', output: { draft: 'Hi Ada' } })]);

    // The workflow checks the actor against the users: only an active admin may decide.
    await signal(workflowId, 'decision', { taskId, action: 'approve', actor: operatorName });
    await signal(workflowId, 'decision', { taskId, action: 'approve' });
    const refused = await eventually(() => queryProgress(workflowId), (p) => (p.refusedDecisions?.length ?? 0) === 2);
    expect(refused.refusedDecisions).toEqual(expect.arrayContaining([
      expect.objectContaining({ taskId, action: 'approve', actor: operatorName, reason: expect.stringMatching(/only admins/) }),
      expect.objectContaining({ taskId, action: 'approve', actor: '', reason: 'a decision must name its actor' }),
    ]));
    expect(refused.status).toBe('NeedsApproval');
    expect(refused.tasks[0]!.decisions ?? []).toEqual([]);
    expect(await audit('approval.refused', workflowId)).toHaveLength(1);

    await signal(workflowId, 'decision', { taskId, action: 'approve', actor: 'admin' });
    const result = await temporalJson('workflow', 'result', '--workflow-id', workflowId);
    expect(result.status).toBe('COMPLETED');
    const final = await queryProgress(workflowId);
    expect(final.status).toBe('Completed');
    expect(final.tasks.map((x) => x.status)).toEqual(['completed', 'completed']);
    expect(final.tasks[0]!.decisions).toEqual([expect.objectContaining({ action: 'approve', actor: 'admin' })]);
    expect(final.tasks[1]!.output).toEqual({ sent: { draft: 'Hi Ada' } });
    expect(await audit('approval.approved', workflowId)).toEqual([expect.objectContaining({ actor: 'admin' })]);
    expect((await describeRun(workflowId)).searchAttributes.MissionStatus).toBe('Completed');
  });

  it('temporal workflow query and signal: a decision signal carries notes or an edited output', async () => {
    const { workflowId, taskId } = await gatedRun();
    await signal(workflowId, 'decision', { taskId, action: 'edit_inline_approve', output: { draft: 'Dear Ada' }, actor: 'admin' });
    await temporal('workflow', 'result', '--workflow-id', workflowId);
    const final = await queryProgress(workflowId);
    expect(final.tasks[0]).toMatchObject({ status: 'completed', output: { draft: 'Dear Ada' }, originalOutput: { draft: 'Hi Ada' } });
    expect(final.tasks[1]!.output).toEqual({ sent: { draft: 'Dear Ada' } });
  });

  it('temporal workflow query and signal: pause makes the run Paused (no new task starts) and resume lets it go on', async () => {
    const missionId = await makeMission(admin, {
      containerId, tasks: [{ name: 'first', order: 0, patternId: slow, input: { ms: 1000 } }, { name: 'second', order: 1, patternId: quick }],
    });
    const workflowId = await execute(admin, missionId);
    await waitFor(t, workflowId, (p) => p.tasks[0]!.status === 'running');

    await signal(workflowId, 'pause', { reason: 'checking numbers' });
    const paused = await eventually(() => describeRun(workflowId), (d) => d.searchAttributes.MissionStatus === 'Paused');
    expect(paused.status).toBe('WORKFLOW_EXECUTION_STATUS_RUNNING');
    expect(ids(await eventually(() => listRuns(`MissionId='${missionId}' AND MissionStatus='Paused'`), (r) => r.length === 1))).toEqual([workflowId]);
    // The running task finishes; the next one waits for resume.
    const held = await eventually(() => queryProgress(workflowId), (p) => p.tasks[0]!.status === 'completed', 15_000);
    expect(held).toMatchObject({ status: 'Paused', paused: true, pauseReason: 'checking numbers' });
    await new Promise((r) => setTimeout(r, 500));
    expect((await queryProgress(workflowId)).tasks[1]!.status).toBe('pending');

    await signal(workflowId, 'resume');
    expect((await temporalJson('workflow', 'result', '--workflow-id', workflowId)).status).toBe('COMPLETED');
    const final = await queryProgress(workflowId);
    expect(final.tasks.map((x) => x.status)).toEqual(['completed', 'completed']);
    expect(final.paused).toBe(false);
    // Signals sent without an actor are audited as the CLI's.
    expect(await audit('run.paused', workflowId)).toEqual([expect.objectContaining({ actor: 'temporal-cli', details: expect.objectContaining({ reason: 'checking numbers' }) })]);
    expect(await audit('run.resumed', workflowId)).toHaveLength(1);
  });

  it('temporal workflow cancel: ends the run Cancelled', async () => {
    const { missionId, workflowId } = await gatedRun();
    await temporal('workflow', 'cancel', '--workflow-id', workflowId);
    const ended = await eventually(() => describeRun(workflowId), (d) => d.status === 'WORKFLOW_EXECUTION_STATUS_CANCELED');
    expect(ended.searchAttributes.MissionStatus).toBe('Cancelled');
    expect(ids(await eventually(() => listRuns(`MissionId='${missionId}' AND MissionStatus='Cancelled'`), (r) => r.length === 1))).toEqual([workflowId]);
    const final = await queryProgress(workflowId);
    expect(final.status).toBe('Cancelled');
    expect(final.tasks.map((x) => x.status)).toEqual(['cancelled', 'cancelled']);
    expect(await audit('run.cancelled', workflowId)).toHaveLength(1);
    const viaApi = await json(await admin.request('GET', `/api/runs/${workflowId}`));
    expect(viaApi.summary.status).toBe('Cancelled');
  });

  it('temporal workflow terminate: ends the run at once, leaving MissionStatus as it was: live lists must also ask ExecutionStatus', async () => {
    const { missionId, workflowId } = await gatedRun();
    await temporal('workflow', 'terminate', '--workflow-id', workflowId, '--reason', 'stuck');
    const ended = await eventually(() => describeRun(workflowId), (d) => d.status === 'WORKFLOW_EXECUTION_STATUS_TERMINATED');
    expect(ended.searchAttributes.MissionStatus).toBe('NeedsApproval');
    expect(ids(await eventually(() => listRuns(`MissionId='${missionId}' AND MissionStatus='NeedsApproval'`), (r) => r.length === 1))).toEqual([workflowId]);
    expect(await listRuns(`MissionId='${missionId}' AND MissionStatus='NeedsApproval' AND ExecutionStatus='Running'`)).toEqual([]);
    // The app maps a terminated run to Cancelled; nothing ran its cleanup, so no run.cancelled entry.
    expect((await json(await admin.request('GET', `/api/runs/${workflowId}`))).summary.status).toBe('Cancelled');
    expect(await audit('run.cancelled', workflowId)).toEqual([]);
  });

  it("temporal workflow show: exports a run's history as JSON that the replayer accepts", async () => {
    const missionId = await makeMission(admin, { containerId, tasks: [{ name: 'only', order: 0, patternId: quick }] });
    const workflowId = await execute(admin, missionId);
    await temporal('workflow', 'result', '--workflow-id', workflowId);
    const exported = await temporalJson('workflow', 'show', '--workflow-id', workflowId);
    expect(exported.events[0].eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
    expect(exported.events.at(-1).eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
    // The same form as test/fixtures/histories/*.json: save it there and the replay test replays it too.
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, historyFromJSON(exported), workflowId);
  });

  it("temporal schedule: list and describe show a mission's schedule made through the API; trigger and toggle act on it", async () => {
    const missionId = await makeMission(admin, { containerId, tasks: [{ name: 'only', order: 0, patternId: quick }] });
    const put = await admin.request('PUT', `/api/missions/${missionId}/schedule`, { cron: '0 9 * * 1-5', timezone: 'America/Toronto' });
    expect(put.status).toBe(200);
    const scheduleId = missionScheduleId(missionId);

    const listed = await eventually(
      async () => ((await temporalJson('schedule', 'list')) ?? []) as { scheduleId: string; info: { workflowType: { name: string }; spec: { timezoneName: string } } }[],
      (rows) => rows.some((s) => s.scheduleId === scheduleId),
    );
    expect(listed.find((s) => s.scheduleId === scheduleId)!.info).toMatchObject({ workflowType: { name: 'missionWorkflow' }, spec: { timezoneName: 'America/Toronto' } });
    expect(await temporal('schedule', 'list')).toContain(scheduleId);

    const described = await temporalJson('schedule', 'describe', '--schedule-id', scheduleId);
    expect(described.schedule.spec.timezoneName).toBe('America/Toronto');
    expect(described.schedule.spec.structuredCalendar[0]).toMatchObject({ hour: [{ start: 9, end: 9 }], dayOfWeek: [{ start: 1, end: 5 }] });
    expect(described.schedule.action.startWorkflow).toMatchObject({
      workflowId: `mission-${missionId}-scheduled`, workflowType: { name: 'missionWorkflow' }, taskQueue: { name: t.config.TEMPORAL_TASK_QUEUE },
    });
    expect(described.info.futureActionTimes.length).toBeGreaterThan(0);

    // Run it now: a run with MissionTrigger=scheduled, which loads the plan itself.
    await temporal('schedule', 'trigger', '--schedule-id', scheduleId);
    const [scheduled] = await eventually(() => listRuns(`MissionId='${missionId}' AND MissionTrigger='scheduled'`), (r) => r.length === 1);
    expect(scheduled!.workflowId).toMatch(new RegExp(`^mission-${missionId}-scheduled-`));
    expect((await temporalJson('workflow', 'result', '--workflow-id', scheduled!.workflowId)).status).toBe('COMPLETED');

    // Pausing from the CLI shows in the app, which reads the state from Temporal; the reconciler
    // takes the change over and audits it once, as temporal-cli with the reason, however often it runs.
    await temporal('schedule', 'toggle', '--schedule-id', scheduleId, '--pause', '--reason', 'maintenance');
    expect((await json(await admin.request('GET', `/api/missions/${missionId}/schedule`))).schedule).toMatchObject({ paused: true, note: 'maintenance' });
    await reconcile();
    await reconcile();
    expect(await audit('schedule.paused', scheduleId)).toEqual([expect.objectContaining({ actor: 'temporal-cli', details: { missionId, note: 'maintenance', source: 'temporal' } })]);
    expect((await json(await admin.request('GET', `/api/missions/${missionId}`))).mission.schedule).toMatchObject({ paused: true, note: 'maintenance' });
    await temporal('schedule', 'toggle', '--schedule-id', scheduleId, '--unpause', '--reason', 'back');
    expect((await json(await admin.request('GET', `/api/missions/${missionId}/schedule`))).schedule).toMatchObject({ paused: false });
    await reconcile();
    await reconcile();
    expect(await audit('schedule.unpaused', scheduleId)).toEqual([expect.objectContaining({ actor: 'temporal-cli', details: { missionId, note: 'back', source: 'temporal' } })]);
    expect(await audit('schedule.paused', scheduleId)).toHaveLength(1);

    expect((await admin.request('DELETE', `/api/missions/${missionId}/schedule`)).status).toBe(200);
    await expect(temporal('schedule', 'describe', '--schedule-id', scheduleId)).rejects.toThrow(/not found/i);
  });

  it('temporal schedule trigger: skips while a run it started is open (the default overlap policy is Skip); --overlap-policy AllowAll runs now', async () => {
    const missionId = await makeMission(admin, { containerId, tasks: [{ name: 'long', order: 0, patternId: slow, input: { ms: 8000 } }] });
    expect((await admin.request('PUT', `/api/missions/${missionId}/schedule`, { cron: '0 3 1 1 *', timezone: 'UTC' })).status).toBe(200);
    const scheduleId = missionScheduleId(missionId);
    const scheduledRuns = () => listRuns(`MissionId='${missionId}' AND MissionTrigger='scheduled' AND ExecutionStatus='Running'`);

    await temporal('schedule', 'trigger', '--schedule-id', scheduleId);
    const [first] = await eventually(scheduledRuns, (r) => r.length === 1);
    await waitFor(t, first!.workflowId, (p) => p.tasks[0]?.status === 'running'); // its plan is loaded first

    // Still open: the plain trigger starts nothing, and Temporal counts it as skipped.
    await temporal('schedule', 'trigger', '--schedule-id', scheduleId);
    const skipped = await eventually(() => temporalJson('schedule', 'describe', '--schedule-id', scheduleId), (d) => Number(d.info.overlapSkipped ?? 0) >= 1);
    expect(Number(skipped.info.overlapSkipped)).toBe(1);
    expect(await scheduledRuns()).toHaveLength(1);

    // Its run id ends in the time to the second, so start the next one in another second.
    await new Promise((r) => setTimeout(r, 1100));
    await temporal('schedule', 'trigger', '--schedule-id', scheduleId, '--overlap-policy', 'AllowAll');
    const both = await eventually(scheduledRuns, (r) => r.length === 2);
    expect(ids(both)).toContain(first!.workflowId);
    for (const id of ids(both)) expect(id).toMatch(new RegExp(`^mission-${missionId}-scheduled-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`));
    await temporal('workflow', 'cancel', '--query', `MissionId='${missionId}' AND ExecutionStatus='Running'`, '--reason', 'done', '--yes');
  });
});

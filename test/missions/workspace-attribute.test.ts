// WorkspaceId on runs and schedules: every run the app starts (API, run now, a schedule's
// action) and every schedule it writes carries its mission's workspace; the CLI finds them
// by it; listRuns keeps to one workspace, the default one also holding the runs from before
// workspaces (no WorkspaceId). The web server registers the attribute itself.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { registerSearchAttributes } from '../../api/server';
import { buildPlan } from '../../core/missions/missions';
import { startOptions } from '../../core/runs/start';
import { countRuns, countRunsByExecutionStatus, listRuns, runQuery, type RunFilter } from '../../core/runs/visibility';
import { syncMissionSchedule } from '../../core/schedules/sync';
import { MISSION_WORKFLOW_TYPE, missionScheduleId, missionWorkflowId } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import { newMissionInput, workspaceIdKey } from '../../workflows/messages';
import { json, type ApiClient, type TestApp } from '../helpers/app';
import { type MissionEnv, eventually, execute, makeMission, makePattern, missionEnv, result } from '../helpers/missions';

const execFileP = promisify(execFile);

let t: TestApp;
let env: MissionEnv;
let admin: ApiClient;
let containerId: string;
let quick: string;
let workspaceId: string;

beforeAll(async () => {
  env = await missionEnv();
  ({ t, admin, containerId } = env);
  quick = await makePattern(admin, containerId, 'async () => ({ ok: true })');
  [{ workspaceId }] = await t.db.sql<[{ workspaceId: string }]>`select id as "workspaceId" from workspaces where is_default`;
});
afterAll(async () => env?.close());

async function temporal(...args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileP(inject('temporalCli'), [...args, '--address', inject('temporalAddress'), '--namespace', t.config.TEMPORAL_NAMESPACE], {
      timeout: 15_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`temporal ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const temporalJson = async (...args: string[]): Promise<any> => JSON.parse((await temporal(...args, '-o', 'json')).trim() || 'null');
const listedIds = async (query: string): Promise<string[]> =>
  (((await temporalJson('workflow', 'list', '--query', query)) ?? []) as { execution: { workflowId: string } }[]).map((r) => r.execution.workflowId);
const scheduleIds = async (query: string): Promise<string[]> =>
  (((await temporalJson('schedule', 'list', '--query', query)) ?? []) as { scheduleId: string }[]).map((s) => s.scheduleId);

const workspaceOfRun = async (workflowId: string) =>
  (await t.deps.temporal.client.workflow.getHandle(workflowId).describe()).typedSearchAttributes.get(workspaceIdKey) ?? null;
const workspaceOfSchedule = async (missionId: string) =>
  (await t.deps.temporal.client.schedule.getHandle(missionScheduleId(missionId)).describe()).typedSearchAttributes.get(workspaceIdKey) ?? null;

const oneTaskMission = () => makeMission(admin, { containerId, tasks: [{ name: 'only', order: 0, patternId: quick }] });
const sorted = (ids: string[]) => [...ids].sort();

describe.concurrent('WorkspaceId', () => {
  it("is on every run started through the API, and the CLI lists and counts a workspace's runs by it", async () => {
    const missionId = await oneTaskMission();
    expect((await json(await admin.request('GET', `/api/missions/${missionId}`))).mission.workspaceId).toBe(workspaceId);
    const workflowId = await execute(admin, missionId);
    await result(t, workflowId);
    expect(await workspaceOfRun(workflowId)).toBe(workspaceId);

    const inWorkspace = await eventually(() => listedIds(`WorkspaceId='${workspaceId}'`), (ids) => ids.includes(workflowId));
    expect(inWorkspace).toContain(workflowId);
    expect(await listedIds(`WorkspaceId='${workspaceId}' AND MissionId='${missionId}'`)).toEqual([workflowId]);
    expect(await listedIds(`WorkspaceId='${randomUUID()}' AND MissionId='${missionId}'`)).toEqual([]);
    const count = await temporalJson('workflow', 'count', '--query', `WorkspaceId='${workspaceId}' AND MissionId='${missionId}'`);
    expect(Number(count.count)).toBe(1);
    const listed = await json(await admin.request('GET', `/api/runs?missionId=${missionId}`));
    expect(listed.runs).toEqual([expect.objectContaining({ workflowId, workspaceId })]);
  });

  it('is on the runs a schedule starts (its trigger and run now) and on the schedule itself, which every rewrite keeps', async () => {
    const missionId = await oneTaskMission();
    expect((await admin.request('PUT', `/api/missions/${missionId}/schedule`, { cron: '0 3 1 1 *', timezone: 'UTC' })).status).toBe(200);
    const scheduleId = missionScheduleId(missionId);
    expect(await workspaceOfSchedule(missionId)).toBe(workspaceId);
    expect(await eventually(() => scheduleIds(`WorkspaceId='${workspaceId}'`), (ids) => ids.includes(scheduleId))).toContain(scheduleId);

    await temporal('schedule', 'trigger', '--schedule-id', scheduleId);
    const query = `WorkspaceId='${workspaceId}' AND MissionId='${missionId}' AND MissionTrigger='scheduled'`;
    const [scheduled] = await eventually(() => listedIds(query), (ids) => ids.length === 1);
    expect(scheduled).toMatch(new RegExp(`^mission-${missionId}-scheduled-`));
    await result(t, scheduled!);

    const ran = await admin.request('POST', `/api/schedules/${missionId}/run`);
    expect(ran.status).toBe(202);
    const { workflowId: now } = await json(ran);
    await result(t, now);
    expect(await workspaceOfRun(now)).toBe(workspaceId);
    expect(sorted(await eventually(() => listedIds(query), (ids) => ids.length === 2))).toEqual(sorted([scheduled!, now]));

    // A schedule from before workspaces has no WorkspaceId; the app's next rewrite (0008 marks every
    // schedule pending) gives it one, and an edit keeps it.
    const handle = t.deps.temporal.client.schedule.getHandle(scheduleId);
    await handle.update((prev) => ({ ...prev, searchAttributes: undefined, typedSearchAttributes: new TypedSearchAttributes([]) }));
    expect(await eventually(() => workspaceOfSchedule(missionId), (ws) => ws === null)).toBeNull();
    await t.db.sql`update mission_sync set schedule_version = schedule_version + 1 where mission_id = ${missionId}`;
    expect((await syncMissionSchedule(t.db.sql, t.deps.temporal, missionId)).outcome).toBe('updated');
    expect(await eventually(() => workspaceOfSchedule(missionId), (ws) => ws !== null)).toBe(workspaceId);

    expect((await admin.request('PUT', `/api/missions/${missionId}/schedule`, { cron: '0 4 1 1 *', timezone: 'UTC' })).status).toBe(200);
    const edited = await eventually(() => handle.describe(), (d) => d.spec.calendars?.[0]?.hour?.[0]?.start === 4);
    expect(edited.typedSearchAttributes.get(workspaceIdKey)).toBe(workspaceId);
    expect((await admin.request('DELETE', `/api/missions/${missionId}/schedule`)).status).toBe(200);
  });

  it('filters listRuns and the counts to one workspace; the default one also lists a run from before workspaces', async () => {
    const missionId = await oneTaskMission();
    const viaApi = await execute(admin, missionId);
    // Started the way the releases before workspaces started runs: no WorkspaceId.
    const plan = await buildPlan(t.db.sql, missionId);
    const start = (workflowId: string, taskQueue: string, ws?: string) =>
      t.deps.temporal.client.workflow.start(MISSION_WORKFLOW_TYPE, {
        taskQueue, workflowId, ...startOptions({ ...plan, workspaceId: ws }, 'manual'),
        args: [newMissionInput({ missionId, trigger: 'manual', plan, startedBy: { id: null, name: 'admin' } })],
      });
    const legacy = missionWorkflowId(missionId, randomUUID().slice(0, 13));
    await start(legacy, t.config.TEMPORAL_TASK_QUEUE);
    // Another workspace's run: on a queue no worker polls, ended below.
    const otherWorkspace = randomUUID();
    const other = missionWorkflowId(missionId, randomUUID().slice(0, 13));
    const otherHandle = await start(other, `${t.config.TEMPORAL_TASK_QUEUE}-idle`, otherWorkspace);
    try {
      await Promise.all([result(t, viaApi), result(t, legacy)]);
      const ids = async (f: RunFilter, order?: 'oldest') => sorted((await listRuns(t.deps.temporal, { missionId, ...f }, 10, order)).runs.map((r) => r.workflowId));
      await eventually(() => ids({ status: 'Completed' }), (found) => found.length === 2);
      await eventually(() => ids({}), (found) => found.length === 3);

      const home = { id: workspaceId, isDefault: true };
      expect(await ids({ workspace: home })).toEqual(sorted([viaApi, legacy]));
      expect(await ids({ workspace: home }, 'oldest')).toEqual(sorted([viaApi, legacy]));
      expect(await ids({ workspace: home, status: 'Completed' })).toEqual(sorted([viaApi, legacy]));
      expect(await ids({ workspace: { id: workspaceId, isDefault: false } })).toEqual([viaApi]);
      expect(await ids({ workspace: { id: otherWorkspace, isDefault: false } })).toEqual([other]);
      expect(await ids({ workspace: { id: "x' OR MissionId != '", isDefault: false } })).toEqual([]);

      const runs = (await listRuns(t.deps.temporal, { missionId }, 10)).runs;
      expect(Object.fromEntries(runs.map((r) => [r.workflowId, r.workspaceId]))).toEqual({ [viaApi]: workspaceId, [legacy]: null, [other]: otherWorkspace });

      expect(await countRuns(t.deps.temporal, { missionId, workspace: home })).toBe(2);
      expect(await countRuns(t.deps.temporal, { missionId, workspace: { id: otherWorkspace, isDefault: false } })).toBe(1);
      expect(await countRunsByExecutionStatus(t.deps.temporal, { missionId, workspace: home })).toEqual({ Completed: 2 });
      expect(await countRunsByExecutionStatus(t.deps.temporal, { missionId, workspace: { id: otherWorkspace, isDefault: false } })).toEqual({ Running: 1 });
    } finally {
      await otherHandle.terminate('test done');
    }
  });

  it('builds the visibility clause: the default workspace adds the runs without one', () => {
    expect(runQuery({ workspace: { id: 'w-1', isDefault: true }, missionId: 'm' }))
      .toBe("WorkflowType = 'missionWorkflow' AND (WorkspaceId = 'w-1' OR WorkspaceId IS NULL) AND MissionId = 'm'");
    expect(runQuery({ workspace: { id: 'w-2', isDefault: false } })).toBe("WorkflowType = 'missionWorkflow' AND WorkspaceId = 'w-2'");
    expect(runQuery({})).toBe("WorkflowType = 'missionWorkflow'");
  });

  it('is registered by the web server itself, so it can start runs in a namespace no worker has set up', async () => {
    const { connection } = t.deps.temporal;
    const namespace = `mc-web-first-${randomUUID().slice(0, 8)}`;
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    await eventually(() => connection.workflowService.describeNamespace({ namespace }).then(() => true, () => false), (ok) => ok);
    const handle: TemporalHandle = { connection, client: new Client({ connection, namespace }), namespace, taskQueue: 'nobody-polls' };
    const missionId = randomUUID();
    const options = startOptions({ missionId, missionName: 'web first', containerId: randomUUID(), priority: 'medium', workspaceId }, 'manual');
    const startRun = (suffix: string) =>
      handle.client.workflow.start(MISSION_WORKFLOW_TYPE, { taskQueue: handle.taskQueue, workflowId: missionWorkflowId(missionId, suffix), args: [], ...options });

    await expect(startRun('before')).rejects.toThrow();
    await registerSearchAttributes(handle, t.deps.logger);
    const run = await startRun('after');
    expect((await run.describe()).typedSearchAttributes.get(workspaceIdKey)).toBe(workspaceId);
    await run.terminate('test done');
  });
});

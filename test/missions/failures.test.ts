// Failure actions (skip, retry, abort), retry policies (none, linear,
// exponential), and maxConcurrency, on the real worker and dev server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClient, type TestApp } from '../helpers/app';
import { type MissionEnv, execute, makeMission, makePattern, missionEnv, result } from '../helpers/missions';

let t: TestApp;
let env: MissionEnv;
let admin: ApiClient;
let containerId: string;

beforeAll(async () => {
  env = await missionEnv({ MC_SANDBOX_THREADS: '4' });
  ({ t, admin, containerId } = env);
});
afterAll(async () => env?.close());

const failing = 'async () => { throw new Error("boom") }';
const ok = 'async (input) => ({ done: input.n ?? true })';

async function failure(workflowId: string): Promise<string> {
  return result(t, workflowId).then(() => 'completed', (err: Error & { cause?: Error }) => err.cause?.message ?? err.message);
}

async function attemptsOf(workflowId: string, taskName: string): Promise<{ attempt: number; finishedAt: Date }[]> {
  return t.db.sql<{ attempt: number; finishedAt: Date }[]>`
    select r.attempt, r.finished_at as "finishedAt" from pattern_runs r join mission_tasks mt on mt.id::text = r.task_id
    where r.workflow_id = ${workflowId} and mt.name = ${taskName} order by r.finished_at`;
}

describe('failure actions', () => {
  it('skip: the task is marked skipped and the mission goes on', async () => {
    const bad = await makePattern(admin, containerId, failing, { failureAction: 'skip', retryCount: 1 });
    const good = await makePattern(admin, containerId, ok);
    const m = await makeMission(admin, { containerId, config: { retryDelayMs: 100 }, tasks: [{ name: 'a', order: 0, patternId: bad }, { name: 'b', order: 1, patternId: good }] });
    const final = await result(t, await execute(admin, m));
    expect(final.status).toBe('Completed');
    expect(final.tasks.map((x) => [x.name, x.status])).toEqual([['a', 'skipped'], ['b', 'completed']]);
    expect(final.tasks[0]).toMatchObject({ attempts: 2, error: { kind: 'runtime', message: expect.stringContaining('boom') } });
  });

  it('retry: retries up to the retry count, then fails the mission', async () => {
    const bad = await makePattern(admin, containerId, failing, { failureAction: 'retry', retryCount: 2 });
    const good = await makePattern(admin, containerId, ok);
    const m = await makeMission(admin, { containerId, config: { retryDelayMs: 100 }, tasks: [{ name: 'a', order: 0, patternId: bad }, { name: 'b', order: 1, patternId: good }] });
    const workflowId = await execute(admin, m);
    expect(await failure(workflowId)).toMatch(/Task "a" failed: Error: boom \(after 3 attempts\)/);
    expect(await attemptsOf(workflowId, 'a')).toHaveLength(3);
    expect(await attemptsOf(workflowId, 'b')).toHaveLength(0);
    const { progress } = await (await admin.request('GET', `/api/runs/${workflowId}`)).json() as { progress: { status: string } };
    expect(progress.status).toBe('Failed');
  });

  it('abort: fails the mission at once, without retrying, and stops its running siblings', async () => {
    const bad = await makePattern(admin, containerId, failing, { failureAction: 'abort', retryCount: 3 });
    const slow = await makePattern(admin, containerId, 'async (i, ctx) => { const end = ctx.now() + 20000; while (ctx.now() < end) {} return 1 }', { timeout: 30000 });
    const m = await makeMission(admin, { containerId, config: { maxConcurrency: 2, retryDelayMs: 100 }, tasks: [{ name: 'a', order: 0, patternId: bad }, { name: 'slow', order: 0, patternId: slow }] });
    const workflowId = await execute(admin, m);
    expect(await failure(workflowId)).toMatch(/Task "a" failed/);
    expect(await attemptsOf(workflowId, 'a')).toHaveLength(1);
    const p = await (await admin.request('GET', `/api/runs/${workflowId}`)).json() as { progress: { tasks: { name: string; status: string }[] } };
    expect(p.progress.tasks.find((x) => x.name === 'slow')!.status).toBe('cancelled');
  });
});

describe('retry policies', () => {
  it('none: a single attempt whatever the retry count', async () => {
    const bad = await makePattern(admin, containerId, failing, { failureAction: 'retry', retryCount: 3 });
    const m = await makeMission(admin, { containerId, config: { retryPolicy: 'none' }, tasks: [{ name: 'a', order: 0, patternId: bad }] });
    const workflowId = await execute(admin, m);
    expect(await failure(workflowId)).toMatch(/boom/);
    expect(await attemptsOf(workflowId, 'a')).toHaveLength(1);
  });

  it('linear keeps the delay between attempts; exponential doubles it', async () => {
    const bad = await makePattern(admin, containerId, failing, { failureAction: 'retry', retryCount: 2 });
    const run = async (policy: 'linear' | 'exponential') => {
      const m = await makeMission(admin, { containerId, config: { retryPolicy: policy, retryDelayMs: 1000 }, tasks: [{ name: 'a', order: 0, patternId: bad }] });
      const workflowId = await execute(admin, m);
      await failure(workflowId);
      const at = (await attemptsOf(workflowId, 'a')).map((r) => r.finishedAt.getTime());
      expect(at).toHaveLength(3);
      // The shape Temporal was given for the task's retries, as recorded in the run's history.
      const history = await t.deps.temporal.client.workflow.getHandle(workflowId).fetchHistory();
      const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runMissionTask')!;
      const retry = scheduled.activityTaskScheduledEventAttributes!.retryPolicy!;
      return { gaps: [at[1]! - at[0]!, at[2]! - at[1]!] as const, coefficient: retry.backoffCoefficient, initial: Number(retry.initialInterval!.seconds ?? 0) };
    };
    const [linear, exponential] = await Promise.all([run('linear'), run('exponential')]);
    expect([linear.initial, linear.coefficient]).toEqual([1, 1]);
    expect([exponential.initial, exponential.coefficient]).toEqual([1, 2]);
    // Temporal never retries before the delay it was given (it may retry later on a busy machine).
    expect(linear.gaps[0]).toBeGreaterThanOrEqual(950);
    expect(linear.gaps[1]).toBeGreaterThanOrEqual(950);
    expect(exponential.gaps[0]).toBeGreaterThanOrEqual(950);
    expect(exponential.gaps[1]).toBeGreaterThanOrEqual(1900);
  });
});

describe('maxConcurrency', () => {
  /** The most task activities the run had scheduled and not yet finished at once, from its history. */
  async function peak(maxConcurrency: number): Promise<number> {
    const p = await makePattern(admin, containerId, ok);
    const tasks = ['a', 'b', 'c', 'd'].map((name) => ({ name, order: 0, patternId: p }));
    const m = await makeMission(admin, { containerId, config: { maxConcurrency }, tasks });
    const workflowId = await execute(admin, m);
    await result(t, workflowId);
    const history = await t.deps.temporal.client.workflow.getHandle(workflowId).fetchHistory();
    const tasksScheduled = new Set<string>();
    let open = 0;
    let most = 0;
    for (const e of history.events!) {
      if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'runMissionTask') {
        tasksScheduled.add(String(e.eventId));
        most = Math.max(most, ++open);
      }
      const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
      if (done && tasksScheduled.has(String(done.scheduledEventId))) open--;
    }
    return most;
  }

  it('runs tasks of the same order in parallel, never more than maxConcurrency at once', async () => {
    expect(await peak(2)).toBe(2);
    expect(await peak(1)).toBe(1);
    expect(await peak(4)).toBe(4); // the control: without the limit all four are scheduled together
  });
});

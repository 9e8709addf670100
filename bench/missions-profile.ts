// Where one task's activity time goes, in-process without Temporal (part of
// bench/missions.ts): each database query and the sandbox run that
// runMissionTask (activities/mission-activities.ts) makes, timed alone, and
// the whole activity next to the bare benchNoop: the activity-side share of
// the per-task difference the Temporal measures show.
//
// What the activity does, and so how to read the rows: a first attempt reads
// the pattern version's code (once per version id; then it is cached in the
// worker), runs it in the sandbox and records the run (runPattern). Only a
// retry looks for a run an earlier attempt already recorded
// (findSucceededRun), and only a failed attempt counts the failures so far
// (countFailedRuns): those rows are what a retry or a failure adds, not what
// every task pays.
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { RunTaskInput } from '../activities/mission-activities';
import { runPattern } from '../core/patterns/run-pattern';
import type { SandboxPool } from '../activities/sandbox';
import { SYSTEM_ACTOR } from '../core/audit/audit-log';
import { countFailedRuns, findSucceededRun, recordRun } from '../core/patterns/pattern-runs';
import type { Sql } from '../db/sql';
import type { MissionPlan } from '../workflows/messages';
import { fmt, log, table, timeEach, type Stats } from './lib';
import type { BuiltActivities } from './stack';

const ITER = 200;
const WARM = 20;
const BURST = 50;
const BURST_ITER = 40;

/** Times, without Temporal, each step runMissionTask takes for the plan's first (trivial) task, and the whole activity. */
export async function activityProfile(sql: Sql, sandbox: SandboxPool, activities: BuiltActivities, benchNoop: () => Promise<unknown>, plan: MissionPlan): Promise<void> {
  const task = plan.tasks[0]!;
  const pinned = task.pattern!;
  const [{ code }] = (await sql`select code from pattern_versions where id = ${pinned.versionId}`) as unknown as [{ code: string }];
  const fresh = () => ({ workflowId: `mission-bench-${randomUUID()}`, runId: randomUUID() });
  const lookup = () => {
    const w = fresh();
    return { workflowId: w.workflowId, taskId: task.id, keyPrefix: `${w.workflowId}/${w.runId}/${task.id}/1/` };
  };
  const context = (w: { workflowId: string; runId: string }) => ({
    previous: {}, notes: null, attempt: 1, task: { id: task.id, name: task.name },
    mission: { id: plan.missionId, name: plan.missionName, workflowId: w.workflowId, runId: w.runId },
  });
  const taskInput = (): RunTaskInput => ({
    missionId: plan.missionId, missionName: plan.missionName, taskId: task.id, taskName: task.name, execSeq: 1, pattern: pinned,
    input: task.input, previous: {}, notes: [], runInput: null, maxPatternAttempts: 1, startedBy: SYSTEM_ACTOR,
  });
  const inActivity = <R>(fn: () => Promise<R>, attempt = 1) =>
    new MockActivityEnvironment({ workflowExecution: fresh(), activityId: '1', attempt }).run(fn);

  const steps: [string, Stats][] = [];
  const step = async (name: string, fn: () => Promise<unknown>, iterations = ITER) => steps.push([name, await timeEach(iterations, WARM, fn)]);
  const run = () => ({
    executionKey: `${fresh().workflowId}/bench/${task.id}/1/1`, patternId: pinned.patternId, versionId: pinned.versionId,
    patternName: pinned.patternName, version: pinned.version, source: 'mission' as const, missionId: plan.missionId, workflowId: 'bench', taskId: task.id,
    attempt: 1, status: 'succeeded' as const, output: { ok: true }, logs: [], outbound: [], durationMs: 0.1, actor: SYSTEM_ACTOR.name,
  });
  await step('select code from pattern_versions (first use of a version; then cached)', () => sql`select code from pattern_versions where id = ${pinned.versionId}`);
  await step('sandbox.run (trivial pattern)', () => sandbox.run({ code, input: task.input, context: context(fresh()), timeoutMs: pinned.config.timeout }));
  await step('recordRun (one run)', () => recordRun(sql, run()));
  // 50 parallel tasks of one pattern finishing together: they share no row, so none waits for another's lock.
  await step(`recordRun, ${BURST} at once for one pattern (the whole burst)`, () => Promise.all(Array.from({ length: BURST }, () => recordRun(sql, run()))), BURST_ITER);
  await step('runPattern (sandbox.run + recordRun)', () => {
    const w = fresh();
    const prefix = `${w.workflowId}/${w.runId}/${task.id}/1/`;
    return runPattern({ sql, sandbox, adapters: {} }, {
      pattern: { ...pinned, code }, input: task.input, context: context(w), executionKey: `${prefix}1`, effectsKey: prefix,
      source: 'mission', actor: SYSTEM_ACTOR, missionId: plan.missionId, workflowId: w.workflowId, taskId: task.id, attempt: 1,
    });
  });
  await step('findSucceededRun (retries only: none found)', () => findSucceededRun(sql, lookup()));
  await step('countFailedRuns (failed attempts only)', () => countFailedRuns(sql, lookup()));
  await step('runMissionTask, whole activity, attempt 1', () => inActivity(() => activities.runMissionTask(taskInput())));
  await step('runMissionTask, whole activity, attempt 2 (a retry)', () => inActivity(() => activities.runMissionTask(taskInput()), 2));
  await step('benchNoop, whole activity (baseline)', () => inActivity(benchNoop));

  const [{ rows }] = (await sql`select count(*)::int as rows from pattern_runs`) as unknown as [{ rows: number }];
  const [{ collate }] = (await sql`select datcollate as collate from pg_database where datname = current_database()`) as unknown as [{ collate: string }];
  const at = lookup();
  // The statement findSucceededRun runs (core/patterns/pattern-runs.ts), with this task's values.
  const explained = await sql`
    explain select 1 from pattern_runs
    where workflow_id = ${at.workflowId} and task_id = ${at.taskId} and execution_key like ${`${at.keyPrefix}%`} and status = 'succeeded'
    order by finished_at limit 1`;
  const scan = explained.map((r) => String(Object.values(r)[0])).find((l) => /Scan/.test(l))?.trim() ?? '?';

  const p50 = (prefix: string) => steps.find(([n]) => n.startsWith(prefix))![1].p50;
  log(`\nOne task's activity, in-process without Temporal (ms, ${ITER} calls each after ${WARM} untimed)`);
  log(table(['step', 'p50', 'p90', 'mean'], steps.map(([name, s]) => [name, fmt(s.p50, 3), fmt(s.p90, 3), fmt(s.mean, 3)])));
  const first = p50('runMissionTask, whole activity, attempt 1');
  const retry = p50('runMissionTask, whole activity, attempt 2');
  log(`runMissionTask - benchNoop: ${fmt(first - p50('benchNoop'), 3)} ms p50 per task (sequential tasks pay it on the critical path); a retry adds ${fmt(retry - first, 3)} ms`);
  log(`findSucceededRun plan with ${rows} pattern_runs rows (database collation ${collate}): ${scan}`);
}

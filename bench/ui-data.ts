// The runs bench/ui.ts measures against, made through the core functions
// (executeMission, controlRun) so every board column has cards:
//   Completed      1,000 runs of a one-task mission (trivial pattern), 50 in
//                  flight at a time, each awaited to completion;
//   NeedsApproval  runs waiting at an approval gate (a few of them then
//                  cancelled -> Cancelled);
//   Paused         runs of a two-task mission, paused while their first task
//                  waited at its gate, then approved (a pending approval shows
//                  over a pause: they read Paused once the gate is passed);
//   Failed         runs of a mission whose only pattern throws (abort, no retry);
//   Running        runs started on a task queue no worker polls (they stay Running);
//   drafts         a few draft missions.
// It returns once Temporal visibility (countRuns) shows all of them.
import { WorkflowFailedError } from '@temporalio/client';
import { SYSTEM_ACTOR } from '../core/audit/audit-log';
import { BOARD_COLUMNS } from '../core/board/board';
import { controlRun } from '../core/runs/control';
import { decide } from '../core/runs/decisions';
import { executeMission } from '../core/runs/start';
import { countRuns, type RunFilter } from '../core/runs/visibility';
import { missionInput } from '../core/missions/schemas';
import { createMission } from '../core/missions/missions';
import type { MissionStatus } from '../lib/names';
import type { Progress } from '../workflows/messages';
import { elapsed, fmt, log } from './lib';
import { benchContainer, type BenchClient, type Stack } from './stack';

/** 1,000; fewer (at least 100) with UI_BENCH_COMPLETED_RUNS, to try the bench out quickly. */
const COMPLETED_RUNS = Math.max(100, Number(process.env.UI_BENCH_COMPLETED_RUNS) || 1000);
const IN_FLIGHT = 50;
const APPROVAL_RUNS = 30;
const PAUSED_RUNS = 4;
const CANCELLED_RUNS = 4;
const FAILED_RUNS = 5;
const RUNNING_RUNS = 4;
export const DRAFTS = 5;

export interface Seeded {
  /** Workflow ids of the completed runs, in completion order. */
  completedIds: string[];
  /** Workflow ids of the runs still waiting at the approval gate. */
  waitingIds: string[];
  /** Runs per board column. */
  expected: Record<MissionStatus, number>;
}

/** Makes the runs; `t0` is when the bench started (for the progress line). */
export async function seedRuns(stack: Stack, bench: BenchClient, t0: number): Promise<Seeded> {
  const { sql } = stack;
  const { client, call, handle } = bench;
  const nowhere = { ...handle, taskQueue: `${handle.taskQueue}-no-worker` };
  const container = await benchContainer(stack);
  const trivial = await container.pattern('trivial', 'async (input) => ({ ok: true })');
  const failing = await container.pattern('failing', "async (input) => { throw new Error('planned failure'); }", 'abort');
  const mission = async (name: string, patternId: string, opts: { status?: 'draft' | 'active'; approval?: boolean; retryPolicy?: 'none'; then?: boolean } = {}) =>
    (
      await createMission(
        sql,
        missionInput.parse({
          name: `${name} ${container.suffix}`, type: 'manual', status: opts.status ?? 'active', containerId: container.id,
          config: opts.retryPolicy ? { retryPolicy: opts.retryPolicy } : {},
          tasks: [
            { name: 'only task', order: 0, patternId, requiresApproval: opts.approval ?? false },
            ...(opts.then ? [{ name: 'then', order: 1, patternId, requiresApproval: false }] : []),
          ],
        }),
        SYSTEM_ACTOR,
      )
    ).mission;
  const done = await mission('Nightly digest', trivial.id);
  const gated = await mission('Reviewed outreach', trivial.id, { approval: true });
  const twoStep = await mission('Reviewed then sent', trivial.id, { approval: true, then: true });
  const broken = await mission('Flaky import', failing.id, { retryPolicy: 'none' });
  const stuck = await mission('Queued elsewhere', trivial.id);
  for (let i = 0; i < DRAFTS; i++) await mission(`Draft idea ${i + 1}`, trivial.id, { status: 'draft' });

  const execute = (missionId: string, via = handle) => executeMission(sql, via, { missionId, trigger: 'manual', actor: SYSTEM_ACTOR });
  const since = performance.now();
  const openIds: string[] = [];
  for (let i = 0; i < APPROVAL_RUNS - PAUSED_RUNS; i++) openIds.push((await execute(gated.id)).workflowId);
  const pausedIds: string[] = [];
  for (let i = 0; i < PAUSED_RUNS; i++) pausedIds.push((await execute(twoStep.id)).workflowId);
  for (let i = 0; i < RUNNING_RUNS; i++) await execute(stuck.id, nowhere);
  const failures = Array.from({ length: FAILED_RUNS }, async () => {
    const { workflowId } = await execute(broken.id);
    const outcome = await call(() => client.workflow.getHandle(workflowId).result()).then(
      () => 'completed',
      (err) => (err instanceof WorkflowFailedError ? 'failed' : Promise.reject(err)),
    );
    if (outcome !== 'failed') throw new Error(`run ${workflowId} of the failing mission ${outcome}`);
  });

  const completedIds: string[] = [];
  let begun = 0;
  const lane = async () => {
    while (begun < COMPLETED_RUNS) {
      begun++;
      const { workflowId } = await execute(done.id);
      const progress = (await call(() => client.workflow.getHandle(workflowId).result())) as Progress;
      if (progress.status !== 'Completed') throw new Error(`run ${workflowId} ended ${progress.status}`);
      completedIds.push(workflowId);
      if (completedIds.length % 250 === 0) log(`  ${completedIds.length} runs completed (${elapsed(since)})`);
    }
  };
  await Promise.all([...failures, ...Array.from({ length: IN_FLIGHT }, lane)]);
  log(`created ${completedIds.length} completed runs (${IN_FLIGHT} in flight) in ${elapsed(since)}: ${fmt(completedIds.length / ((performance.now() - since) / 1000), 1)} runs/s`);

  // Approval runs: wait until they all wait, then cancel some; pause the two-task ones and pass their gate.
  const byStatus = (status: MissionStatus, f: RunFilter = {}) => call(() => countRuns(handle, { ...f, status }));
  await waitFor('approval runs waiting', async () =>
    (await byStatus('NeedsApproval', { missionId: gated.id })) === APPROVAL_RUNS - PAUSED_RUNS && (await byStatus('NeedsApproval', { missionId: twoStep.id })) === PAUSED_RUNS);
  const admin = { id: null, name: stack.config.MC_ADMIN_USERNAME };
  const gate = twoStep.tasks!.find((t) => t.order === 0)!;
  for (const id of pausedIds) {
    await controlRun(sql, handle, id, 'pause', SYSTEM_ACTOR, 'bench');
    await decide(sql, handle, id, { taskId: gate.id, action: 'approve' }, admin);
  }
  for (const id of openIds.slice(0, CANCELLED_RUNS)) await controlRun(sql, handle, id, 'cancel', SYSTEM_ACTOR, 'bench');
  const expected: Record<MissionStatus, number> = {
    Running: RUNNING_RUNS, Paused: PAUSED_RUNS, NeedsApproval: APPROVAL_RUNS - PAUSED_RUNS - CANCELLED_RUNS,
    Completed: COMPLETED_RUNS, Failed: FAILED_RUNS, Cancelled: CANCELLED_RUNS,
  };
  let counts: number[] = [];
  const shown = () => BOARD_COLUMNS.map((col, i) => `${col.status} ${counts[i]}/${expected[col.status]}`).join(', ');
  await waitFor('visibility to show every run', async () => {
    counts = await Promise.all(BOARD_COLUMNS.map((col) => byStatus(col.status)));
    return BOARD_COLUMNS.every((col, i) => counts[i] === expected[col.status]);
  }, 60_000, shown);
  log(`runs by column: ${BOARD_COLUMNS.map((col, i) => `${col.status} ${counts[i]}`).join(', ')}; ${DRAFTS} drafts (ready after ${elapsed(t0)})`);
  return { completedIds, waitingIds: openIds.slice(CANCELLED_RUNS), expected };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000, state?: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${state ? ` (shown/expected: ${state()})` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

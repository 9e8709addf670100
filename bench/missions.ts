// What a mission costs on top of Temporal itself: the real missionWorkflow
// running N trivial tasks, side by side with a bare workflow running N
// trivial activities, on the same Temporal dev server, the same worker and
// the same worker settings.
//
//   npx tsx bench/missions.ts
//
// Setup (bench/stack.ts; all throwaway, removed at the end even on failure):
// an embedded PostgreSQL (fsync off, as in the tests) and an in-memory
// `temporal server start-dev` on free ports; one worker built by
// createMissionWorker, whose bundle comes from bench/workflows.ts
// (missionWorkflow re-exported, plus the bare workflows) and whose activities
// are createActivities' plus `benchNoop`.
//
// Subjects, for N = 1, 10, 50:
//   mission   missionWorkflow started exactly as core/runs/runs.ts
//             executeMission starts it (plan snapshot as input, search
//             attributes, memo, summary), one fixed trivial pattern
//             `async (input) => ({ ok: true })` on every task.
//             "sequential": tasks in orders 0..N-1, so one after another;
//             "parallel": all N tasks in order 0 with maxConcurrency = N.
//   bare      bench/workflows.ts bareSequentialWorkflow / bareParallelWorkflow:
//             N activities `async () => ({ ok: true })`, nothing else.
// The plan is built once per mission, before timing: executeMission's own
// database work (getMission, buildPlan, the audit entry) happens in the API
// before the start and is not in these numbers.
//
// Measures (bench/missions-measures.ts):
//   latency     start -> result, one run at a time, mission and bare runs
//               interleaved after a warm-up; p50 (and p90) in ms.
//   throughput  `concurrent` runs started at once, runs/s until the last result.
//   ratio       mission / bare for latency, bare runs/s / mission runs/s for
//               throughput: both read "how many times slower the mission is".
//               Target: within 1.10x of the bare workflow (ratio <= 1.10).
//   CPU/run     during the throughput batches, the CPU each run cost this
//               process (worker, sandbox threads, client), the Temporal dev
//               server and PostgreSQL (bench/cpu.ts): where a mission's extra
//               work lands, and a ratio that other load on a shared machine
//               disturbs less than wall-clock time.
//   per task    (mission p50 - bare p50) / N: what each task adds.
//   history     one run's history: events and bytes as Temporal stores them
//               (protobuf), by event type for N=1 and N=10 parallel.
//   replay      each subject's recorded history replayed in a replay worker:
//               what the workflow code itself costs per run (workflow-thread
//               CPU, no server, no activities); "+ms/task" is the mission's
//               extra workflow-side time per task.
// Then an in-process breakdown of one task's activity (no Temporal,
// bench/missions-profile.ts): each database query and the sandbox run that
// runMissionTask makes, timed alone, and the whole activity (a first attempt,
// and a retry) next to the bare one: the activity-side share of the per-task
// difference. A first attempt skips the prior-run lookup and reads a pattern
// version's code once (then cached), so its rows mark which steps every task
// pays and which only a retry or a failure does.
//
// How to read it: a sequential run waits for one server round trip per task
// (workflow task -> activity task -> workflow task), tens of ms on a dev
// server, the same for both subjects, so sequential latency ratios sit near
// 1.0x whatever the mission adds; the "+ms/task" columns are the real cost.
// Parallel runs and throughput put the worker's CPU (activity work, workflow
// code, the sandbox, PostgreSQL on the same cores) on the critical path: that
// is where a per-task overhead turns into a ratio.
//
// Missing a target is reported, not fatal: the exit code is non-zero only when
// something fails outright. Numbers on a small, shared machine are noisy;
// compare ratios within one run rather than absolute times across runs.
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { SYSTEM_ACTOR } from '../core/audit/audit-log';
import { startOptions } from '../core/runs/start';
import { missionInput } from '../core/missions/schemas';
import { buildPlan, createMission } from '../core/missions/missions';
import { MISSION_WORKFLOW_TYPE, missionWorkflowId } from '../lib/names';
import { newMissionInput, type MissionPlan, type Progress } from '../workflows/messages';
import { cpuSampler } from './cpu';
import { elapsed, log, runBench } from './lib';
import { historySize, latencyPair, replayCosts, throughputPair, type Runner } from './missions-measures';
import { activityProfile } from './missions-profile';
import { missedTargets, report, type Row, type Spec } from './missions-report';
import { benchContainer, connectClient, describeStack, startStack, startWorker, untilDone } from './stack';

const WORKFLOWS = new URL('./workflows.ts', import.meta.url).pathname;
const PATTERN_CODE = 'async (input) => ({ ok: true })';
const TARGET_RATIO = 1.1;
/** The whole measurement gives up after this long (a stuck run would otherwise wait forever). */
const DEADLINE_MS = 8 * 60_000;

const SPECS: Spec[] = [
  { n: 1, mode: 'sequential', iterations: 15, warmup: 3, concurrent: 10, rounds: 4 },
  { n: 10, mode: 'sequential', iterations: 15, warmup: 1, concurrent: 10, rounds: 2 },
  { n: 10, mode: 'parallel', iterations: 15, warmup: 1, concurrent: 10, rounds: 4 },
  // Same code path as N=10 sequential, already warm; each run takes N dispatch round trips.
  { n: 50, mode: 'sequential', iterations: 5, warmup: 0, concurrent: 5, rounds: 1 },
  { n: 50, mode: 'parallel', iterations: 5, warmup: 1, concurrent: 5, rounds: 1 },
];

runBench(async (cleanup) => {
  const t0 = performance.now();
  const stack = await startStack(cleanup, { tmpPrefix: 'mc-bench-', workflowsPath: WORKFLOWS });
  const { sql, sandbox, config } = stack;
  const benchNoop = async () => ({ ok: true as const });
  const worker = await startWorker(stack, cleanup, { benchNoop });
  const { client, call } = await connectClient(stack, cleanup);
  const taskQueue = config.TEMPORAL_TASK_QUEUE;
  const cpu = cpuSampler(stack.temporalPid);

  // ---- fixtures: one container, one trivial pattern, a mission per scenario ---------
  const container = await benchContainer(stack);
  const pattern = await container.pattern('trivial', PATTERN_CODE);
  const plans = new Map<Spec, MissionPlan>();
  for (const spec of SPECS) {
    const { mission } = await createMission(
      sql,
      missionInput.parse({
        name: `bench-${spec.mode}-${spec.n}-${container.suffix}`, type: 'manual', status: 'active', containerId: container.id,
        config: { maxConcurrency: spec.mode === 'parallel' ? spec.n : 1 },
        tasks: Array.from({ length: spec.n }, (_, i) => ({ name: `t${i}`, order: spec.mode === 'parallel' ? 0 : i, patternId: pattern.id })),
      }),
      SYSTEM_ACTOR,
    );
    plans.set(spec, await buildPlan(sql, mission.id));
  }

  const missionRunner = (plan: MissionPlan): Runner => async () => {
    // As core/runs/runs.ts executeMission starts a run.
    const workflowId = missionWorkflowId(plan.missionId, randomUUID().slice(0, 13));
    const args = newMissionInput({ missionId: plan.missionId, trigger: 'manual', plan, input: undefined, startedBy: SYSTEM_ACTOR });
    const progress = await call(async () => {
      const handle: WorkflowHandle = await client.workflow.start(MISSION_WORKFLOW_TYPE, {
        taskQueue, workflowId, args: [args], ...startOptions(plan, 'manual'),
      });
      return (await handle.result()) as Progress;
    });
    if (progress.status !== 'Completed' || progress.tasks.some((t) => t.status !== 'completed')) {
      throw new Error(`mission run ${workflowId} did not complete: ${JSON.stringify(progress).slice(0, 500)}`);
    }
    return workflowId;
  };
  const bareRunner = (spec: Spec): Runner => async () => {
    const type = spec.mode === 'parallel' ? 'bareParallelWorkflow' : 'bareSequentialWorkflow';
    const workflowId = `bench-${type}-${spec.n}-${randomUUID().slice(0, 13)}`;
    const result = await call(async () => {
      const handle = await client.workflow.start(type, { taskQueue, workflowId, args: [spec.n] });
      return (await handle.result()) as { ok?: boolean; n?: number };
    });
    if (result?.ok !== true || result.n !== spec.n) throw new Error(`bare run ${workflowId} returned ${JSON.stringify(result)}`);
    return workflowId;
  };

  const measure = async (): Promise<void> => {
    log(`${describeStack(stack)}, ready after ${elapsed(t0)}`);

    // Warm everything once (JIT, bundle, sandbox threads, connection pools) before any timing.
    const first = SPECS[0]!;
    await latencyPair(missionRunner(plans.get(first)!), bareRunner(first), 0, 5);

    // ---- Temporal measures -------------------------------------------------------------
    const rows: Row[] = [];
    for (const spec of SPECS) {
      const since = performance.now();
      const mission = missionRunner(plans.get(spec)!);
      const bare = bareRunner(spec);
      const [ml, bl, mId, bId] = await latencyPair(mission, bare, spec.iterations, spec.warmup);
      const [mt, bt] = await throughputPair(mission, bare, spec.concurrent, spec.rounds, cpu);
      const [mh, bh] = await call(() => Promise.all([historySize(client, mId), historySize(client, bId)]));
      rows.push({ spec, mission: { latency: ml, throughput: mt, history: mh }, bare: { latency: bl, throughput: bt, history: bh } });
      log(`  measured N=${spec.n} ${spec.mode} in ${elapsed(since)}`);
    }
    await replayCosts(stack.bundlePath, rows.flatMap((r) => [r.mission.history, r.bare.history]), 3);
    report(rows, TARGET_RATIO);

    // ---- where a task's time goes, in-process --------------------------------------------
    await activityProfile(sql, sandbox, worker.activities, benchNoop, plans.get(SPECS[0]!)!);

    const missed = missedTargets(rows, TARGET_RATIO);
    log(
      `\ntarget: mission within ${TARGET_RATIO}x of the bare workflow -> ` +
        (missed.length ? `MISSED for ${missed.length} of ${rows.length * 2}: ${missed.join('; ')}` : `met for all ${rows.length * 2} measures`),
    );
    log(`total time ${elapsed(t0)} (cleanup follows)`);
  };

  await untilDone(cleanup, measure(), worker.done, DEADLINE_MS);
});

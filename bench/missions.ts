// What a mission costs on top of Temporal itself: the real missionWorkflow
// running N trivial tasks, side by side with a bare workflow running N
// trivial activities, on the same Temporal dev server, the same worker and
// the same worker settings.
//
//   npx tsx bench/missions.ts
//
// Setup (all throwaway, removed at the end even on failure): an embedded
// PostgreSQL (fsync off, as in the tests) and an in-memory `temporal server
// start-dev` on free ports; one worker built by createMissionWorker, whose
// bundle comes from bench/workflows.ts (missionWorkflow re-exported, plus the
// bare workflows) and whose activities are createActivities' plus `benchNoop`.
//
// Subjects, for N = 1, 10, 50:
//   mission   missionWorkflow started exactly as core/mission-runs.ts
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
// Measures:
//   latency     start -> result, one run at a time, mission and bare runs
//               interleaved after a warm-up; p50 (and p90) in ms.
//   throughput  `concurrent` runs started at once, runs/s until the last result.
//   ratio       mission / bare for latency, bare runs/s / mission runs/s for
//               throughput: both read "how many times slower the mission is".
//               Target: within 1.25x of the bare workflow (ratio <= 1.25).
//   per task    (mission p50 - bare p50) / N: what each task adds.
//   replay      each subject's recorded history replayed in a replay worker:
//               what the workflow code itself costs per run (workflow-thread
//               CPU, no server, no activities); "+ms/task" is the mission's
//               extra workflow-side time per task.
// Then an in-process breakdown of one task's activity (no Temporal): each
// database query and the sandbox run that runMissionTask makes, timed alone,
// and the whole activity next to the bare one: the activity-side share of
// the per-task difference.
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
import { randomBytes, randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { RunTaskInput } from '../activities/mission-activities';
import { createAdapters } from '../activities/outbound';
import { runPattern } from '../activities/pattern-run';
import { createSandbox } from '../activities/sandbox';
import { SYSTEM_ACTOR } from '../core/audit';
import { createContainer } from '../core/containers';
import { startOptions } from '../core/mission-runs';
import { missionInput } from '../core/mission-schemas';
import { buildPlan, createMission } from '../core/missions';
import { createPattern } from '../core/patterns';
import { findSucceededRun, recordRun } from '../core/runs';
import { containerInput, patternInput } from '../core/schemas';
import { prepareDatabase } from '../core/setup';
import type { Sql } from '../db/sql';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { MISSION_WORKFLOW_TYPE, missionWorkflowId } from '../lib/names';
import { freePort } from '../lib/ports';
import { ensureSearchAttributes } from '../lib/temporal';
import { startEmbeddedPostgres, type EmbeddedDb } from '../scripts/embedded-postgres';
import { ensureTemporalCli } from '../scripts/temporal-cli';
import { startTemporalDevServer, type DevServer } from '../scripts/temporal-dev-server';
import type { MissionInput, MissionPlan, Progress } from '../workflows/messages';
import { createMissionWorker, installTemporalLogging } from '../worker';
import { Cleanup, fmt, stats, table, timeEach, type Stats } from './lib';

const WORKFLOWS = new URL('./workflows.ts', import.meta.url).pathname;
const PATTERN_CODE = 'async (input) => ({ ok: true })';
const TARGET_RATIO = 1.25;
/** The whole measurement gives up after this long (a stuck run would otherwise wait forever). */
const DEADLINE_MS = 8 * 60_000;

interface Spec {
  n: number;
  mode: 'sequential' | 'parallel';
  iterations: number;
  warmup: number;
  /** Runs started at once for the throughput measure, and how many such rounds. */
  concurrent: number;
  rounds: number;
}

const SPECS: Spec[] = [
  { n: 1, mode: 'sequential', iterations: 15, warmup: 3, concurrent: 10, rounds: 2 },
  { n: 10, mode: 'sequential', iterations: 15, warmup: 1, concurrent: 10, rounds: 2 },
  { n: 10, mode: 'parallel', iterations: 15, warmup: 1, concurrent: 10, rounds: 2 },
  // Same code path as N=10 sequential, already warm; each run takes N dispatch round trips.
  { n: 50, mode: 'sequential', iterations: 5, warmup: 0, concurrent: 5, rounds: 1 },
  { n: 50, mode: 'parallel', iterations: 5, warmup: 1, concurrent: 5, rounds: 1 },
];

type Runner = () => Promise<string>;

interface Row {
  spec: Spec;
  mission: { latency: Stats; perSecond: number; history: HistorySize };
  bare: { latency: Stats; perSecond: number; history: HistorySize };
}

interface HistorySize {
  events: number;
  kb: number;
  /** Replaying it: the CPU time the workflow code itself takes for one run (p50, ms). */
  replayMs?: number;
  history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
}

const log = (line: string) => console.log(line);
const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** Latency of two runners, interleaved (alternating which goes first) after a shared warm-up. */
async function latencyPair(a: Runner, b: Runner, iterations: number, warmup: number): Promise<[Stats, Stats, string, string]> {
  for (let i = 0; i < warmup; i++) {
    await a();
    await b();
  }
  const sa: number[] = [];
  const sb: number[] = [];
  let lastA = '';
  let lastB = '';
  const timed = async (run: Runner, into: number[]) => {
    const t = performance.now();
    const id = await run();
    into.push(performance.now() - t);
    return id;
  };
  for (let i = 0; i < iterations; i++) {
    if (i % 2 === 0) {
      lastA = await timed(a, sa);
      lastB = await timed(b, sb);
    } else {
      lastB = await timed(b, sb);
      lastA = await timed(a, sa);
    }
  }
  return [stats(sa), stats(sb), lastA, lastB];
}

/** Runs/s of `concurrent` runs started together, over `rounds` rounds (a and b alternate). */
async function throughputPair(a: Runner, b: Runner, concurrent: number, rounds: number): Promise<[number, number]> {
  const ms = [0, 0];
  const batch = async (run: Runner, slot: 0 | 1) => {
    const t = performance.now();
    await Promise.all(Array.from({ length: concurrent }, () => run()));
    ms[slot]! += performance.now() - t;
  };
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      await batch(a, 0);
      await batch(b, 1);
    } else {
      await batch(b, 1);
      await batch(a, 0);
    }
  }
  return [(concurrent * rounds * 1000) / ms[0]!, (concurrent * rounds * 1000) / ms[1]!];
}

async function historySize(client: Client, workflowId: string): Promise<HistorySize> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return { events: history.events?.length ?? 0, kb: JSON.stringify(history).length / 1024, history };
}

/**
 * Replays every recorded history `rounds` times in one replay worker (the first round warms it
 * and is dropped): what the workflow code costs per run on the workflow thread, server aside.
 */
async function replayCosts(bundlePath: string, subjects: HistorySize[], rounds: number): Promise<void> {
  const list = Array.from({ length: rounds + 1 }, () => subjects.map((h, i) => ({ workflowId: `replay-${i}`, history: h.history }))).flat();
  const samples = subjects.map((): number[] => []);
  let i = 0;
  let t = performance.now();
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: bundlePath } }, list)) {
    if (result.error) throw result.error;
    if (i >= subjects.length) samples[i % subjects.length]!.push(performance.now() - t);
    i++;
    t = performance.now();
  }
  subjects.forEach((h, k) => (h.replayMs = stats(samples[k]!).p50));
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const cleanup = new Cleanup();
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`\n${sig}: cleaning up…`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // ---- servers ---------------------------------------------------------------
    const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'mc-bench-'));
    cleanup.add('remove the temp dir', () => rm(tmpDir, { recursive: true, force: true }));
    await chmod(tmpDir, 0o755); // PostgreSQL runs as its own user when we are root

    const cli = await ensureTemporalCli({ explicit: process.env.TEMPORAL_CLI || undefined, log });
    const quiet = () => {};
    const started = await Promise.allSettled([
      freePort().then((port) => startEmbeddedPostgres({ dir: path.join(tmpDir, 'pg'), port, database: 'bench', persistent: false })),
      freePort().then((port) => startTemporalDevServer({ cli, port })),
      bundleWorkflowCode({ workflowsPath: WORKFLOWS, logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: (m) => console.error(m) } }),
    ] as const);
    if (started[0].status === 'fulfilled') {
      const db: EmbeddedDb = started[0].value;
      cleanup.add('stop PostgreSQL', () => db.stop());
    }
    if (started[1].status === 'fulfilled') {
      const server: DevServer = started[1].value;
      cleanup.add('stop the Temporal dev server', () => server.stop());
    }
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const db = (started[0] as PromiseFulfilledResult<EmbeddedDb>).value;
    const temporal = (started[1] as PromiseFulfilledResult<DevServer>).value;
    const bundlePath = path.join(tmpDir, 'workflow-bundle.js');
    await writeFile(bundlePath, (started[2] as PromiseFulfilledResult<{ code: string }>).value.code);

    // ---- application: database, sandbox, worker ----------------------------------
    const config = loadConfig({
      MC_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
      LOG_LEVEL: 'error',
      LOG_FORMAT: 'json',
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: `bench-${randomUUID().slice(0, 8)}`,
    });
    const logger = createLogger({ level: 'error', format: 'json', name: 'bench' });
    installTemporalLogging(logger);
    const { sql } = await prepareDatabase({ url: db.url, config, logger, announce: quiet, applicationName: 'mission-control-bench' });
    cleanup.add('close the database pool', () => sql.end({ timeout: 5 }));
    const sandbox = createSandbox(config);
    cleanup.add('close the sandbox', () => sandbox.close());

    const nativeConnection = await NativeConnection.connect({ address: temporal.address });
    cleanup.add('close the worker connection', () => nativeConnection.close());
    await ensureSearchAttributes(nativeConnection, config.TEMPORAL_NAMESPACE);
    const built = createActivities({ sql, logger, config, sandbox, adapters: createAdapters(config) });
    const benchNoop = async () => ({ ok: true as const });
    const worker = await createMissionWorker({
      connection: nativeConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      activities: { ...built.activities, benchNoop },
      workflowBundle: { codePath: bundlePath },
    });
    const running = worker.run();
    cleanup.add('stop the worker', async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await built.close();
    });

    const connection = await Connection.connect({ address: temporal.address });
    cleanup.add('close the client connection', () => connection.close());
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    // Runs in flight at cleanup (a failure, Ctrl-C) are cancelled first: a call left to retry
    // on a closed connection would throw from a timer, past any catch.
    const abort = new AbortController();
    setMaxListeners(0, abort.signal); // one listener per run in flight
    cleanup.add('cancel the client calls in flight', () => abort.abort());
    const call = <T>(fn: () => Promise<T>) => connection.withAbortSignal(abort.signal, fn);
    const taskQueue = config.TEMPORAL_TASK_QUEUE;

    // ---- fixtures: one container, one trivial pattern, a mission per scenario ---------
    const suffix = randomUUID().slice(0, 8);
    const container = await createContainer(sql, containerInput.parse({ name: `bench-${suffix}`, category: 'automation' }), SYSTEM_ACTOR);
    const pattern = await createPattern(
      sql,
      patternInput.parse({
        containerId: container.id, name: `trivial-${suffix}`, code: PATTERN_CODE,
        config: { timeout: 5000, retryCount: 0, failureAction: 'retry' },
      }),
      SYSTEM_ACTOR,
      (code) => sandbox.check(code),
    );
    const plans = new Map<Spec, MissionPlan>();
    for (const spec of SPECS) {
      const { mission } = await createMission(
        sql,
        missionInput.parse({
          name: `bench-${spec.mode}-${spec.n}-${suffix}`, type: 'manual', status: 'active', containerId: container.id,
          config: { maxConcurrency: spec.mode === 'parallel' ? spec.n : 1 },
          tasks: Array.from({ length: spec.n }, (_, i) => ({ name: `t${i}`, order: spec.mode === 'parallel' ? 0 : i, patternId: pattern.id })),
        }),
        SYSTEM_ACTOR,
      );
      plans.set(spec, await buildPlan(sql, mission.id));
    }

    const missionRunner = (plan: MissionPlan): Runner => async () => {
      // As core/mission-runs.ts executeMission starts a run.
      const workflowId = missionWorkflowId(plan.missionId, randomUUID().slice(0, 13));
      const args: MissionInput = { missionId: plan.missionId, trigger: 'manual', plan, input: undefined, startedBy: SYSTEM_ACTOR };
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
      log(
        `node ${process.version}, ${os.availableParallelism()} CPU(s), Temporal CLI ${path.basename(path.dirname(cli))}, ` +
          `sandbox threads ${config.MC_SANDBOX_THREADS || os.availableParallelism()}, ready after ${elapsed(t0)}`,
      );

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
        const [mps, bps] = await throughputPair(mission, bare, spec.concurrent, spec.rounds);
        const [mh, bh] = await call(() => Promise.all([historySize(client, mId), historySize(client, bId)]));
        rows.push({ spec, mission: { latency: ml, perSecond: mps, history: mh }, bare: { latency: bl, perSecond: bps, history: bh } });
        log(`  measured N=${spec.n} ${spec.mode} in ${elapsed(since)}`);
      }

      const mark = (ratio: number) => (ratio <= TARGET_RATIO ? 'met' : 'MISSED');
      const label = (s: Spec) => `N=${s.n} ${s.mode}`;
      log('\nLatency, start -> result, one run at a time (ms)');
      log(
        table(
          ['scenario', 'runs', 'mission p50', 'mission p90', 'bare p50', 'bare p90', 'ratio', `<= ${TARGET_RATIO}x`, '+ms/task'],
          rows.map((r) => {
            const ratio = r.mission.latency.p50 / r.bare.latency.p50;
            return [
              label(r.spec), String(r.spec.iterations), fmt(r.mission.latency.p50), fmt(r.mission.latency.p90), fmt(r.bare.latency.p50),
              fmt(r.bare.latency.p90), `${fmt(ratio, 2)}x`, mark(ratio), fmt((r.mission.latency.p50 - r.bare.latency.p50) / r.spec.n, 2),
            ];
          }),
        ),
      );
      log('\nThroughput, runs started at once (runs/s; tasks/s = runs/s x N)');
      log(
        table(
          ['scenario', 'concurrent', 'rounds', 'mission runs/s', 'bare runs/s', 'mission tasks/s', 'bare tasks/s', 'ratio', `<= ${TARGET_RATIO}x`],
          rows.map((r) => {
            const ratio = r.bare.perSecond / r.mission.perSecond;
            return [
              label(r.spec), String(r.spec.concurrent), String(r.spec.rounds), fmt(r.mission.perSecond, 2), fmt(r.bare.perSecond, 2),
              fmt(r.mission.perSecond * r.spec.n, 0), fmt(r.bare.perSecond * r.spec.n, 0), `${fmt(ratio, 2)}x`, mark(ratio),
            ];
          }),
        ),
      );
      await replayCosts(bundlePath, rows.flatMap((r) => [r.mission.history, r.bare.history]), 3);
      log('\nHistory of one run: events, size as JSON, and the workflow code\'s own time to replay it (p50 of 3)');
      log(
        table(
          ['scenario', 'mission events', 'bare events', 'mission KB', 'bare KB', 'mission replay ms', 'bare replay ms', '+ms/task'],
          rows.map((r) => {
            const m = r.mission.history;
            const b = r.bare.history;
            return [
              label(r.spec), String(m.events), String(b.events), fmt(m.kb), fmt(b.kb), fmt(m.replayMs!), fmt(b.replayMs!),
              fmt((m.replayMs! - b.replayMs!) / r.spec.n, 2),
            ];
          }),
        ),
      );

      // ---- where a task's time goes, in-process --------------------------------------------
      await breakdown(sql, sandbox, built.activities, benchNoop, plans.get(SPECS[0]!)!);

      const missed = rows.flatMap((r) => {
        const lat = r.mission.latency.p50 / r.bare.latency.p50;
        const thr = r.bare.perSecond / r.mission.perSecond;
        return [lat > TARGET_RATIO ? `${label(r.spec)} latency ${fmt(lat, 2)}x` : null, thr > TARGET_RATIO ? `${label(r.spec)} throughput ${fmt(thr, 2)}x` : null].filter(
          (x): x is string => x !== null,
        );
      });
      log(
        `\ntarget: mission within ${TARGET_RATIO}x of the bare workflow -> ` +
          (missed.length ? `MISSED for ${missed.length} of ${rows.length * 2}: ${missed.join('; ')}` : `met for all ${rows.length * 2} measures`),
      );
      log(`total time ${elapsed(t0)} (cleanup follows)`);
    };

    // A run waits for its result forever: give up if the worker stops or the deadline passes.
    let deadline: NodeJS.Timeout | undefined;
    const stopped = Promise.race([
      running.then(() => {
        throw new Error('the worker stopped during the measurement');
      }),
      new Promise<never>((_, reject) => {
        deadline = setTimeout(() => reject(new Error(`the measurement took longer than ${DEADLINE_MS / 60_000} minutes`)), DEADLINE_MS);
      }),
    ]);
    stopped.catch(() => {}); // settles (and is ignored) once the worker shuts down at cleanup
    cleanup.add('clear the deadline', () => clearTimeout(deadline));
    const measured = measure();
    measured.catch(() => {}); // if `stopped` wins, late failures of in-flight runs are not the news
    await Promise.race([measured, stopped]);
    return 0;
  } finally {
    const ok = await cleanup.run();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (!ok) process.exitCode = 1;
  }
}

/** Times, without Temporal, each step runMissionTask takes for one trivial task, and the whole activity. */
async function breakdown(
  sql: Sql,
  sandbox: ReturnType<typeof createSandbox>,
  activities: ReturnType<typeof createActivities>['activities'],
  benchNoop: () => Promise<unknown>,
  plan: MissionPlan,
): Promise<void> {
  const task = plan.tasks[0]!;
  const pinned = task.pattern!;
  const [{ code }] = (await sql`select code from pattern_versions where id = ${pinned.versionId}`) as unknown as [{ code: string }];
  const fresh = () => ({ workflowId: `mission-bench-${randomUUID()}`, runId: randomUUID() });
  const context = (w: { workflowId: string; runId: string }) => ({
    previous: {}, notes: null, attempt: 1, task: { id: task.id, name: task.name },
    mission: { id: plan.missionId, name: plan.missionName, workflowId: w.workflowId, runId: w.runId },
  });
  const taskInput = (): RunTaskInput => ({
    missionId: plan.missionId, missionName: plan.missionName, taskId: task.id, taskName: task.name, execSeq: 1, pattern: pinned,
    input: task.input, previous: {}, notes: [], runInput: null, maxPatternAttempts: 1, startedBy: SYSTEM_ACTOR,
  });
  const inActivity = <R>(fn: () => Promise<R>, w = fresh()) =>
    new MockActivityEnvironment({ workflowExecution: w, activityId: '1', attempt: 1 }).run(fn);

  const ITER = 200;
  const WARM = 20;
  const steps: [string, Stats][] = [];
  const step = async (name: string, fn: () => Promise<unknown>) => steps.push([name, await timeEach(ITER, WARM, fn)]);
  await step('findSucceededRun (a new task: no prior run)', () => findSucceededRun(sql, { workflowId: fresh().workflowId, taskId: task.id, keyPrefix: `${fresh().workflowId}/${randomUUID()}/${task.id}/1/` }));
  await step('select code from pattern_versions', () => sql`select code from pattern_versions where id = ${pinned.versionId}`);
  await step('sandbox.run (trivial pattern)', () => {
    const w = fresh();
    return sandbox.run({ code, input: task.input, context: context(w), timeoutMs: pinned.config.timeout });
  });
  await step('recordRun (insert + pattern/version stats)', () =>
    recordRun(sql, {
      executionKey: `${fresh().workflowId}/bench/${task.id}/1/1`, patternId: pinned.patternId, versionId: pinned.versionId,
      patternName: pinned.patternName, version: pinned.version, source: 'mission', missionId: plan.missionId, workflowId: 'bench', taskId: task.id,
      attempt: 1, status: 'succeeded', output: { ok: true }, logs: [], outbound: [], durationMs: 0.1, actor: SYSTEM_ACTOR.name,
    }),
  );
  await step('runPattern (sandbox.run + recordRun)', () => {
    const w = fresh();
    return runPattern({ sql, sandbox, adapters: {} }, {
      pattern: { ...pinned, code }, input: task.input, context: context(w), executionKey: `${w.workflowId}/${w.runId}/${task.id}/1/1`,
      source: 'mission', actor: SYSTEM_ACTOR, missionId: plan.missionId, workflowId: w.workflowId, taskId: task.id, attempt: 1,
    });
  });
  await step('runMissionTask, whole activity', () => inActivity(() => activities.runMissionTask(taskInput())));
  await step('benchNoop, whole activity (baseline)', () => inActivity(benchNoop));

  const [{ rows }] = (await sql`select count(*)::int as rows from pattern_runs`) as unknown as [{ rows: number }];
  const [{ collate }] = (await sql`select datcollate as collate from pg_database where datname = current_database()`) as unknown as [{ collate: string }];
  const plan1 = await sql.unsafe(
    `explain select 1 from pattern_runs where execution_key like 'mission-x/y/${task.id}/1/%' and status = 'succeeded' order by finished_at limit 1`,
  );
  const scan = plan1.map((r) => String(Object.values(r)[0])).find((l) => /Scan/.test(l))?.trim() ?? '?';

  log(`\nOne task's activity, in-process without Temporal (ms, ${ITER} calls each after ${WARM} untimed)`);
  log(table(['step', 'p50', 'p90', 'mean'], steps.map(([name, s]) => [name, fmt(s.p50, 3), fmt(s.p90, 3), fmt(s.mean, 3)])));
  const whole = steps.find(([n]) => n.startsWith('runMissionTask'))![1];
  const noop = steps.find(([n]) => n.startsWith('benchNoop'))![1];
  log(`runMissionTask - benchNoop: ${fmt(whole.p50 - noop.p50, 3)} ms p50 per task (sequential tasks pay it on the critical path)`);
  log(`findSucceededRun plan with ${rows} pattern_runs rows (database collation ${collate}): ${scan}`);
}

main()
  .then(
    (code) => code,
    (err) => {
      console.error('benchmark failed:', err);
      return 1;
    },
  )
  .then((code) => {
    // Exit explicitly: embedded-postgres's exit hook (async-exit-hook, on 'beforeExit') would
    // otherwise end a drained process with process.exit(0), whatever process.exitCode says.
    process.exit(code || (process.exitCode ? 1 : 0));
  });

// What each cost a mission's run and its tasks carry adds to a bare workflow,
// one at a time, on the same server and worker: a heartbeat timeout on the
// activity, a heartbeat as it starts, search attributes at start, a status
// upsert at the end, the plan in the input and the progress in the result,
// a bigger activity input, the sandbox, and recording the run (one statement,
// one that also keeps the output, or a transaction).
//
//   npx tsx bench/mission-costs.ts          (N=10 tasks per run)
//   COST_N=1 npx tsx bench/mission-costs.ts (per-run costs weigh most)
//
// Each variant is bench/workflows.ts costParallelWorkflow with one change
// from bare; variants take turns in every round (order rotated), so drift on
// a shared machine hits them alike. Measures per variant: latency p50 of one
// N=1 run at a time; throughput of CONCURRENT runs of N=10 parallel started at
// once, and the CPU each such run cost this process, the Temporal server and
// PostgreSQL (bench/cpu.ts). "+ per task" divides the difference from bare by
// the tasks of the run: what that cost adds to each task.
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { TypedSearchAttributes } from '@temporalio/common';
import { recordRun } from '../core/patterns/pattern-runs';
import { containerIdKey, missionIdKey, missionStatusKey, missionTriggerKey } from '../workflows/messages';
import { cpuSampler, type Cpu } from './cpu';
import { elapsed, fmt, log, runBench, stats, table } from './lib';
import { benchContainer, connectClient, describeStack, startStack, startWorker, untilDone } from './stack';
import type { CostVariant } from './workflows';

const WORKFLOWS = new URL('./workflows.ts', import.meta.url).pathname;
const PATTERN = 'async () => ({ ok: true })';
const ROUNDS = 8;
const LATENCY_PER_ROUND = 3;
const CONCURRENT = 10;
const N = Number(process.env.COST_N ?? 10);
// How much bigger a mission's events are than bare's (bench/missions.ts, N=1: the started event carries the
// plan, the completed one the progress, each ActivityTaskScheduled the task's input).
const MISSION_INPUT_EXTRA = 650;
const START_EXTRA = 300 * N + 1300;
const RESULT_EXTRA = 450 * N + 350;

const bare: CostVariant = {
  heartbeatTimeout: false, heartbeatAtStart: false, searchAttributes: false, upsertStatus: false, startBytes: 0, resultBytes: 0, padBytes: 0, sandbox: false, db: 'none',
};
const VARIANTS: [string, CostVariant][] = [
  ['bare', bare],
  ['+ heartbeatTimeout 5s', { ...bare, heartbeatTimeout: true }],
  ['+ heartbeatTimeout, heartbeat at start', { ...bare, heartbeatTimeout: true, heartbeatAtStart: true }],
  ['+ search attributes, memo, summary', { ...bare, searchAttributes: true }],
  ['+ status upsert at the end', { ...bare, upsertStatus: true }],
  [`+ ${START_EXTRA} B input, ${RESULT_EXTRA} B result`, { ...bare, startBytes: START_EXTRA, resultBytes: RESULT_EXTRA }],
  [`+ ${MISSION_INPUT_EXTRA} B activity input`, { ...bare, padBytes: MISSION_INPUT_EXTRA }],
  ['+ sandbox run', { ...bare, sandbox: true }],
  ['+ recordRun, one statement', { ...bare, db: 'statement' }],
  ['+ recordRun keeping the output', { ...bare, db: 'kept' }],
  ['+ recordRun in a transaction', { ...bare, db: 'transaction' }],
  // What a mission's run carries today (core/runs/start.ts, activities/mission-activities.ts, workflows/task-runner.ts).
  ['a mission today', {
    heartbeatTimeout: true, heartbeatAtStart: false, searchAttributes: true, upsertStatus: true, startBytes: START_EXTRA, resultBytes: RESULT_EXTRA,
    padBytes: MISSION_INPUT_EXTRA, sandbox: true, db: 'kept',
  }],
];

runBench(async (cleanup) => {
  const t0 = performance.now();
  const stack = await startStack(cleanup, { tmpPrefix: 'mc-bench-', workflowsPath: WORKFLOWS });
  const { sql, config } = stack;
  const container = await benchContainer(stack);
  const pattern = await container.pattern('trivial', PATTERN);
  const [version] = (await sql`select id, version from pattern_versions where pattern_id = ${pattern.id}`) as unknown as [{ id: string; version: number }];
  const record = () => ({
    executionKey: randomUUID(), patternId: pattern.id, versionId: version.id, patternName: 'trivial', version: version.version,
    source: 'mission' as const, status: 'succeeded' as const, output: { ok: true }, logs: [], outbound: [], durationMs: 0.1, actor: 'bench',
  });
  const benchTask = async ({ heartbeat, sandbox, db }: { heartbeat: boolean; pad: string; sandbox: boolean; db: CostVariant['db'] }) => {
    if (heartbeat) Context.current().heartbeat();
    if (sandbox) await stack.sandbox.run({ code: PATTERN, input: { a: 1 }, context: {}, timeoutMs: 5000 });
    if (db === 'statement') await recordRun(sql, record());
    if (db === 'kept') {
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? 'bench';
      await recordRun(sql, record(), { kept: { workflowId, ref: randomUUID(), taskId: 't', taskName: 't', order: 0, bytes: 11, output: { ok: true } } });
    }
    // The transaction stands for what the task activity did before: begin, one statement (its output), the run, commit.
    if (db === 'transaction') await sql.begin(async (tx) => [await tx`select 1`, await recordRun(tx, record())]);
    return { ok: true as const };
  };
  const worker = await startWorker(stack, cleanup, { benchNoop: async () => ({ ok: true as const }), benchTask });
  const { client, call } = await connectClient(stack, cleanup);
  const cpu = cpuSampler(stack.temporalPid);
  const searchAttributes = () => ({
    typedSearchAttributes: new TypedSearchAttributes([
      { key: missionIdKey, value: randomUUID() }, { key: containerIdKey, value: container.id },
      { key: missionStatusKey, value: 'Running' }, { key: missionTriggerKey, value: 'manual' },
    ]),
    memo: { missionName: 'bench', priority: 'medium' },
    staticSummary: 'bench (manual)',
  });
  const runOnce = (n: number, v: CostVariant) =>
    call(async () => {
      const handle = await client.workflow.start('costParallelWorkflow', {
        taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId: `bench-cost-${randomUUID()}`, args: [n, v, ...(v.startBytes ? ['x'.repeat(v.startBytes)] : [])],
        ...(v.searchAttributes ? searchAttributes() : {}),
      });
      await handle.result();
    });

  const measure = async () => {
    log(`${describeStack(stack)}, ready after ${elapsed(t0)}`);
    // Warm-up: one untimed round of everything, at full size.
    for (const [, v] of VARIANTS) await Promise.all(Array.from({ length: CONCURRENT }, () => runOnce(N, v)));
    const latency = VARIANTS.map((): number[] => []);
    const wall = VARIANTS.map(() => 0);
    const used = VARIANTS.map((): Cpu => ({ node: 0, temporal: 0, postgres: 0 }));
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < VARIANTS.length; k++) {
        const i = (k + round) % VARIANTS.length;
        const v = VARIANTS[i]![1];
        for (let j = 0; j < LATENCY_PER_ROUND; j++) {
          const t = performance.now();
          await runOnce(1, v);
          latency[i]!.push(performance.now() - t);
        }
        const c0 = cpu();
        const t = performance.now();
        await Promise.all(Array.from({ length: CONCURRENT }, () => runOnce(N, v)));
        wall[i]! += performance.now() - t;
        const c1 = cpu();
        if (c0 && c1) used[i] = { node: used[i]!.node + c1.node - c0.node, temporal: used[i]!.temporal + c1.temporal - c0.temporal, postgres: used[i]!.postgres + c1.postgres - c0.postgres };
      }
      log(`  round ${round + 1} of ${ROUNDS} after ${elapsed(t0)}`);
    }
    const runs = ROUNDS * CONCURRENT;
    const perRun = used.map((c) => ({ node: c.node / runs, temporal: c.temporal / runs, postgres: c.postgres / runs }));
    const total = (c: Cpu) => c.node + c.temporal + c.postgres;
    const p50 = latency.map((s) => stats(s).p50);
    const perSecond = wall.map((ms) => (runs * 1000) / ms);
    log(`\nEach cost alone on a bare run: N=1 latency (p50 of ${ROUNDS * LATENCY_PER_ROUND}); ${CONCURRENT} runs of N=${N} parallel at once, ${ROUNDS} rounds: runs/s and CPU per run (ms)`);
    log(
      table(
        ['variant', 'N=1 p50 ms', '+ms', 'runs/s', 'bare/variant', 'CPU node', 'CPU temporal', 'CPU pg', 'CPU total', '+CPU ms per task'],
        VARIANTS.map(([name], i) => [
          name, fmt(p50[i]!), fmt(p50[i]! - p50[0]!), fmt(perSecond[i]!, 2), `${fmt(perSecond[0]! / perSecond[i]!, 2)}x`,
          fmt(perRun[i]!.node), fmt(perRun[i]!.temporal), fmt(perRun[i]!.postgres), fmt(total(perRun[i]!)), fmt((total(perRun[i]!) - total(perRun[0]!)) / N, 2),
        ]),
      ),
    );
    log(`total time ${elapsed(t0)} (cleanup follows)`);
  };
  await untilDone(cleanup, measure(), worker.done, 10 * 60_000);
});

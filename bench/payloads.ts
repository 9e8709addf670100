// What large task outputs cost a mission run: N sequential tasks that each
// return 200 KiB, for N = 10, 20, 50, side by side with a mission of N tiny
// outputs and a bare workflow of N trivial activities, on the same server and
// worker. Outputs are stored once in PostgreSQL and travel by reference, so
// the run completes (the first release died at about the tenth task with
// "ScheduleActivityTaskCommandAttributes.Input exceeds size limit") and its
// history should grow linearly with N, not with the outputs.
//
//   npx tsx bench/payloads.ts
//
// Setup: bench/stack.ts (throwaway embedded PostgreSQL and in-memory dev
// server, the worker of bench/missions.ts), plus the real API over the same
// database and Temporal, for GET /api/runs/:id.
//
// Printed, per N:
//   run          start -> result (ms) and whether it completed
//   history      events and bytes as Temporal stores them (protobuf), bytes per
//                task, and the ratio to the bare workflow's history
//   growth       the history bytes each extra task added (10 -> 20, 20 -> 50):
//                equal when growth is linear
//   scheduled    the bytes of the last task's ActivityTaskScheduled event
//                against the first's (equal when an activity's input does not
//                grow with the tasks before it), their sum, and what every
//                other event costs per task
//   progress     the progress query's answer (JSON bytes)
// Then a mission whose third task throws after two large outputs: the status
// and error GET /api/runs/:id reports (expected: Failed, the pattern's message).
import { randomUUID } from 'node:crypto';
import proto from '@temporalio/proto';
import { createApp } from '../api/app';
import type { AppDeps } from '../api/context';
import { createAdapters } from '../activities/adapters';
import { SYSTEM_ACTOR } from '../core/audit/audit-log';
import { buildPlan, createMission } from '../core/missions/missions';
import { missionInput } from '../core/missions/schemas';
import { createPattern } from '../core/patterns/patterns';
import { patternInput } from '../core/patterns/schemas';
import { startOptions } from '../core/runs/start';
import { MISSION_WORKFLOW_TYPE, missionWorkflowId } from '../lib/names';
import { newMissionInput, progressQuery, type MissionPlan, type Progress } from '../workflows/messages';
import { elapsed, fmt, log, runBench, table } from './lib';
import { historySize, type HistorySize } from './missions-measures';
import { benchContainer, connectClient, describeStack, startStack, startWorker, untilDone } from './stack';

const WORKFLOWS = new URL('./workflows.ts', import.meta.url).pathname;
const SIZES = [10, 20, 50];
const OUTPUT_KIB = 200;
const BIG = `async (input, ctx) => ({ task: ctx.task.name, seen: Object.keys(ctx.previous).length, blob: 'x'.repeat(${OUTPUT_KIB * 1024}) })`;
const TINY = 'async (input, ctx) => ({ task: ctx.task.name })';
const FAILING = 'async (input, ctx) => { throw new Error(`the list is empty after ${Object.keys(ctx.previous).length} tasks`) }';
const ADMIN_TOKEN = `mc_bench_${randomUUID().replace(/-/g, '')}`;
const DEADLINE_MS = 10 * 60_000;

interface Measured {
  workflowId: string;
  ms: number;
  progress: Progress | null;
  error: string | null;
  history: HistorySize;
  scheduled: number[];
}

const { temporal } = proto;
const scheduledType = temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED;

runBench(async (cleanup) => {
  const t0 = performance.now();
  const stack = await startStack(cleanup, { tmpPrefix: 'mc-bench-payloads-', workflowsPath: WORKFLOWS, env: { MC_ADMIN_TOKEN: ADMIN_TOKEN } });
  const { sql, config } = stack;
  const benchNoop = async () => ({ ok: true as const });
  const worker = await startWorker(stack, cleanup, { benchNoop });
  const { client, handle, call } = await connectClient(stack, cleanup);
  const deps: AppDeps = {
    sql, temporal: handle, logger: stack.logger, config, sessionSecret: stack.sessionSecret, startedAt: new Date(), sandbox: stack.sandbox, adapters: createAdapters(config),
  };
  const { app } = createApp(deps);
  const api = async (path: string) => (await app.request(path, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).json();

  const container = await benchContainer(stack);
  const pattern = (name: string, code: string) =>
    createPattern(sql, patternInput.parse({ containerId: container.id, name: `${name}-${container.suffix}`, code, config: { timeout: 30_000, retryCount: 0, failureAction: 'retry' } }), SYSTEM_ACTOR, (c) => stack.sandbox.check(c));
  const [big, tiny, failing] = [await pattern('big', BIG), await pattern('tiny', TINY), await pattern('failing', FAILING)];
  const plan = async (name: string, patternIds: string[]): Promise<MissionPlan> => {
    const { mission } = await createMission(sql, missionInput.parse({
      name: `${name}-${container.suffix}`, type: 'manual', status: 'active', containerId: container.id,
      tasks: patternIds.map((patternId, i) => ({ name: `t${i}`, order: i, patternId })),
    }), SYSTEM_ACTOR);
    return buildPlan(sql, mission.id);
  };

  /** Runs a mission as core/runs/start.ts executeMission starts one, and measures its history. */
  const runMission = async (p: MissionPlan): Promise<Measured> => {
    const workflowId = missionWorkflowId(p.missionId, randomUUID().slice(0, 13));
    const args = newMissionInput({ missionId: p.missionId, trigger: 'manual', plan: p, startedBy: SYSTEM_ACTOR });
    const started = performance.now();
    const h = await call(() => client.workflow.start(MISSION_WORKFLOW_TYPE, { taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId, args: [args], ...startOptions(p, 'manual') }));
    const error = await call(() => h.result()).then(() => null, (err: Error & { cause?: Error }) => err.cause?.message ?? err.message);
    const ms = performance.now() - started;
    const progress = await call(() => h.query(progressQuery)).catch(() => null);
    const history = await call(() => historySize(client, workflowId));
    const scheduled = (history.history.events ?? [])
      .filter((e) => e.eventType === scheduledType)
      .map((e) => temporal.api.history.v1.HistoryEvent.encode(e).finish().length);
    return { workflowId, ms, progress, error, history, scheduled };
  };
  const runBare = async (n: number): Promise<HistorySize> => {
    const workflowId = `bench-bare-${n}-${randomUUID().slice(0, 13)}`;
    await call(async () => (await client.workflow.start('bareSequentialWorkflow', { taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId, args: [n] })).result());
    return call(() => historySize(client, workflowId));
  };

  const measure = async () => {
    log(`${describeStack(stack)}, ready after ${elapsed(t0)}`);
    await runMission(await plan('warmup', [tiny.id])); // JIT, sandbox threads, pools

    const rows: { n: number; big: Measured; tiny: Measured; bare: HistorySize }[] = [];
    for (const n of SIZES) {
      const since = performance.now();
      const bigRun = await runMission(await plan(`big-${n}`, Array(n).fill(big.id)));
      const tinyRun = await runMission(await plan(`tiny-${n}`, Array(n).fill(tiny.id)));
      rows.push({ n, big: bigRun, tiny: tinyRun, bare: await runBare(n) });
      log(`  measured N=${n} in ${elapsed(since)}`);
    }

    const status = (m: Measured) => m.error ? `FAILED: ${m.error.slice(0, 120)}` : m.progress?.status ?? '?';
    log(`\nMissions of N sequential tasks, each returning ${OUTPUT_KIB} KiB ("big") or a few bytes ("tiny"); bare: N trivial activities`);
    log(table(
      ['N', 'big: status', 'big ms', 'big history', 'events', 'bytes/task', 'tiny history', 'bytes/task', 'bare history', 'big / bare', 'big / tiny'],
      rows.map((r) => [
        String(r.n), status(r.big), fmt(r.big.ms, 0), String(r.big.history.bytes), String(r.big.history.events), fmt(r.big.history.bytes / r.n, 0),
        String(r.tiny.history.bytes), fmt(r.tiny.history.bytes / r.n, 0), String(r.bare.bytes),
        `${fmt(r.big.history.bytes / r.bare.bytes, 2)}x`, `${fmt(r.big.history.bytes / r.tiny.history.bytes, 2)}x`,
      ]),
    ));

    log('\nGrowth: history bytes each extra task added (equal across steps when growth is linear)');
    const steps = rows.slice(1).map((r, i) => ({ from: rows[i]!, to: r }));
    const perTask = (a: HistorySize, b: HistorySize, dn: number) => (b.bytes - a.bytes) / dn;
    log(table(
      ['step', 'big +bytes/task', 'tiny +bytes/task', 'bare +bytes/task'],
      steps.map(({ from, to }) => [
        `N ${from.n} -> ${to.n}`, fmt(perTask(from.big.history, to.big.history, to.n - from.n), 0),
        fmt(perTask(from.tiny.history, to.tiny.history, to.n - from.n), 0), fmt(perTask(from.bare, to.bare, to.n - from.n), 0),
      ]),
    ));
    const big1 = perTask(steps[0]!.from.big.history, steps[0]!.to.big.history, steps[0]!.to.n - steps[0]!.from.n);
    const big2 = perTask(steps[1]!.from.big.history, steps[1]!.to.big.history, steps[1]!.to.n - steps[1]!.from.n);
    const linear = Math.abs(big2 - big1) / big1 <= 0.15;
    log(`big: ${linear ? 'linear' : 'NOT linear'} (the ${steps[1]!.from.n}->${steps[1]!.to.n} step adds ${fmt(big2 / big1, 2)}x the bytes per task of the ${steps[0]!.from.n}->${steps[0]!.to.n} step)`);

    log('\nActivityTaskScheduled events (bytes): the first task\'s, the last task\'s, all of them, and every other event per task');
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    log(table(
      ['N', 'big first', 'big last', 'big scheduled', 'big rest/task', 'tiny first', 'tiny last', 'tiny ms', 'progress JSON big', 'progress JSON tiny'],
      rows.map((r) => [
        String(r.n), String(r.big.scheduled[0] ?? '-'), String(r.big.scheduled.at(-1) ?? '-'), String(sum(r.big.scheduled)),
        fmt((r.big.history.bytes - sum(r.big.scheduled)) / r.n, 0),
        String(r.tiny.scheduled[0] ?? '-'), String(r.tiny.scheduled.at(-1) ?? '-'), fmt(r.tiny.ms, 0),
        String(Buffer.byteLength(JSON.stringify(r.big.progress))), String(Buffer.byteLength(JSON.stringify(r.tiny.progress))),
      ]),
    ));

    // ---- a failing run, as the API reports it -----------------------------------------------
    const failed = await runMission(await plan('failing', [big.id, big.id, failing.id]));
    const detail = await api(`/api/runs/${failed.workflowId}`) as { summary: { status: string }; progress: Progress | null };
    const expected = 'the list is empty after 2 tasks';
    const ok = detail.summary.status === 'Failed' && detail.progress?.status === 'Failed' && !!detail.progress?.error?.includes(expected);
    log('\nA mission whose third task throws after two large outputs, as GET /api/runs/:id reports it');
    log(table(['', 'status', 'error'], [
      ['summary (describe)', detail.summary.status, '-'],
      ['progress', detail.progress?.status ?? '(none)', detail.progress?.error ?? '(none)'],
      ['workflow failure', '-', failed.error ?? '(none)'],
    ]));
    log(`failure reported ${ok ? 'as expected' : 'WRONGLY'} (expected Failed with "${expected}")`);

    const completed = rows.every((r) => !r.big.error && !r.tiny.error);
    log(`\n${SIZES.at(-1)} x ${OUTPUT_KIB} KiB mission ${rows.at(-1)!.big.error ? 'FAILED' : 'completed'}; history growth ${linear ? 'linear' : 'NOT linear'}; failure status ${ok ? 'right' : 'WRONG'}`);
    log(`total time ${elapsed(t0)} (cleanup follows)`);
    if (!completed || !ok) process.exitCode = 1;
  };

  await untilDone(cleanup, measure(), worker.done, DEADLINE_MS);
});

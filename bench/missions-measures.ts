// The side-by-side measures of bench/missions.ts, for two runners (a mission
// and its bare counterpart) on the same server and worker: latency one run at
// a time, interleaved so drift hits both alike; throughput of runs started
// together, rounds alternating which goes first, with the CPU each run cost
// this process, the Temporal server and PostgreSQL; and the size of one run's
// history, by event type, and what replaying it costs the workflow code alone.
import type { Client, WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { Cpu } from './cpu';
import { stats, type Stats } from './lib';

/** Starts one run, waits for its result (throwing if it is not the expected one), returns its workflow id. */
export type Runner = () => Promise<string>;

export interface HistorySize {
  events: number;
  /** As JSON (payloads in base64), and as Temporal stores it (protobuf). */
  kb: number;
  bytes: number;
  /** Protobuf bytes and count per event type (EVENT_TYPE_ prefix dropped). */
  byType: Map<string, { events: number; bytes: number }>;
  /** Replaying it: the CPU time the workflow code itself takes for one run (p50, ms). */
  replayMs?: number;
  history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
}

/** Latency of two runners, interleaved (alternating which goes first) after a shared warm-up. */
export async function latencyPair(a: Runner, b: Runner, iterations: number, warmup: number): Promise<[Stats, Stats, string, string]> {
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

export interface Throughput {
  perSecond: number;
  /** CPU per run while its batches ran (ms): this process (worker, sandbox threads, client), the Temporal server, PostgreSQL. */
  cpuPerRun: Cpu | null;
}

/** Runs/s of `concurrent` runs started together, over `rounds` rounds (a and b alternate), and the CPU they cost. */
export async function throughputPair(a: Runner, b: Runner, concurrent: number, rounds: number, cpu: () => Cpu | null): Promise<[Throughput, Throughput]> {
  const ms = [0, 0];
  const used: (Cpu | null)[] = [{ node: 0, temporal: 0, postgres: 0 }, { node: 0, temporal: 0, postgres: 0 }];
  const batch = async (run: Runner, slot: 0 | 1) => {
    const c0 = cpu();
    const t = performance.now();
    await Promise.all(Array.from({ length: concurrent }, () => run()));
    ms[slot]! += performance.now() - t;
    const c1 = cpu();
    const sum = used[slot];
    used[slot] = c0 && c1 && sum ? { node: sum.node + c1.node - c0.node, temporal: sum.temporal + c1.temporal - c0.temporal, postgres: sum.postgres + c1.postgres - c0.postgres } : null;
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
  const runs = concurrent * rounds;
  const result = (slot: 0 | 1): Throughput => {
    const u = used[slot];
    return { perSecond: (runs * 1000) / ms[slot]!, cpuPerRun: u ? { node: u.node / runs, temporal: u.temporal / runs, postgres: u.postgres / runs } : null };
  };
  return [result(0), result(1)];
}

export async function historySize(client: Client, workflowId: string): Promise<HistorySize> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const byType = new Map<string, { events: number; bytes: number }>();
  let bytes = 0;
  for (const event of history.events ?? []) {
    const size = proto.temporal.api.history.v1.HistoryEvent.encode(event).finish().length;
    const type = String(proto.temporal.api.enums.v1.EventType[event.eventType ?? 0]).replace(/^EVENT_TYPE_/, '');
    const t = byType.get(type) ?? { events: 0, bytes: 0 };
    byType.set(type, { events: t.events + 1, bytes: t.bytes + size });
    bytes += size;
  }
  return { events: history.events?.length ?? 0, kb: JSON.stringify(history).length / 1024, bytes, byType, history };
}

/**
 * Replays every recorded history `rounds` times in one replay worker (the first round warms it
 * and is dropped): what the workflow code costs per run on the workflow thread, server aside.
 * Sets each subject's replayMs.
 */
export async function replayCosts(bundlePath: string, subjects: HistorySize[], rounds: number): Promise<void> {
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

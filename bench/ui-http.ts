// The HTTP part of bench/ui.ts: every subject at 8 and 32 concurrent
// keep-alive clients (bench/load.ts, in a worker thread), bare first and last
// at each concurrency and pooled, each pair of the ratio table A, B, B, A and
// pooled; the table of all subjects against bare; and
// the pairs "ours / Temporal's UI server" for the same data, at p50 and p99.
import { cpuSampler, type Cpu } from './cpu';
import { elapsed, fmt, log, stats, table, type Cleanup, type Stats } from './lib';
import { LoadGenerator, type Job, type JobResult } from './load';
import type { Stack } from './stack';
import type { Counters } from './ui-servers';

export const CONCURRENCY = [8, 32];
const WARMUP_MS = 500;
/** A cell's timed window: at least DURATION_MS and SAMPLES_PER_CLIENT answers per client, at most MAX_WINDOW_MS. */
export const DURATION_MS = 2000;
const SAMPLES_PER_CLIENT = 2;
const MAX_WINDOW_MS = 8000;

export interface Subject {
  name: string;
  what: string;
  base: string;
  paths: string[];
  headers: Record<string, string>;
  expect: number;
  /** Requests of several URLs each (Temporal's UI server), instead of paths. */
  bundles?: Job['bundles'];
  /** Measured with the next subject (its name here) as A, B, B, A, each pooled: the pairs of the ratio table. */
  abbaWith?: string;
}

export interface Cell {
  subject: Subject;
  concurrency: number;
  latency: Stats;
  perSecond: number;
  kbPerResponse: number;
  cpu: Cpu | null;
  /** Per request: RESOURCE_EXHAUSTED answers the web server's client retried, and visibility calls it made. */
  throttled: number;
  visibility: number;
  /** Visibility calls in the cell's whole run (warm-up included), and that run's length. */
  visibilityCalls: number;
  wallSeconds: number;
}

/** Every subject at every concurrency; bare first and last at each, pooled; each `abbaWith` pair A, B, B, A, pooled. */
export async function measureHttp(stack: Stack, cleanup: Cleanup, subjects: Subject[], counters: Counters): Promise<Cell[]> {
  const load = new LoadGenerator();
  cleanup.add('stop the load generator', () => load.close());
  const cpuNow = cpuSampler(stack.temporalPid);
  const run = async (subject: Subject, concurrency: number) => {
    const before = cpuNow();
    const [throttled, visibility, t] = [counters.throttled, counters.visibility, performance.now()];
    const r = await load.run({
      base: subject.base, paths: subject.paths, bundles: subject.bundles, headers: subject.headers, concurrency, warmupMs: WARMUP_MS, durationMs: DURATION_MS,
      minSamples: SAMPLES_PER_CLIENT * concurrency, maxMs: MAX_WINDOW_MS, expect: subject.expect,
    });
    const after = cpuNow();
    if (r.errors) throw new Error(`${subject.name} at ${concurrency} concurrent: ${r.errors} of ${r.total} requests failed; first: ${r.firstError}`);
    const per = (k: keyof Cpu) => (after![k] - before![k]) / r.total;
    return {
      r, cpu: before && after ? { node: per('node'), temporal: per('temporal'), postgres: per('postgres') } : null,
      throttled: (counters.throttled - throttled) / r.total, visibility: (counters.visibility - visibility) / r.total,
      visibilityCalls: counters.visibility - visibility, wallSeconds: (performance.now() - t) / 1000,
    };
  };
  const cell = (subject: Subject, concurrency: number, runs: Awaited<ReturnType<typeof run>>[]): Cell => {
    const measured = runs.reduce((a, x) => a + x.r.measured, 0);
    const mean = (f: (x: (typeof runs)[number]) => number) => runs.reduce((a, x) => a + f(x), 0) / runs.length;
    const cpus = runs.map((x) => x.cpu);
    return {
      subject, concurrency, latency: stats(runs.flatMap((x) => Array.from(x.r.latencies))),
      perSecond: measured / runs.reduce((a, x) => a + x.r.seconds, 0), kbPerResponse: runs.reduce((a, x) => a + x.r.bytes, 0) / measured / 1024,
      cpu: cpus.every((c) => c) ? { node: mean((x) => x.cpu!.node), temporal: mean((x) => x.cpu!.temporal), postgres: mean((x) => x.cpu!.postgres) } : null,
      throttled: mean((x) => x.throttled), visibility: mean((x) => x.visibility),
      visibilityCalls: runs.reduce((a, x) => a + x.visibilityCalls, 0), wallSeconds: runs.reduce((a, x) => a + x.wallSeconds, 0),
    };
  };

  // The load thread's own warm-up (its fetch, JIT), on the bare route: not recorded.
  const [bare, ...others] = subjects as [Subject, ...Subject[]];
  await load.run({ base: bare.base, paths: bare.paths, headers: bare.headers, concurrency: 32, warmupMs: 1000, durationMs: 0, minSamples: 0, maxMs: 0, expect: 200 });
  const cells: Cell[] = [];
  for (const concurrency of CONCURRENCY) {
    const since = performance.now();
    const first = await run(bare, concurrency);
    for (let i = 0; i < others.length; i++) {
      const s = others[i]!;
      const partner = s.abbaWith === others[i + 1]?.name ? others[++i] : undefined;
      if (!partner) {
        cells.push(cell(s, concurrency, [await run(s, concurrency)]));
        continue;
      }
      // ABBA, each pooled: a slow drift of the machine's load weighs on both alike.
      const [a1, b1, b2, a2] = [await run(s, concurrency), await run(partner, concurrency), await run(partner, concurrency), await run(s, concurrency)];
      cells.push(cell(s, concurrency, [a1, a2]), cell(partner, concurrency, [b1, b2]));
    }
    const last = await run(bare, concurrency);
    cells.push(cell(bare, concurrency, [first, last]));
    const rate = (r: JobResult) => fmt(r.measured / r.seconds, 0);
    log(`  measured ${concurrency} concurrent in ${elapsed(since)} (bare first/last: ${rate(first.r)}/${rate(last.r)} req/s)`);
  }
  return cells;
}

export function report(subjects: Subject[], cells: Cell[]): void {
  log(
    `\nHTTP under load, after ${WARMUP_MS} ms warm-up: answers in a window of ${DURATION_MS / 1000} s, longer until ${SAMPLES_PER_CLIENT} per client (at most ${MAX_WINDOW_MS / 1000} s); ` +
      'latency in ms, CPU in ms per request',
  );
  log('x p50 = p50 / bare p50, x thr = bare req/s / req/s (both: times more expensive than the bare route)');
  const order = subjects.map((s) => s.name);
  const rows = CONCURRENCY.flatMap((concurrency) => {
    const bare = cells.find((c) => c.concurrency === concurrency && c.subject.name === 'bare')!;
    return cells
      .filter((c) => c.concurrency === concurrency)
      .sort((a, b) => order.indexOf(a.subject.name) - order.indexOf(b.subject.name))
      .map((c) => [
        c.subject.name, String(concurrency), String(c.latency.n), fmt(c.perSecond, 0), fmt(c.latency.p50), fmt(c.latency.p95), fmt(c.latency.p99),
        fmt(c.kbPerResponse), `${fmt(c.latency.p50 / bare.latency.p50, 1)}x`, `${fmt(bare.perSecond / c.perSecond, 1)}x`,
        c.cpu ? fmt(c.cpu.node, 1) : '-', c.cpu ? fmt(c.cpu.temporal, 1) : '-', c.cpu ? fmt(c.cpu.postgres, 1) : '-', fmt(c.throttled, 2), fmt(c.visibility, 2),
      ]);
  });
  log(table(['subject', 'conc', 'n', 'req/s', 'p50', 'p95', 'p99', 'KB', 'x p50', 'x thr', 'cpu node', 'cpu temporal', 'cpu pg', 'throttled', 'vis/req'], rows));
  log('throttled = RESOURCE_EXHAUSTED answers (Temporal namespace rate limit) per request, each waited out by the SDK\'s retry; vis/req = visibility calls per request');
}

/**
 * Ours against Temporal's UI server for the same data, at each concurrency: ratio = our latency / theirs
 * (goal <= 1.0 at p50 and p99), next to each one's multiple of bare's p50 from the same run.
 */
export function comparePairs(
  cells: Cell[], pairs: [ours: string, theirs: string][],
  o: { goal: number; title: string } = { goal: 1, title: "Ours / Temporal's UI server, the same data (ratio = our latency / theirs" },
): void {
  const at = (name: string, concurrency: number) => cells.find((c) => c.subject.name === name && c.concurrency === concurrency);
  const rows: string[][] = [];
  for (const [ours, theirs] of pairs) {
    for (const concurrency of CONCURRENCY) {
      const [a, b, bare] = [at(ours, concurrency), at(theirs, concurrency), at('bare', concurrency)];
      if (!a || !b || !bare) continue;
      const ok = (r: number) => `${fmt(r, 2)}${r <= o.goal ? '' : ' !'}`;
      rows.push([
        `${ours} / ${theirs}`, String(concurrency), fmt(a.latency.p50), fmt(b.latency.p50), ok(a.latency.p50 / b.latency.p50),
        fmt(a.latency.p99), fmt(b.latency.p99), ok(a.latency.p99 / b.latency.p99), `${fmt(a.latency.p50 / bare.latency.p50, 1)}x / ${fmt(b.latency.p50 / bare.latency.p50, 1)}x`,
        `${fmt(a.perSecond, 0)} / ${fmt(b.perSecond, 0)}`,
      ]);
    }
  }
  log(`\n${o.title}; goal <= ${fmt(o.goal, 1)} at p50 and p99; ! = missed)`);
  log(table(['pair', 'conc', 'ours p50', 'theirs p50', 'ratio p50', 'ours p99', 'theirs p99', 'ratio p99', 'x bare p50 (ours / theirs)', 'req/s (ours / theirs)'], rows));
}

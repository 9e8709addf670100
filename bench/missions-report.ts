// The tables bench/missions.ts prints: latency, throughput, CPU per run, one
// run's history (overall and by event type), and the ratios side by side.
import type { Cpu } from './cpu';
import { fmt, log, table, type Stats } from './lib';
import type { HistorySize, Throughput } from './missions-measures';

export interface Spec {
  n: number;
  mode: 'sequential' | 'parallel';
  iterations: number;
  warmup: number;
  /** Runs started at once for the throughput measure, and how many such rounds. */
  concurrent: number;
  rounds: number;
}

interface Subject {
  latency: Stats;
  throughput: Throughput;
  history: HistorySize;
}

export interface Row {
  spec: Spec;
  mission: Subject;
  bare: Subject;
}

const label = (s: Spec) => `N=${s.n} ${s.mode}`;
const x = (ratio: number) => `${fmt(ratio, 2)}x`;
const latencyRatio = (r: Row) => r.mission.latency.p50 / r.bare.latency.p50;
const throughputRatio = (r: Row) => r.bare.throughput.perSecond / r.mission.throughput.perSecond;
const total = (c: Cpu | null) => (c ? c.node + c.temporal + c.postgres : NaN);
const cpuRatio = (r: Row) => total(r.mission.throughput.cpuPerRun) / total(r.bare.throughput.cpuPerRun);

/** The measures over the target, as "N=10 parallel latency 1.31x". */
export function missedTargets(rows: Row[], target: number): string[] {
  return rows.flatMap((r) =>
    [
      latencyRatio(r) > target ? `${label(r.spec)} latency ${x(latencyRatio(r))}` : null,
      throughputRatio(r) > target ? `${label(r.spec)} throughput ${x(throughputRatio(r))}` : null,
    ].filter((m): m is string => m !== null),
  );
}

export function report(rows: Row[], target: number): void {
  const mark = (ratio: number) => (ratio <= target ? 'met' : 'MISSED');
  log('\nLatency, start -> result, one run at a time (ms)');
  log(
    table(
      ['scenario', 'runs', 'mission p50', 'mission p90', 'bare p50', 'bare p90', 'ratio', `<= ${target}x`, '+ms/task'],
      rows.map((r) => [
        label(r.spec), String(r.spec.iterations), fmt(r.mission.latency.p50), fmt(r.mission.latency.p90), fmt(r.bare.latency.p50),
        fmt(r.bare.latency.p90), x(latencyRatio(r)), mark(latencyRatio(r)), fmt((r.mission.latency.p50 - r.bare.latency.p50) / r.spec.n, 2),
      ]),
    ),
  );
  log('\nThroughput, runs started at once (runs/s; tasks/s = runs/s x N)');
  log(
    table(
      ['scenario', 'concurrent', 'rounds', 'mission runs/s', 'bare runs/s', 'mission tasks/s', 'bare tasks/s', 'ratio', `<= ${target}x`],
      rows.map((r) => [
        label(r.spec), String(r.spec.concurrent), String(r.spec.rounds), fmt(r.mission.throughput.perSecond, 2), fmt(r.bare.throughput.perSecond, 2),
        fmt(r.mission.throughput.perSecond * r.spec.n, 0), fmt(r.bare.throughput.perSecond * r.spec.n, 0), x(throughputRatio(r)), mark(throughputRatio(r)),
      ]),
    ),
  );
  log('\nCPU per run during the throughput batches (ms): this process (worker, sandbox, client), the Temporal server, PostgreSQL');
  const c = (v: Cpu | null, k: keyof Cpu) => (v ? fmt(v[k]) : '-');
  log(
    table(
      ['scenario', 'mission node', 'bare node', 'mission temporal', 'bare temporal', 'mission pg', 'bare pg', 'mission total', 'bare total', 'ratio', '+ms/task'],
      rows.map((r) => {
        const m = r.mission.throughput.cpuPerRun;
        const b = r.bare.throughput.cpuPerRun;
        return [
          label(r.spec), c(m, 'node'), c(b, 'node'), c(m, 'temporal'), c(b, 'temporal'), c(m, 'postgres'), c(b, 'postgres'),
          fmt(total(m)), fmt(total(b)), x(cpuRatio(r)), fmt((total(m) - total(b)) / r.spec.n, 2),
        ];
      }),
    ),
  );
  log('\nHistory of one run: events, bytes as Temporal stores them (protobuf) and as JSON, and the workflow code\'s own time to replay it (p50 of 3)');
  log(
    table(
      ['scenario', 'mission events', 'bare events', 'mission KB', 'bare KB', 'ratio', 'mission JSON KB', 'bare JSON KB', 'mission replay ms', 'bare replay ms', '+ms/task'],
      rows.map((r) => {
        const m = r.mission.history;
        const b = r.bare.history;
        return [
          label(r.spec), String(m.events), String(b.events), fmt(m.bytes / 1024), fmt(b.bytes / 1024), x(m.bytes / b.bytes), fmt(m.kb), fmt(b.kb),
          fmt(m.replayMs!), fmt(b.replayMs!), fmt((m.replayMs! - b.replayMs!) / r.spec.n, 2),
        ];
      }),
    ),
  );
  for (const r of rows.filter((r) => r.spec.n === 1 || (r.spec.n === 10 && r.spec.mode === 'parallel'))) byEventType(r);
  log(`\nRatios, mission / bare (target <= ${target}x for latency and throughput)`);
  log(
    table(
      ['scenario', 'latency p50', 'throughput', 'CPU per run', 'history bytes', 'history events'],
      rows.map((r) => [
        label(r.spec), `${x(latencyRatio(r))} ${mark(latencyRatio(r))}`, `${x(throughputRatio(r))} ${mark(throughputRatio(r))}`, x(cpuRatio(r)),
        x(r.mission.history.bytes / r.bare.history.bytes), x(r.mission.history.events / r.bare.history.events),
      ]),
    ),
  );
}

/** Where one run's history bytes go, by event type, mission next to bare. */
function byEventType(r: Row): void {
  const m = r.mission.history.byType;
  const b = r.bare.history.byType;
  const types = [...new Set([...m.keys(), ...b.keys()])].sort((p, q) => (m.get(q)?.bytes ?? 0) - (m.get(p)?.bytes ?? 0));
  log(`\nHistory of one ${label(r.spec)} run by event type (protobuf bytes)`);
  log(
    table(
      ['event type', 'mission events', 'mission bytes', 'bare events', 'bare bytes', 'difference'],
      [
        ...types.map((t) => {
          const mt = m.get(t) ?? { events: 0, bytes: 0 };
          const bt = b.get(t) ?? { events: 0, bytes: 0 };
          return [t, String(mt.events), String(mt.bytes), String(bt.events), String(bt.bytes), String(mt.bytes - bt.bytes)];
        }),
        ['total', String(r.mission.history.events), String(r.mission.history.bytes), String(r.bare.history.events), String(r.bare.history.bytes), String(r.mission.history.bytes - r.bare.history.bytes)],
      ],
    ),
  );
}

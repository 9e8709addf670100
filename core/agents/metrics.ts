// What agents report about themselves (seed 001's DashboardMetrics): kept as
// one row per agent per minute, each metric folded into last/min/max/sum/count,
// read back for sparklines and charts, and deleted past the retention.
import { checkRules } from '../alerts/rules';
import type { Sql, TxSql } from '../../db/sql';

export interface MetricStats {
  last: number;
  min: number;
  max: number;
  sum: number;
  count: number;
}

export type Bucket = Record<string, MetricStats>;

function fold(into: Bucket, values: Record<string, number>): Bucket {
  for (const [name, v] of Object.entries(values)) {
    const s = into[name];
    into[name] = s ? { last: v, min: Math.min(s.min, v), max: Math.max(s.max, v), sum: s.sum + v, count: s.count + 1 } : { last: v, min: v, max: v, sum: v, count: 1 };
  }
  return into;
}

const minute = (d: Date) => new Date(Math.floor(d.getTime() / 60_000) * 60_000);

/** Folds samples into their minute buckets (a sample's time is clamped to the last hour and now). */
export async function recordMetrics(sql: Sql, agent: { id: string; workspaceId: string }, samples: { at?: string; values: Record<string, number> }[]): Promise<number> {
  const now = Date.now();
  const byBucket = new Map<number, Record<string, number>[]>();
  for (const s of samples) {
    const at = Math.min(now, Math.max(now - 3_600_000, s.at ? Date.parse(s.at) : now));
    const key = minute(new Date(at)).getTime();
    byBucket.set(key, [...(byBucket.get(key) ?? []), s.values]);
  }
  await sql.begin(async (tx) => {
    for (const [key, list] of [...byBucket].sort((a, b) => a[0] - b[0])) {
      const bucket = new Date(key);
      const [row] = await tx<{ stats: Bucket }[]>`select stats from agent_metrics where agent_id = ${agent.id} and bucket = ${bucket} for update`;
      const stats = list.reduce(fold, row?.stats ?? {});
      if (Object.keys(stats).length > 32) continue; // a bucket holds at most 32 names; more are dropped, not stored
      await tx`
        insert into agent_metrics (workspace_id, agent_id, bucket, stats) values (${agent.workspaceId}, ${agent.id}, ${bucket}, ${tx.json(stats as never)})
        on conflict (agent_id, bucket) do update set stats = excluded.stats`;
    }
    // The workspace's alert rules see every sample, in time order, with the samples themselves.
    const ordered = [...samples].sort((a, b) => (a.at ? Date.parse(a.at) : now) - (b.at ? Date.parse(b.at) : now));
    await checkRules(tx, agent, ordered.map((s) => s.values));
  });
  return samples.length;
}

export interface MetricSeries {
  name: string;
  /** One point per step, oldest first: the mean of the samples in it (null where none came). */
  points: (number | null)[];
  last: number | null;
  min: number | null;
  max: number | null;
}

/** An agent's metrics over the last `minutes`, downsampled to `steps` points each. */
export async function metricSeries(sql: TxSql, agentId: string, opts: { minutes: number; steps: number }): Promise<{ from: Date; stepMs: number; series: MetricSeries[] }> {
  const to = minute(new Date()).getTime() + 60_000;
  const from = to - opts.minutes * 60_000;
  const stepMs = Math.max(60_000, Math.ceil((opts.minutes * 60_000) / opts.steps / 60_000) * 60_000);
  const steps = Math.ceil((to - from) / stepMs);
  const rows = await sql<{ bucket: Date; stats: Bucket }[]>`
    select bucket, stats from agent_metrics where agent_id = ${agentId} and bucket >= ${new Date(from)} order by bucket`;
  const acc = new Map<string, { sum: number[]; count: number[]; last: number | null; min: number; max: number }>();
  for (const r of rows) {
    const i = Math.min(steps - 1, Math.floor((r.bucket.getTime() - from) / stepMs));
    for (const [name, s] of Object.entries(r.stats)) {
      let a = acc.get(name);
      if (!a) acc.set(name, (a = { sum: Array(steps).fill(0), count: Array(steps).fill(0), last: null, min: Infinity, max: -Infinity }));
      a.sum[i]! += s.sum;
      a.count[i]! += s.count;
      a.last = s.last;
      a.min = Math.min(a.min, s.min);
      a.max = Math.max(a.max, s.max);
    }
  }
  const series = [...acc].sort(([a], [b]) => a.localeCompare(b)).map(([name, a]) => ({
    name, points: a.sum.map((s, i) => (a.count[i] ? s / a.count[i]! : null)), last: a.last,
    min: Number.isFinite(a.min) ? a.min : null, max: Number.isFinite(a.max) ? a.max : null,
  }));
  return { from: new Date(from), stepMs, series };
}

/** Deletes buckets older than the retention; returns how many. */
export async function pruneMetrics(sql: Sql, retentionHours: number): Promise<number> {
  const rows = await sql`delete from agent_metrics where bucket < now() - make_interval(hours => ${retentionHours}) returning 1`;
  return rows.length;
}

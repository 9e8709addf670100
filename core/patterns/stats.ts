// The statistics summary of seed 000: totals, and per pattern and per version, of one workspace.
import type { TxSql } from '../../db/sql';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { scheduleStatsRollup } from './pattern-runs';

export interface StatsSummary {
  totals: { patterns: number; activePatterns: number; containers: number; executions: number; successes: number; failures: number; successRate: number | null; avgExecutionTime: number | null };
  patterns: {
    id: string; name: string; containerId: string; containerName: string; version: number; isActive: boolean;
    totalExecutions: number; successCount: number; failureCount: number; successRate: number | null; avgExecutionTime: number | null; lastExecuted: Date | null;
    versions?: { version: number; totalExecutions: number; successCount: number; failureCount: number; avgExecutionTime: number | null; lastExecuted: Date | null }[];
  }[];
}

const rate = (s: number, n: number) => (n > 0 ? Math.round((s / n) * 10000) / 10000 : null);
const avg = (ms: number, n: number) => (n > 0 ? Math.round((ms / n) * 100) / 100 : null);

export async function statsSummary(
  sql: TxSql, q: { containerId?: string; patternId?: string; versions?: boolean }, ws?: WorkspaceRef,
): Promise<StatsSummary> {
  const wsId = workspaceIdOf(sql, ws);
  // Live statistics (db/migrations/0005_pattern_stats.sql): the rollup plus runs not yet rolled up.
  const rows = await sql<{ id: string; name: string; containerId: string; containerName: string; version: number; isActive: boolean; n: number; s: number; f: number; ms: number; last: Date | null }[]>`
    select p.id, p.name, p.container_id as "containerId", c.name as "containerName", v.version, p.is_active as "isActive",
           coalesce(st.total_executions, 0)::float8 as n, coalesce(st.success_count, 0)::float8 as s,
           coalesce(st.failure_count, 0)::float8 as f, coalesce(st.total_duration_ms, 0) as ms, st.last_executed_at as last
    from patterns p join containers c on c.id = p.container_id join pattern_versions v on v.id = p.current_version_id
    left join pattern_live_stats st on st.pattern_id = p.id
    where p.workspace_id = ${wsId}
      ${q.containerId ? sql`and p.container_id = ${q.containerId}` : sql``}
      ${q.patternId ? sql`and p.id = ${q.patternId}` : sql``}
    order by n desc, lower(p.name)`;
  const versions = q.versions
    ? await sql<{ patternId: string; version: number; n: number; s: number; f: number; ms: number; last: Date | null }[]>`
        select v.pattern_id as "patternId", v.version, coalesce(st.total_executions, 0)::float8 as n, coalesce(st.success_count, 0)::float8 as s,
               coalesce(st.failure_count, 0)::float8 as f, coalesce(st.total_duration_ms, 0) as ms, st.last_executed_at as last
        from pattern_versions v left join pattern_version_live_stats st on st.version_id = v.id and st.pattern_id = v.pattern_id
        where v.pattern_id in ${sql(rows.map((r) => r.id).concat(['00000000-0000-0000-0000-000000000000']))}
        order by v.version desc`
    : [];
  scheduleStatsRollup(sql); // every read adds the runs not yet rolled up: keep them few
  const [{ containers }] = (await sql`select count(*)::int as containers from containers where workspace_id = ${wsId}`) as [{ containers: number }];
  const n = rows.reduce((a, r) => a + r.n, 0);
  const s = rows.reduce((a, r) => a + r.s, 0);
  const ms = rows.reduce((a, r) => a + r.ms, 0);
  return {
    totals: {
      patterns: rows.length, activePatterns: rows.filter((r) => r.isActive).length, containers,
      executions: n, successes: s, failures: rows.reduce((a, r) => a + r.f, 0), successRate: rate(s, n), avgExecutionTime: avg(ms, n),
    },
    patterns: rows.map((r) => ({
      id: r.id, name: r.name, containerId: r.containerId, containerName: r.containerName, version: r.version, isActive: r.isActive,
      totalExecutions: r.n, successCount: r.s, failureCount: r.f, successRate: rate(r.s, r.n), avgExecutionTime: avg(r.ms, r.n), lastExecuted: r.last,
      ...(q.versions
        ? { versions: versions.filter((v) => v.patternId === r.id).map((v) => ({ version: v.version, totalExecutions: v.n, successCount: v.s, failureCount: v.f, avgExecutionTime: avg(v.ms, v.n), lastExecuted: v.last })) }
        : {}),
    })),
  };
}

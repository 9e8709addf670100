// GET /metrics: one workspace's numbers in Prometheus' text format, for an
// operator's scraper (seed 001's DashboardMetrics): runs by mission and
// outcome and their open count by status, task durations by pattern, approvals
// pending and the oldest one's age, agents by status with each one's last
// heartbeat, events recorded, and this process's sandbox threads. Read in a
// few statements and cached for a moment, so a scrape stays cheap however many
// agents report. Temporal's own SDK metrics are the worker's (README).
import type { Sql } from '../../db/sql';
import type { TemporalHandle } from '../../lib/temporal';
import type { PoolStats } from '../../activities/sandbox/pool';
import { countRuns } from '../runs/visibility';
import { LiveCache } from '../events/live-cache';

type Labels = Record<string, string>;
interface Family { name: string; help: string; type: 'counter' | 'gauge'; samples: { labels?: Labels; value: number }[] }

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (l?: Labels) => (l && Object.keys(l).length ? `{${Object.entries(l).map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}` : '');

/** The text exposition format (version 0.0.4). */
export function exposition(families: Family[]): string {
  return families.map((f) => [
    `# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`,
    ...f.samples.map((s) => `${f.name}${labelText(s.labels)} ${Number.isFinite(s.value) ? s.value : 0}`),
  ].join('\n')).join('\n') + '\n';
}

const OUTCOMES: Record<string, string> = {
  'run.completed': 'completed', 'scheduler.job.completed': 'completed', 'run.failed': 'failed', 'scheduler.job.failed': 'failed', 'run.cancelled': 'cancelled',
};

async function collect(sql: Sql, temporal: TemporalHandle, ws: { id: string; isDefault: boolean }, pool: PoolStats): Promise<Family[]> {
  const [ended, tasks, agents, events, waiting, oldest] = await Promise.all([
    sql<{ mission: string; type: string; n: number }[]>`
      select coalesce(m.name, e.mission_id::text, 'unknown') as mission, e.type, count(*)::int as n
      from events e left join missions m on m.id = e.mission_id
      where e.workspace_id = ${ws.id} and e.type in ${sql(Object.keys(OUTCOMES))}
      group by 1, 2`,
    sql<{ pattern: string; n: number; ms: number }[]>`
      select p.name as pattern, s.total_executions::float8 as n, s.total_duration_ms as ms
      from pattern_stats s join patterns p on p.id = s.pattern_id join containers c on c.id = p.container_id
      where c.workspace_id = ${ws.id}`,
    sql<{ name: string; status: string; seen: number | null }[]>`
      select name, status, extract(epoch from last_heartbeat_at)::float8 as seen from agents where workspace_id = ${ws.id} and deleted_at is null`,
    sql<{ n: number }[]>`select count(*)::float8 as n from events where workspace_id = ${ws.id}`,
    countRuns(temporal, { workspace: ws, status: 'NeedsApproval' }).catch(() => NaN),
    sql<{ age: number | null }[]>`
      select extract(epoch from now() - min(r.at))::float8 as age from events r
      where r.workspace_id = ${ws.id} and r.type = 'approval.requested' and r.at > now() - interval '30 days'
        and not exists (select 1 from events d where d.run_id = r.run_id and d.task_id = r.task_id and d.id > r.id
                        and (d.type like 'approval.%' and d.type <> 'approval.requested' or d.type like 'run.%' and d.type in ('run.completed', 'run.failed', 'run.cancelled')))`,
  ]);
  const open = await Promise.all((['Running', 'Paused', 'NeedsApproval'] as const).map(async (status) => ({
    labels: { status }, value: status === 'NeedsApproval' ? waiting : await countRuns(temporal, { workspace: ws, status }).catch(() => NaN),
  })));
  const byOutcome = new Map<string, number>();
  for (const r of ended) {
    const key = `${r.mission}\u0000${OUTCOMES[r.type]}`;
    byOutcome.set(key, (byOutcome.get(key) ?? 0) + r.n);
  }
  const statuses = new Map<string, number>();
  for (const a of agents) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
  return [
    { name: 'mission_control_runs_ended_total', help: 'Runs that ended, by mission and outcome.', type: 'counter',
      samples: [...byOutcome].map(([k, value]) => { const [mission, outcome] = k.split('\u0000'); return { labels: { mission: mission!, outcome: outcome! }, value }; }) },
    { name: 'mission_control_runs_open', help: 'Open runs by status (Temporal visibility).', type: 'gauge', samples: open },
    { name: 'mission_control_task_duration_milliseconds_sum', help: 'Time spent in pattern tasks, by pattern.', type: 'counter', samples: tasks.map((t) => ({ labels: { pattern: t.pattern }, value: t.ms })) },
    { name: 'mission_control_task_duration_milliseconds_count', help: 'Pattern tasks run, by pattern.', type: 'counter', samples: tasks.map((t) => ({ labels: { pattern: t.pattern }, value: t.n })) },
    { name: 'mission_control_approvals_pending', help: 'Runs waiting for an approval decision.', type: 'gauge', samples: [{ value: waiting }] },
    { name: 'mission_control_approval_oldest_age_seconds', help: 'How long the oldest pending approval has waited (0: none).', type: 'gauge', samples: [{ value: oldest[0]?.age ?? 0 }] },
    { name: 'mission_control_agents', help: 'Agents by status.', type: 'gauge', samples: [...statuses].map(([status, value]) => ({ labels: { status }, value })) },
    { name: 'mission_control_agent_last_heartbeat_timestamp_seconds', help: 'When each agent last heartbeated (Unix time; absent: never).', type: 'gauge',
      samples: agents.filter((a) => a.seen !== null).map((a) => ({ labels: { agent: a.name }, value: a.seen! })) },
    { name: 'mission_control_events_total', help: 'Events recorded in the workspace (rate() gives events per second).', type: 'counter', samples: [{ value: events[0]!.n }] },
    { name: 'mission_control_sandbox_threads', help: "This web process's sandbox threads (checks), by state.", type: 'gauge',
      samples: [{ labels: { state: 'busy' }, value: pool.busy }, { labels: { state: 'idle' }, value: pool.threads - pool.busy }] },
    { name: 'mission_control_sandbox_queued', help: "Sandbox jobs waiting for a thread in this web process.", type: 'gauge', samples: [{ value: pool.queued }] },
  ];
}

/** The scrape, shared for a second by every scraper of the same workspace. */
export function createMetricsReader(sql: Sql, temporal: TemporalHandle, pool: () => PoolStats) {
  const cache = new LiveCache<string>(1000, 100);
  return (ws: { id: string; isDefault: boolean }) => cache.get(ws.id, async () => exposition(await collect(sql, temporal, ws, pool())), {});
}

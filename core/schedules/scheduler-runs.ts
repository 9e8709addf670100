// Scheduler records (seed 002 §5): one row per firing of a mission's schedule, with its outcome
// (db/migrations/0013_scheduler_runs.sql). A firing that started a run is written by the run itself, in the
// transaction of its own audit entry (whose event is scheduler.job.started|completed|failed), keyed by the
// workflow id, so a retried activity writes it once. A firing Temporal skipped starts no run: the reconciler
// compares Temporal's skip counters with those recorded and writes one `skipped` row per new skip, with its
// scheduler.job.skipped event, under a row lock, so any number of replicas write each skip once.
import { ScheduleNotFoundError, type ScheduleDescription } from '@temporalio/client';
import type { Sql, TxSql } from '../../db/sql';
import { missionScheduleId } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { appendAudit, type AuditEntry } from '../audit/audit-log';
import { appendEvent, type EventInput } from '../events/events';

export const FIRING_STATUSES = ['started', 'completed', 'failed', 'cancelled', 'skipped'] as const;
export type FiringStatus = (typeof FIRING_STATUSES)[number];
export const SKIP_REASONS = ['overlap', 'paused', 'other'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** How a run's own end record moves its firing on. */
export const FIRING_ENDS: Record<string, Exclude<FiringStatus, 'started' | 'skipped'>> = {
  'run.completed': 'completed', 'run.failed': 'failed', 'run.cancelled': 'cancelled',
};

/** One firing as the API and the page show it. */
export interface Firing {
  id: string;
  jobId: string;
  scheduleId: string;
  scheduledAt: Date | null;
  startedAt: Date | null;
  workflowId: string | null;
  status: FiringStatus;
  skipReason: SkipReason | null;
  finishedAt: Date | null;
  error: string | null;
  recordedAt: Date;
}

const COLUMNS = 'id::text as id, mission_id::text as "jobId", schedule_id as "scheduleId", scheduled_at as "scheduledAt", started_at as "startedAt", '
  + 'workflow_id as "workflowId", status, skip_reason as "skipReason", finished_at as "finishedAt", error, recorded_at as "recordedAt"';

/** The time a schedule meant its run for: Temporal appends it to the workflow id, to the second. */
export function scheduledTimeOf(workflowId: string): Date | null {
  const m = /-scheduled-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)$/.exec(workflowId);
  return m ? new Date(m[1]!) : null;
}

const clip = (s: string | null | undefined) => (s ? s.slice(0, 2000) : null);

interface RunFiring {
  workflowId: string;
  missionId: string;
  workspaceId: string;
}

/** A run the schedule started has begun (it loaded its plan): pass the transaction of its `mission.executed` entry. */
export async function recordFiringStarted(tx: TxSql, f: RunFiring): Promise<boolean> {
  const rows = await tx`
    insert into scheduler_runs (workspace_id, mission_id, schedule_id, scheduled_at, started_at, workflow_id, status)
    values (${f.workspaceId}, ${f.missionId}, ${missionScheduleId(f.missionId)}, coalesce(${scheduledTimeOf(f.workflowId)}::timestamptz, now()), now(),
            ${f.workflowId}, 'started')
    on conflict (workflow_id) do nothing
    returning id`;
  return rows.length > 0;
}

/** A firing that reached a paused mission: its run stops at once, and the firing is a skip (reason paused). */
export async function recordFiringSkipped(tx: TxSql, f: RunFiring & { reason: SkipReason; error: string }): Promise<boolean> {
  const rows = await tx`
    insert into scheduler_runs (workspace_id, mission_id, schedule_id, scheduled_at, started_at, workflow_id, status, skip_reason, finished_at, error)
    values (${f.workspaceId}, ${f.missionId}, ${missionScheduleId(f.missionId)}, coalesce(${scheduledTimeOf(f.workflowId)}::timestamptz, now()), now(),
            ${f.workflowId}, 'skipped', ${f.reason}, now(), ${clip(f.error)})
    on conflict (workflow_id) do nothing
    returning id`;
  return rows.length > 0;
}

/**
 * A run has ended: its firing moves on from `started`, once. A run the schedule's "run now" started with an id
 * of its own (or one from before these records) has no row yet: it gets one from its `mission.executed` entry,
 * if that says the schedule started it; any other run has neither, and nothing is written.
 */
export async function recordFiringEnded(
  tx: TxSql, f: { workflowId: string; missionId: string }, status: (typeof FIRING_ENDS)[string], error?: string | null,
): Promise<boolean> {
  const { workflowId, missionId } = f;
  const rows = await tx`
    with moved as (
      update scheduler_runs set status = ${status}, finished_at = now(), error = ${clip(error)}
      where workflow_id = ${workflowId} and status = 'started'
      returning id
    ), added as (
      insert into scheduler_runs (workspace_id, mission_id, schedule_id, scheduled_at, started_at, workflow_id, status, finished_at, error)
      select a.workspace_id, ${missionId}, ${missionScheduleId(missionId)}, coalesce(${scheduledTimeOf(workflowId)}::timestamptz, a.at), a.at,
             ${workflowId}, ${status}, now(), ${clip(error)}
      from audit_log a
      where a.idempotency_key = ${`mission.executed:${workflowId}`} and a.entity_id = ${missionId} and a.details->>'trigger' = 'scheduled'
        and not exists (select 1 from moved) and not exists (select 1 from scheduler_runs where workflow_id = ${workflowId})
      on conflict (workflow_id) do nothing
      returning id
    )
    select id from moved union all select id from added`;
  return rows.length > 0;
}

/** A run's `mission.executed` entry; a firing of the schedule (`firing`) commits its record with it. */
export async function recordExecution(sql: Sql, entry: AuditEntry, firing: RunFiring | null): Promise<void> {
  if (!firing) return void (await appendAudit(sql, entry));
  await sql.begin(async (tx) => {
    await appendAudit(tx, entry);
    await recordFiringStarted(tx, firing);
  });
}

/** A run's own entry (run.paused, run.completed, …); an end moves the run's firing on in the same transaction. */
export async function recordRunEntry(sql: Sql, entry: AuditEntry, run: { workflowId: string; missionId: string }): Promise<void> {
  const ends = FIRING_ENDS[entry.action];
  if (!ends) return void (await appendAudit(sql, entry));
  const error = ends === 'failed' ? entry.details?.error : entry.details?.reason;
  await sql.begin(async (tx) => {
    await appendAudit(tx, entry);
    await recordFiringEnded(tx, run, ends, typeof error === 'string' ? error : null);
  });
}

/** A firing that reached a paused mission: the skip and its scheduler.job.skipped event, together. */
export async function recordPausedFiring(sql: Sql, event: EventInput, firing: RunFiring): Promise<void> {
  await sql.begin(async (tx) => {
    await appendEvent(tx, event);
    await recordFiringSkipped(tx, { ...firing, reason: 'paused', error: String(event.payload?.reason ?? 'the mission is paused') });
  });
}

// ---- skips Temporal counted ---------------------------------------------------------------

type Counter = 'overlap_skipped' | 'buffer_dropped' | 'missed_catchup_window';
const COUNTER_REASON: Record<Counter, SkipReason> = { overlap_skipped: 'overlap', buffer_dropped: 'overlap', missed_catchup_window: 'other' };
const COUNTER_TEXT: Record<Counter, string> = {
  overlap_skipped: 'Temporal skipped this firing: a run of the schedule was still open (overlap policy skip).',
  buffer_dropped: 'Temporal dropped this firing: its buffer of firings waiting for an open run was full.',
  missed_catchup_window: 'Temporal missed this firing: it came more than the catch-up window late.',
};
/** At most this many skips of one counter are written per look; the rest follow on the next. */
const MAX_SKIPS_PER_LOOK = 200;

const asNumber = (v: unknown): number => (typeof v === 'number' ? v : typeof (v as { toNumber?: unknown })?.toNumber === 'function' ? (v as { toNumber(): number }).toNumber() : 0);

/** Temporal's counters of firings that started nothing. */
export function skipCounters(d: ScheduleDescription): Record<Counter, number> {
  return {
    overlap_skipped: d.info.numActionsSkippedOverlap,
    buffer_dropped: asNumber(d.raw.info?.bufferDropped),
    missed_catchup_window: d.info.numActionsMissedCatchupWindow,
  };
}

/**
 * Writes one `skipped` row (and its scheduler.job.skipped event, in the same statement) for each skip Temporal
 * counted since the last look, for the schedule as `d` describes it. Returns how many it wrote.
 */
export async function recordSkippedFirings(sql: Sql, mission: { id: string; workspaceId: string }, d: ScheduleDescription): Promise<number> {
  const counters = skipCounters(d);
  if (Object.values(counters).every((n) => n === 0)) return 0;
  const scheduleId = missionScheduleId(mission.id);
  const epoch = d.info.createdAt;
  return sql.begin(async (tx) => {
    const [since] = await tx<{ at: Date | null }[]>`select (value #>> '{}')::timestamptz as at from settings where key = 'scheduler.records_since'`;
    // A schedule from before these records: what Temporal counted then stays uncounted here.
    const older = !!since?.at && epoch.getTime() < since.at.getTime();
    let written = 0;
    for (const [counter, count] of Object.entries(counters) as [Counter, number][]) {
      if (count === 0) continue;
      await tx`
        insert into scheduler_skip_counts (workspace_id, schedule_id, schedule_created_at, counter, recorded)
        values (${mission.workspaceId}, ${scheduleId}, ${epoch}, ${counter}, ${older ? count : 0})
        on conflict do nothing`;
      const [row] = await tx<{ recorded: string }[]>`
        select recorded::text from scheduler_skip_counts
        where schedule_id = ${scheduleId} and schedule_created_at = ${epoch} and counter = ${counter} for update`;
      const from = Number(row!.recorded) + 1;
      const to = Math.min(count, from + MAX_SKIPS_PER_LOOK - 1);
      if (to < from) continue;
      const key = `${scheduleId}/${epoch.toISOString()}/${counter}/`;
      const [added] = await tx<{ n: number }[]>`
        with firing as (
          insert into scheduler_runs (workspace_id, mission_id, schedule_id, status, skip_reason, skip_key, error)
          select ${mission.workspaceId}, ${mission.id}, ${scheduleId}, 'skipped', ${COUNTER_REASON[counter]}, ${key}::text || n::text, ${COUNTER_TEXT[counter]}
          from generate_series(${from}::bigint, ${to}::bigint) n
          on conflict (skip_key) do nothing
          returning id, skip_reason
        ), event as (
          insert into events (type, entity_type, entity_id, mission_id, actor, payload, workspace_id)
          select 'scheduler.job.skipped', 'schedule', ${scheduleId}, ${mission.id}, 'scheduler',
                 jsonb_build_object('reason', skip_reason, 'counter', ${counter}::text, 'recordId', id::text, 'message', ${COUNTER_TEXT[counter]}::text),
                 ${mission.workspaceId}
          from firing
        )
        select count(*)::int as n from firing`;
      await tx`
        update scheduler_skip_counts set recorded = ${to}, updated_at = now()
        where schedule_id = ${scheduleId} and schedule_created_at = ${epoch} and counter = ${counter}`;
      written += added!.n;
    }
    return written;
  });
}

/**
 * The schedules worth a look for new skips: an overlap skip needs a run of the schedule open, so those with a
 * firing open or just ended; `all` looks at every schedule (a missed catch-up window needs no open run).
 */
export async function schedulesToSweep(sql: Sql, all = false): Promise<{ id: string; workspaceId: string }[]> {
  return sql<{ id: string; workspaceId: string }[]>`
    select m.id, m.workspace_id as "workspaceId" from missions m
    where m.schedule is not null
      and (${all} or exists (
        select 1 from scheduler_runs r
        where r.mission_id = m.id and (r.status = 'started' or r.finished_at > now() - interval '5 minutes')))
    order by m.id`;
}

/** Looks at the schedules that may have skipped firings (`all`: every one) and records the new skips; returns how many. */
export async function sweepSkippedFirings(sql: Sql, temporal: TemporalHandle, opts: { all?: boolean } = {}): Promise<number> {
  const schedules = await schedulesToSweep(sql, opts.all);
  let written = 0;
  // A few at a time, as the reconciler's other steps: enough to keep up, not enough to crowd the API's own calls.
  for (let i = 0; i < schedules.length; i += 4) {
    const counts = await Promise.all(schedules.slice(i, i + 4).map(async (m) => {
      const d = await temporal.client.schedule.getHandle(missionScheduleId(m.id)).describe().catch((err: unknown) => {
        if (err instanceof ScheduleNotFoundError) return null; // the reconciler creates it again; nothing to count yet
        throw err;
      });
      return d ? recordSkippedFirings(sql, m, d) : 0;
    }));
    written += counts.reduce((a, b) => a + b, 0);
  }
  return written;
}

// ---- reading ------------------------------------------------------------------------------

export interface FiringQuery {
  jobId?: string;
  status?: FiringStatus;
  /** Records with an id below this one (the `next` of the previous page). */
  before?: number;
  limit: number;
}

/** A workspace's firings, newest record first. */
export async function listFirings(sql: TxSql, q: FiringQuery, ws?: WorkspaceRef): Promise<Firing[]> {
  return sql<Firing[]>`
    select ${sql.unsafe(COLUMNS)} from scheduler_runs
    where workspace_id = ${workspaceIdOf(sql, ws)}
      ${q.jobId ? sql`and mission_id = ${q.jobId}` : sql``}
      ${q.status ? sql`and status = ${q.status}` : sql``}
      ${q.before ? sql`and id < ${q.before}` : sql``}
    order by id desc
    limit ${q.limit}`;
}

/** The newest `per` firings of each job, newest first. */
export async function recentFirings(sql: TxSql, jobIds: string[], per: number, ws?: WorkspaceRef): Promise<Map<string, Firing[]>> {
  const out = new Map<string, Firing[]>();
  if (!jobIds.length) return out;
  const rows = await sql<Firing[]>`
    select ${sql.unsafe(COLUMNS)} from (
      select *, row_number() over (partition by mission_id order by id desc) as n
      from scheduler_runs where workspace_id = ${workspaceIdOf(sql, ws)} and mission_id in ${sql(jobIds)}
    ) latest
    where n <= ${per}
    order by id desc`;
  for (const r of rows) out.set(r.jobId, [...(out.get(r.jobId) ?? []), r]);
  return out;
}

/** Each job's newest firing that has an outcome (not still `started`). */
export async function lastOutcomes(sql: TxSql, jobIds: string[], ws?: WorkspaceRef): Promise<Map<string, Firing>> {
  if (!jobIds.length) return new Map();
  const rows = await sql<Firing[]>`
    select distinct on (mission_id) ${sql.unsafe(COLUMNS)} from scheduler_runs
    where workspace_id = ${workspaceIdOf(sql, ws)} and mission_id in ${sql(jobIds)} and status <> 'started'
    order by mission_id, id desc`;
  return new Map(rows.map((r) => [r.jobId, r]));
}

// Pattern runs and their statistics. Recording is idempotent on the
// execution key: a new run appends its row and a small tally in one
// statement, so a retried activity records nothing twice, and no two runs
// write the same row. Tallies are rolled up into per-pattern and per-version
// rows in batches, shortly after, by the process that recorded them
// (db/migrations/0005_pattern_stats.sql); readers add both, so statistics
// are exact the moment a run is recorded. A run, and a task's kept output,
// belong to the workspace of the run (the default one when none is named).
import type { Sql, TxSql } from '../../db/sql';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { EVENT_COLUMNS, eventValues, type EventInput } from '../events/events';

export interface RunRecord {
  executionKey: string;
  patternId: string;
  versionId: string;
  patternName: string;
  version: number;
  source: 'inject' | 'mission';
  missionId?: string | null;
  workflowId?: string | null;
  taskId?: string | null;
  attempt?: number;
  status: 'succeeded' | 'failed';
  errorKind?: string | null;
  errorMessage?: string | null;
  output?: unknown;
  logs: string[];
  outbound: unknown[];
  durationMs: number;
  actor: string;
  /** The workspace the run belongs to; omitted → the default workspace. */
  workspaceId?: string;
}

/** Where a mission task's output is kept: task_outputs, under its reference, instead of the run's row. */
export interface KeptOutput {
  workflowId: string;
  ref: string;
  taskId: string;
  taskName: string;
  order: number;
  bytes: number;
  output: unknown;
}

/**
 * Records one run; returns false when this execution key was recorded before. With `kept`, the output is
 * stored under its reference in the same statement, and the run is recorded only when that reference was
 * new: another attempt of the same task execution that kept its output first is the one that counts.
 * With `event`, the event the run stands for (a task completed) is written with it, once.
 */
export async function recordRun(sql: TxSql, r: RunRecord, extra: { kept?: KeptOutput; event?: EventInput } = {}): Promise<boolean> {
  const { kept } = extra;
  const ws = () => workspaceIdOf(sql, r.workspaceId ? { id: r.workspaceId } : undefined);
  const event = extra.event && { ...extra.event, workspaceId: extra.event.workspaceId ?? r.workspaceId };
  const values = sql`
    ${r.executionKey}, ${r.patternId}, ${r.versionId}, ${r.patternName}, ${r.version}, ${r.source}, ${r.missionId ?? null},
    ${r.workflowId ?? null}, ${r.taskId ?? null}, ${r.attempt ?? 1}, ${r.status}, ${r.errorKind ?? null},
    ${r.errorMessage ?? null}, ${sql.json((kept ? null : r.output ?? null) as never)}, ${sql.json(r.logs)}, ${sql.json(r.outbound as never)},
    ${r.durationMs}, ${r.actor}, ${ws()}`;
  const rows = await sql`
    with ${kept ? sql`kept as (
      insert into task_outputs (workflow_id, ref, task_id, task_name, task_order, output, bytes, workspace_id)
      values (${kept.workflowId}, ${kept.ref}, ${kept.taskId}, ${kept.taskName}, ${kept.order}, ${sql.json((kept.output ?? null) as never)}, ${kept.bytes},
              ${ws()})
      on conflict (workflow_id, ref) do nothing
      returning 1
    ), ` : sql``}ins as (
      insert into pattern_runs (execution_key, pattern_id, version_id, pattern_name, version, source, mission_id, workflow_id,
                                task_id, attempt, status, error_kind, error_message, output, logs, outbound, duration_ms, actor,
                                workspace_id)
      ${kept ? sql`select ${values} where exists (select 1 from kept)` : sql`values (${values})`}
      on conflict (execution_key) do nothing
      returning pattern_id, version_id, status, duration_ms, finished_at
    )${event ? sql`, event as (
      insert into events (${sql.unsafe(EVENT_COLUMNS)}) select ${eventValues(sql, event)} where exists (select 1 from ins)
      on conflict (idempotency_key) do nothing
    )` : sql``}
    insert into pattern_run_tallies (pattern_id, version_id, succeeded, duration_ms, finished_at)
    select pattern_id, version_id, status = 'succeeded', duration_ms, finished_at from ins
    returning 1`;
  if (rows.length > 0) scheduleStatsRollup(sql);
  return rows.length > 0;
}

// ---- rollup -------------------------------------------------------------------

/** How long recorded tallies wait to be rolled up: long enough to batch many runs, short enough to keep reads small. */
const ROLLUP_DELAY_MS = 1000;
const ROLLUP_BATCH = 5000;

const isPool = (sql: TxSql): sql is Sql => typeof (sql as Sql).begin === 'function';
/** Pools with a rollup loop running, and whether another round was asked for since its last one began. */
const loops = new WeakMap<Sql, { wanted: boolean }>();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Rolls tallies up soon, off the caller's path: one loop per pool, a round every ROLLUP_DELAY_MS
 * while runs are recorded or statistics read. A transaction cannot run it (it ends before the
 * round): whoever records runs in a transaction calls this with the pool once it commits.
 */
export function scheduleStatsRollup(sql: TxSql): void {
  if (!isPool(sql)) return;
  const running = loops.get(sql);
  if (running) return void (running.wanted = true);
  const loop = { wanted: true };
  loops.set(sql, loop);
  void (async () => {
    try {
      while (loop.wanted) {
        loop.wanted = false;
        await sleep(ROLLUP_DELAY_MS);
        await rollUpPatternStats(sql);
      }
    } catch {
      // The pool was closed, or the database is away: the tallies wait (reads count them
      // meanwhile), and the next run recorded or read starts a new loop.
    } finally {
      loops.delete(sql);
    }
  })();
}

/**
 * Moves recorded tallies into pattern_stats and pattern_version_stats; returns how many.
 * Each batch deletes its tallies in the statement that adds them to the rollup, and
 * concurrent rollups (other processes) skip each other's rows, so every run counts once.
 */
export async function rollUpPatternStats(sql: Sql): Promise<number> {
  let total = 0;
  for (;;) {
    const [{ moved }] = (await sql`
      with batch as (
        delete from pattern_run_tallies
        where ctid = any(array(select ctid from pattern_run_tallies limit ${ROLLUP_BATCH} for update skip locked))
        returning pattern_id, version_id, succeeded, duration_ms, finished_at
      ), per_pattern as (
        insert into pattern_stats as s (pattern_id, total_executions, success_count, failure_count, total_duration_ms, last_executed_at)
        select b.pattern_id, count(*), count(*) filter (where b.succeeded), count(*) filter (where not b.succeeded), sum(b.duration_ms), max(b.finished_at)
        from batch b where exists (select 1 from patterns p where p.id = b.pattern_id)
        group by b.pattern_id
        on conflict (pattern_id) do update set
          total_executions = s.total_executions + excluded.total_executions, success_count = s.success_count + excluded.success_count,
          failure_count = s.failure_count + excluded.failure_count, total_duration_ms = s.total_duration_ms + excluded.total_duration_ms,
          last_executed_at = greatest(s.last_executed_at, excluded.last_executed_at)
      ), per_version as (
        insert into pattern_version_stats as s (version_id, pattern_id, total_executions, success_count, failure_count, total_duration_ms, last_executed_at)
        select b.version_id, b.pattern_id, count(*), count(*) filter (where b.succeeded), count(*) filter (where not b.succeeded), sum(b.duration_ms), max(b.finished_at)
        from batch b where exists (select 1 from pattern_versions v where v.id = b.version_id)
        group by b.version_id, b.pattern_id
        on conflict (version_id) do update set
          total_executions = s.total_executions + excluded.total_executions, success_count = s.success_count + excluded.success_count,
          failure_count = s.failure_count + excluded.failure_count, total_duration_ms = s.total_duration_ms + excluded.total_duration_ms,
          last_executed_at = greatest(s.last_executed_at, excluded.last_executed_at)
      )
      select count(*)::int as moved from batch`) as unknown as [{ moved: number }];
    total += moved;
    if (moved < ROLLUP_BATCH) return total;
  }
}

export interface RecordedRun {
  executionKey: string;
  status: 'succeeded' | 'failed';
  output: unknown;
  logs: string[];
  outbound: unknown[];
  durationMs: number;
  patternId: string | null;
  patternName: string;
  version: number;
  attempt: number;
  errorKind: string | null;
  errorMessage: string | null;
  finishedAt: Date;
}

const runColumns = (sql: TxSql) => sql`
  execution_key as "executionKey", status, output, logs, outbound, duration_ms as "durationMs", pattern_id as "patternId",
  pattern_name as "patternName", version, attempt, error_kind as "errorKind", error_message as "errorMessage", finished_at as "finishedAt"`;

const likePrefix = (prefix: string) => prefix.replace(/[%_\\]/g, '\\$&') + '%';

/** A successful run already recorded for this task execution (any attempt), if there is one. */
export async function findSucceededRun(sql: TxSql, at: { workflowId: string; taskId: string; keyPrefix: string }): Promise<RecordedRun | null> {
  // workflow_id and task_id narrow through their index; the key prefix picks this run of the task.
  const [row] = await sql<RecordedRun[]>`
    select ${runColumns(sql)} from pattern_runs
    where workflow_id = ${at.workflowId} and task_id = ${at.taskId} and execution_key like ${likePrefix(at.keyPrefix)} and status = 'succeeded'
    order by finished_at limit 1`;
  return row ?? null;
}

/** How many attempts of this task execution have failed so far. */
export async function countFailedRuns(sql: TxSql, at: { workflowId: string; taskId: string; keyPrefix: string }): Promise<number> {
  const [{ failures }] = (await sql`
    select count(*)::int as failures from pattern_runs
    where workflow_id = ${at.workflowId} and task_id = ${at.taskId} and execution_key like ${likePrefix(at.keyPrefix)} and status = 'failed'`) as [{ failures: number }];
  return failures;
}

/** Every recorded attempt of a workflow run's tasks, for its logs: none for a run of another workspace. */
export async function runsOfWorkflow(sql: TxSql, workflowId: string, ws?: WorkspaceRef): Promise<(RecordedRun & { taskId: string | null })[]> {
  return sql<(RecordedRun & { taskId: string | null })[]>`
    select ${runColumns(sql)}, task_id as "taskId" from pattern_runs
    where workflow_id = ${workflowId} and workspace_id = ${workspaceIdOf(sql, ws)} order by finished_at`;
}

export async function recentRuns(sql: TxSql, patternId: string, limit = 20, ws?: WorkspaceRef): Promise<RecordedRun[]> {
  return sql<RecordedRun[]>`
    select ${runColumns(sql)} from pattern_runs
    where pattern_id = ${patternId} and workspace_id = ${workspaceIdOf(sql, ws)} order by finished_at desc limit ${limit}`;
}

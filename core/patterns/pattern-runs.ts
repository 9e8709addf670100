// Pattern runs and their statistics. Recording is idempotent on the
// execution key and updates the pattern's and the version's statistics in
// the same statement, so concurrent runs and retried activities count once.
import type { TxSql } from '../../db/sql';

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
}

/** Records one run; returns false when this execution key was recorded before. */
export async function recordRun(sql: TxSql, r: RunRecord): Promise<boolean> {
  const ok = r.status === 'succeeded' ? 1 : 0;
  const rows = await sql`
    with ins as (
      insert into pattern_runs (execution_key, pattern_id, version_id, pattern_name, version, source, mission_id, workflow_id,
                                task_id, attempt, status, error_kind, error_message, output, logs, outbound, duration_ms, actor)
      values (${r.executionKey}, ${r.patternId}, ${r.versionId}, ${r.patternName}, ${r.version}, ${r.source}, ${r.missionId ?? null},
              ${r.workflowId ?? null}, ${r.taskId ?? null}, ${r.attempt ?? 1}, ${r.status}, ${r.errorKind ?? null},
              ${r.errorMessage ?? null}, ${sql.json((r.output ?? null) as never)}, ${sql.json(r.logs)}, ${sql.json(r.outbound as never)},
              ${r.durationMs}, ${r.actor})
      on conflict (execution_key) do nothing
      returning pattern_id, version_id
    ), pattern_stats as (
      update patterns p set
        total_executions = total_executions + 1, success_count = success_count + ${ok},
        failure_count = failure_count + ${1 - ok}, total_duration_ms = total_duration_ms + ${r.durationMs},
        last_executed_at = now()
      from ins where p.id = ins.pattern_id
      returning 1
    )
    update pattern_versions v set
      total_executions = total_executions + 1, success_count = success_count + ${ok},
      failure_count = failure_count + ${1 - ok}, total_duration_ms = total_duration_ms + ${r.durationMs},
      last_executed_at = now()
    from ins where v.id = ins.version_id
    returning 1`;
  return rows.length > 0;
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

/** Every recorded attempt of a workflow run's tasks, for its logs. */
export async function runsOfWorkflow(sql: TxSql, workflowId: string): Promise<(RecordedRun & { taskId: string | null })[]> {
  return sql<(RecordedRun & { taskId: string | null })[]>`
    select ${runColumns(sql)}, task_id as "taskId" from pattern_runs where workflow_id = ${workflowId} order by finished_at`;
}

export async function recentRuns(sql: TxSql, patternId: string, limit = 20): Promise<RecordedRun[]> {
  return sql<RecordedRun[]>`
    select ${runColumns(sql)} from pattern_runs where pattern_id = ${patternId} order by finished_at desc limit ${limit}`;
}

// What a board card says about its run: how far it got, what it is doing now
// (task and attempt) and for how long. Read from the events table (each task's
// start, end, failures and approvals carry the run and the task) in one query
// for every card of a board load, never from a workflow query per card.
import type { Sql } from '../../db/sql';
import type { RunSummary } from '../runs/visibility';

/** A task the run is busy with, or waiting on. */
export interface CurrentTask {
  taskId: string;
  name: string;
  /** The attempt under way (1 for a first try; the one after the last failed attempt); null when none was recorded. */
  attempt: number | null;
  /** running: started; retrying: an attempt failed and the next one runs or is about to; approval: its output waits for a decision. */
  state: 'running' | 'retrying' | 'approval';
  since: Date;
}

export interface CardProgress {
  /** Tasks that ended (done, failed for good, rejected or approved). */
  done: number;
  /** Tasks of the mission; null when neither the mission nor any event says. */
  total: number | null;
  /** 0 to 100, or null when the total is unknown. */
  percent: number | null;
  /** The task a reader most wants to see: the one that changed last among those still busy. */
  current: CurrentTask | null;
  /** How many other tasks are busy at the same time (parallel tasks). */
  alsoBusy: number;
  /** The task that failed for good, for a failed run. */
  failedTask: string | null;
}

export type BoardCard = RunSummary & { progress: CardProgress };

const ENDED = new Set(['task.completed', 'task.failed', 'approval.approved', 'approval.approved_with_notes', 'approval.edited_and_approved', 'approval.rejected']);
const BUSY: Record<string, CurrentTask['state']> = {
  'task.started': 'running',
  'task.attempt_failed': 'retrying',
  'approval.requested': 'approval',
  // Changes requested: the task runs again, with the notes, at once.
  'approval.changes_requested': 'running',
};
/** The events that move a task along (a refused decision changes nothing). */
const TASK_EVENTS = [...ENDED, ...Object.keys(BUSY)];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface TaskRow {
  runId: string;
  taskId: string;
  last: string;
  lastId: string;
  lastAt: Date;
  name: string | null;
  attempt: number | null;
}

/** Each card's progress, for all the runs of one board load: two indexed queries, whatever the number of viewers. */
export async function loadProgress(sql: Sql, runs: RunSummary[]): Promise<Map<string, CardProgress>> {
  const out = new Map<string, CardProgress>();
  if (!runs.length) return out;
  const runIds = [...new Set(runs.map((r) => r.workflowId))];
  // A run started with its task count says it (the memo); only older runs fall back to the mission's tasks now.
  const missionIds = [...new Set(runs.filter((r) => r.taskCount === null).map((r) => r.missionId).filter((id) => UUID.test(id)))];
  const [tasks, totals] = await Promise.all([
    // The latest event of each task of each run, its name, and the attempt of its latest start or failed attempt.
    sql<TaskRow[]>`
      select run_id as "runId", task_id as "taskId",
             (array_agg(type order by id desc))[1] as last,
             max(id)::text as "lastId",
             max(at) as "lastAt",
             (array_agg(payload->>'taskName' order by id desc) filter (where payload ? 'taskName'))[1] as name,
             (array_agg((payload->>'attempt')::int order by id desc)
               filter (where type in ('task.started', 'task.attempt_failed') and payload->>'attempt' ~ '^[0-9]{1,9}$'))[1] as attempt
      from events
      where run_id in ${sql(runIds)} and task_id is not null and task_id <> '' and type in ${sql(TASK_EVENTS)}
      group by run_id, task_id`,
    missionIds.length
      ? sql<{ missionId: string; n: number }[]>`
          select mission_id::text as "missionId", count(*)::int as n from mission_tasks
          where mission_id in ${sql(missionIds)} group by mission_id`
      : Promise.resolve([]),
  ]);
  const totalOf = new Map(totals.map((t) => [t.missionId, t.n]));
  const byRun = new Map<string, TaskRow[]>();
  for (const t of tasks) byRun.set(t.runId, [...(byRun.get(t.runId) ?? []), t]);
  for (const run of runs) out.set(run.workflowId, progressOf(run, byRun.get(run.workflowId) ?? [], run.taskCount ?? totalOf.get(run.missionId)));
  return out;
}

function progressOf(run: RunSummary, tasks: TaskRow[], planned: number | undefined): CardProgress {
  const done = tasks.filter((t) => ENDED.has(t.last)).length;
  // The mission may have changed since this run started (it works from a snapshot): never less than what ran.
  const total = planned === undefined && !tasks.length ? null : Math.max(planned ?? 0, tasks.length);
  const percent = run.status === 'Completed' ? 100 : total ? Math.min(100, Math.round((done / total) * 100)) : total === 0 ? 0 : null;
  const open = run.closeTime === null;
  const busy = open
    ? tasks.filter((t) => BUSY[t.last]).sort((a, b) => Number(b.lastId) - Number(a.lastId))
    : [];
  // A run waiting for a decision shows the task it waits on first.
  const waiting = run.status === 'NeedsApproval' ? busy.find((t) => BUSY[t.last] === 'approval') : undefined;
  const top = waiting ?? busy[0];
  const failed = tasks.filter((t) => t.last === 'task.failed').sort((a, b) => Number(b.lastId) - Number(a.lastId))[0];
  return {
    done,
    total,
    percent,
    current: top ? { taskId: top.taskId, name: top.name ?? top.taskId, attempt: attemptOf(top), state: BUSY[top.last]!, since: top.lastAt } : null,
    alsoBusy: Math.max(0, busy.length - 1),
    failedTask: run.status === 'Failed' && failed ? failed.name ?? failed.taskId : null,
  };
}

/**
 * Each attempt's start and each failed attempt are recorded once: after a failed attempt, until the next one
 * starts, the attempt the card names is the next one (Temporal retries it after its delay).
 */
function attemptOf(t: TaskRow): number | null {
  if (t.attempt === null) return null;
  return t.last === 'task.attempt_failed' ? t.attempt + 1 : t.attempt;
}

/** A run's time so far (open) or its whole duration (ended), in milliseconds. */
export function elapsedMs(run: Pick<RunSummary, 'startTime' | 'closeTime'>, now: number): number {
  return Math.max(0, (run.closeTime?.getTime() ?? now) - run.startTime.getTime());
}

/** An elapsed time in words a card has room for: "42 s", "3 min 5 s", "2 h 5 min", "3 d 4 h". */
export function elapsedText(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

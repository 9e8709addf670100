// Lists and counts of runs from Temporal's visibility store, by search
// attributes: Temporal is the source of truth, nothing is copied to PostgreSQL.
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { MISSION_STATUSES, MISSION_WORKFLOW_TYPE, type MissionStatus, type MissionTrigger } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import { containerIdKey, missionIdKey, missionStatusKey, missionTriggerKey, workspaceIdKey } from '../../workflows/messages';
import { unavailable } from './temporal-errors';

export interface RunSummary {
  workflowId: string;
  runId: string;
  missionId: string;
  missionName: string;
  containerId: string;
  /** The WorkspaceId it was started with; null for runs from before workspaces (the default workspace's). */
  workspaceId: string | null;
  status: MissionStatus;
  trigger: MissionTrigger | null;
  priority: string | null;
  /** How many tasks the run's plan has, when it was started with it (the memo); null for older runs. */
  taskCount: number | null;
  startTime: Date;
  closeTime: Date | null;
}

const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const iso = (ms: number) => quote(new Date(ms).toISOString());

/** The workspace a run is looked at from: `isDefault` because the default one also owns the runs from before workspaces. */
export interface RunWorkspace {
  id: string;
  isDefault: boolean;
}

/** Whether the run belongs to the workspace: its WorkspaceId, or none (a run from before workspaces) for the default one. */
export const ownsRun = (run: Pick<RunSummary, 'workspaceId'>, ws: RunWorkspace): boolean =>
  run.workspaceId === ws.id || (run.workspaceId === null && ws.isDefault);

export interface RunFilter {
  /**
   * Only this workspace's runs. The default workspace also has the runs from before workspaces,
   * which carry no WorkspaceId.
   */
  workspace?: RunWorkspace;
  missionId?: string;
  /** Any of these missions (the board's search and priority filters). */
  missionIds?: string[];
  containerId?: string;
  status?: MissionStatus;
  trigger?: MissionTrigger;
  /** Runs started at or after this time. */
  from?: Date;
  /** Runs started before this time. */
  until?: Date;
  /** Keyset paging, newest first: runs started before this millisecond. */
  before?: Date;
  /** Keyset paging, oldest first: runs started after this millisecond. */
  after?: Date;
}

const OPEN_STATUSES: readonly MissionStatus[] = ['Running', 'Paused', 'NeedsApproval'];

/** A visibility query for missionWorkflow runs; live statuses also require an open execution. */
export function runQuery(f: RunFilter): string {
  const parts = [`WorkflowType = ${quote(MISSION_WORKFLOW_TYPE)}`];
  if (f.workspace) {
    const id = `WorkspaceId = ${quote(f.workspace.id)}`;
    parts.push(f.workspace.isDefault ? `(${id} OR WorkspaceId IS NULL)` : id);
  }
  if (f.missionId) parts.push(`MissionId = ${quote(f.missionId)}`);
  if (f.missionIds) parts.push(f.missionIds.length ? `MissionId IN (${f.missionIds.map(quote).join(', ')})` : `MissionId = 'none'`);
  if (f.containerId) parts.push(`ContainerId = ${quote(f.containerId)}`);
  if (f.trigger) parts.push(`MissionTrigger = ${quote(f.trigger)}`);
  if (f.status && OPEN_STATUSES.includes(f.status)) {
    parts.push(`MissionStatus = ${quote(f.status)}`, `ExecutionStatus = 'Running'`);
  } else if (f.status === 'Completed') parts.push(`ExecutionStatus = 'Completed'`);
  else if (f.status === 'Failed') parts.push(`ExecutionStatus IN ('Failed', 'TimedOut')`);
  else if (f.status === 'Cancelled') parts.push(`ExecutionStatus IN ('Canceled', 'Terminated')`);
  // Visibility keeps start times to the microsecond and we page by the millisecond:
  // `< t` and `>= t + 1 ms` take whole milliseconds, so no run falls between two pages.
  if (f.from) parts.push(`StartTime >= ${iso(f.from.getTime())}`);
  if (f.until) parts.push(`StartTime < ${iso(f.until.getTime())}`);
  if (f.before) parts.push(`StartTime < ${iso(f.before.getTime())}`);
  if (f.after) parts.push(`StartTime >= ${iso(f.after.getTime() + 1)}`);
  return parts.join(' AND ');
}

function effectiveStatus(info: Omit<WorkflowExecutionInfo, 'raw'>): MissionStatus {
  switch (info.status.name) {
    case 'COMPLETED':
      return 'Completed';
    case 'FAILED':
    case 'TIMED_OUT':
      return 'Failed';
    case 'CANCELLED':
    case 'TERMINATED':
      return 'Cancelled';
    default: {
      const sa = info.typedSearchAttributes.get(missionStatusKey);
      return sa && (MISSION_STATUSES as readonly string[]).includes(sa) ? (sa as MissionStatus) : 'Running';
    }
  }
}

export function summarise(info: Omit<WorkflowExecutionInfo, 'raw'>): RunSummary {
  const memo = (info.memo ?? {}) as { missionName?: string; priority?: string; taskCount?: unknown };
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    missionId: info.typedSearchAttributes.get(missionIdKey) ?? '',
    missionName: memo.missionName ?? info.workflowId,
    containerId: info.typedSearchAttributes.get(containerIdKey) ?? '',
    workspaceId: info.typedSearchAttributes.get(workspaceIdKey) ?? null,
    status: effectiveStatus(info),
    trigger: (info.typedSearchAttributes.get(missionTriggerKey) as MissionTrigger | undefined) ?? null,
    priority: memo.priority ?? null,
    taskCount: typeof memo.taskCount === 'number' && Number.isInteger(memo.taskCount) && memo.taskCount >= 0 ? memo.taskCount : null,
    startTime: info.startTime,
    closeTime: info.closeTime ?? null,
  };
}

export type RunOrder = 'newest' | 'oldest';
export interface RunPage {
  runs: RunSummary[];
  /** The cursor of the next page (`before` newest first, `after` oldest first), or null on the last. */
  next: string | null;
}

const startMs = (r: RunSummary) => r.startTime.getTime();
const newestFirst = (a: RunSummary, b: RunSummary) => startMs(b) - startMs(a) || (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0);

/**
 * One page of runs in start order. SQL visibility (the dev server's SQLite,
 * and PostgreSQL in production) refuses ORDER BY and lists open runs first,
 * newest start first, then closed runs by close time, latest first
 * (Temporal's default_idx); so the order is made here. A page never splits
 * the runs of one millisecond: it may hold a few more than `limit`.
 */
export async function listRuns(temporal: TemporalHandle, f: RunFilter, limit: number, order: RunOrder = 'newest'): Promise<RunPage> {
  const { runs, complete } = await (order === 'newest' ? newestRuns : oldestRuns)(temporal, f, limit + 1);
  const page = runs.slice(0, limit);
  while (page.length && page.length < runs.length && startMs(runs[page.length]!) === startMs(page.at(-1)!)) page.push(runs[page.length]!);
  const more = page.length < runs.length || !complete;
  return { runs: page, next: more && page.length ? page.at(-1)!.startTime.toISOString() : null };
}

async function scan(temporal: TemporalHandle, query: string, pageSize: number, take: (run: RunSummary) => boolean): Promise<boolean> {
  try {
    for await (const info of temporal.client.workflow.list({ query, pageSize })) if (!take(summarise(info))) return false;
  } catch (err) {
    throw unavailable(err);
  }
  return true;
}

/**
 * The newest `want` runs (and every run of the same millisecond as the last), newest first; `complete`
 * when no other run matches. Open runs come newest first, so `want` of them (and that millisecond)
 * suffice; closed runs come by close time, and a run closed at t started at or before t, so the scan
 * stops once `want` runs started after the close time it has reached.
 */
async function newestRuns(temporal: TemporalHandle, f: RunFilter, want: number): Promise<{ runs: RunSummary[]; complete: boolean }> {
  const pageSize = Math.min(1000, want + 1); // a page usually holds what is needed, and one more to know it
  const open: RunSummary[] = [];
  const closed: RunSummary[] = [];
  const scanOpen = !f.status || OPEN_STATUSES.includes(f.status);
  const scanClosed = !f.status || !OPEN_STATUSES.includes(f.status);
  // Both at once: open runs still arriving only make the closed scan's stop come later, never wrongly.
  const [openDone, closedDone] = await Promise.all([
    !scanOpen || scan(temporal, `${runQuery(f)} AND ExecutionStatus = 'Running'`, pageSize, (run) => {
      if (open.length >= want && startMs(run) < startMs(open.at(-1)!)) return false;
      open.push(run);
      return true;
    }),
    !scanClosed || scan(temporal, `${runQuery(f)} AND ExecutionStatus != 'Running'`, pageSize, (run) => {
      closed.push(run);
      if (closed.length % Math.min(25, want) !== 0) return true; // check now and then: sorting on every run would cost more
      const kth = [...open, ...closed].sort(newestFirst)[want - 1];
      return !kth || startMs(kth) <= run.closeTime!.getTime();
    }),
  ]);
  // Runs seen twice (one that closed while listed) count once.
  const runs = [...new Map([...open, ...closed].map((r) => [r.runId, r])).values()].sort(newestFirst);
  return { runs, complete: openDone && closedDone };
}

const FLOOR_MS = Date.UTC(2000, 0, 1);

/**
 * The oldest `want` runs, oldest first. Nothing in visibility's order helps here, so a start-time
 * window is narrowed by counting until it holds between `want` and 4 × `want` runs, then listed whole.
 */
async function oldestRuns(temporal: TemporalHandle, f: RunFilter, want: number): Promise<{ runs: RunSummary[]; complete: boolean }> {
  const count = (g: RunFilter) => countRuns(temporal, g);
  const total = await count(f);
  let window = f;
  if (total > 4 * want) {
    const bounds = [f.until, f.before].filter((d): d is Date => !!d).map((d) => d.getTime());
    let lo = Math.max(f.from?.getTime() ?? FLOOR_MS, (f.after?.getTime() ?? -Infinity) + 1);
    let hi = bounds.length ? Math.min(...bounds) : Date.now() + 86_400_000;
    // Invariant: fewer than `want` runs start before lo, at least `want` before hi.
    for (let n = total; n > 4 * want && hi - lo > 1; ) {
      const mid = Math.floor((lo + hi) / 2);
      const c = await count({ ...f, until: new Date(mid) });
      if (c >= want) [hi, n] = [mid, c];
      else lo = mid;
    }
    window = { ...f, until: new Date(hi) };
  }
  const runs = new Map<string, RunSummary>();
  await scan(temporal, runQuery(window), 1000, (run) => !!runs.set(run.runId, run));
  const sorted = [...runs.values()].sort((a, b) => newestFirst(b, a));
  return { runs: sorted, complete: window === f || sorted.length >= total };
}

/** A mission's runs that have not ended, whatever their MissionStatus (one visibility call). */
export async function openRuns(temporal: TemporalHandle, missionId: string, limit = 200, ws?: RunWorkspace): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  const query = `${runQuery({ missionId, workspace: ws })} AND ExecutionStatus = 'Running'`;
  await scan(temporal, query, limit, (run) => runs.push(run) < limit);
  return runs;
}

export async function countRuns(temporal: TemporalHandle, f: RunFilter): Promise<number> {
  try {
    return (await temporal.client.workflow.count(runQuery(f))).count;
  } catch (err) {
    throw unavailable(err);
  }
}

/** Runs matching the filter (its status aside), grouped by Temporal's execution status. */
export async function countRunsByExecutionStatus(temporal: TemporalHandle, f: RunFilter): Promise<Record<string, number>> {
  try {
    const { groups } = await temporal.client.workflow.count(`${runQuery({ ...f, status: undefined })} GROUP BY ExecutionStatus`);
    return Object.fromEntries(groups.map((g) => [String(g.groupValues[0]), g.count]));
  } catch (err) {
    throw unavailable(err);
  }
}

// The schedules page's data. Each schedule is described on a deadline of its own,
// so one slow describe never holds the others; its recent runs are what Temporal's
// schedule started (its own times, the CLI's trigger, backfills) and what "run now"
// started (the app's own start, recorded in the audit log), each with its status
// from ONE visibility call for the whole page, itself on a deadline.
import type { Sql } from '../../db/sql';
import { missionScheduleId, type MissionStatus } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { BOARD_COLUMNS } from '../board/board';
import type { Mission } from '../missions/missions';
import { runQuery, summarise } from '../runs/visibility';
import { DeadlineError, within } from './deadline';
import { describeSchedule, type DescribeFn, type ScheduleView } from './schedules';

/** A schedule's describe gets this long on the page (the dev server sometimes takes 5 s). */
export const ROW_TIMEOUT_MS = 1500;
/** The statuses of the page's recent runs get this long, after the describes. */
export const STATUS_TIMEOUT_MS = 1000;
export const RECENT_RUNS = 5;

export const STATUS_TEXT = Object.fromEntries(BOARD_COLUMNS.map((c) => [c.status, c.label])) as Record<MissionStatus, string>;

export interface RecentRun {
  workflowId: string;
  startedAt: Date;
  /** The time the schedule meant it for, when that is not when it started (a backfill, a catch-up). */
  scheduledFor: Date | null;
  source: 'schedule' | 'run now';
  status: MissionStatus | null;
  /** The status in words, or why it is not known. */
  statusText: string;
}

export interface ScheduleOverview {
  missionId: string;
  view: ScheduleView | null;
  /** Temporal did not describe it within the deadline: the page shows a placeholder. */
  timedOut: boolean;
  /** Why Temporal could not describe it (a deadline aside). */
  error: unknown;
  recentRuns: RecentRun[];
}

export interface OverviewOptions {
  timeoutMs?: number;
  statusTimeoutMs?: number;
  describe?: DescribeFn;
}

const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const LATE_MS = 60_000;

/** The latest run-now starts of each schedule, from their audit entries. */
async function runNowStarts(sql: Sql, missionIds: string[], ws?: WorkspaceRef): Promise<Map<string, { workflowId: string; at: Date }[]>> {
  const out = new Map<string, { workflowId: string; at: Date }[]>();
  if (!missionIds.length) return out;
  const rows = await sql<{ missionId: string; workflowId: string | null; at: Date }[]>`
    select details->>'missionId' as "missionId", details->>'workflowId' as "workflowId", at
    from (
      select details, at, row_number() over (partition by entity_id order by id desc) as n
      from audit_log
      where entity_type = 'schedule' and action = 'schedule.run_now' and entity_id in ${sql(missionIds.map(missionScheduleId))}
        and workspace_id = ${workspaceIdOf(sql, ws)}
    ) latest
    where n <= ${RECENT_RUNS}`;
  for (const r of rows) {
    if (!r.workflowId) continue;
    out.set(r.missionId, [...(out.get(r.missionId) ?? []), { workflowId: r.workflowId, at: r.at }]);
  }
  return out;
}

/** The status of each run, from one visibility call; null when that call failed or was too slow. */
async function statusesOf(temporal: TemporalHandle, workflowIds: string[], timeoutMs: number): Promise<Map<string, MissionStatus> | null> {
  const found = new Map<string, MissionStatus>();
  if (!workflowIds.length) return found;
  const query = `${runQuery({})} AND WorkflowId IN (${workflowIds.map(quote).join(', ')})`;
  try {
    await within(timeoutMs, 'list the recent runs', (signal) => temporal.connection.withAbortSignal(signal, async () => {
      // Newest run first: for an id with several runs (continued as new, or started again), the latest counts.
      for await (const info of temporal.client.workflow.list({ query, pageSize: Math.min(1000, workflowIds.length * 2) })) {
        if (!found.has(info.workflowId)) found.set(info.workflowId, summarise(info).status);
        if (found.size >= workflowIds.length) break;
      }
    }));
    return found;
  } catch {
    return null;
  }
}

/** Every mission's schedule (the missions of `ws`), each on its own deadline, with its recent runs and their statuses. */
export async function loadScheduleOverviews(
  sql: Sql, temporal: TemporalHandle, missions: Pick<Mission, 'id' | 'name' | 'schedule'>[], opts: OverviewOptions = {}, ws?: WorkspaceRef,
): Promise<ScheduleOverview[]> {
  const timeoutMs = opts.timeoutMs ?? ROW_TIMEOUT_MS;
  const [described, runNow] = await Promise.all([
    Promise.all(missions.map((m) => describeSchedule(temporal, m, { timeoutMs, describe: opts.describe }).then(
      (view) => ({ view, error: null as unknown }),
      (error: unknown) => ({ view: null, error }),
    ))),
    runNowStarts(sql, missions.map((m) => m.id), ws),
  ]);
  const recent = missions.map((m, i) => {
    const view = described[i]!.view;
    if (!view) return [];
    const fromSchedule = view.recentRuns.map((r) => ({
      workflowId: r.workflowId, startedAt: r.takenAt, source: 'schedule' as const,
      scheduledFor: Math.abs(r.takenAt.getTime() - r.scheduledAt.getTime()) > LATE_MS ? r.scheduledAt : null,
    }));
    const fromRunNow = (runNow.get(m.id) ?? []).map((r) => ({ workflowId: r.workflowId, startedAt: r.at, source: 'run now' as const, scheduledFor: null }));
    return [...fromSchedule, ...fromRunNow].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime()).slice(0, RECENT_RUNS);
  });
  const statuses = await statusesOf(temporal, [...new Set(recent.flat().map((r) => r.workflowId))], opts.statusTimeoutMs ?? STATUS_TIMEOUT_MS);
  return missions.map((m, i) => {
    const { view, error } = described[i]!;
    const timedOut = error instanceof DeadlineError;
    const recentRuns = recent[i]!.map((r) => {
      const status = statuses?.get(r.workflowId) ?? null;
      const statusText = status ? STATUS_TEXT[status] : statuses ? 'Not listed yet' : 'Status unavailable';
      return { ...r, status, statusText };
    });
    return { missionId: m.id, view, timedOut, error: timedOut ? null : error, recentRuns };
  });
}

// The board: runs in columns by status (from Temporal), draft missions and the
// task board's work items (from PostgreSQL) in the columns they share with runs,
// counts and filters; and the activity feed beside it.
import type { Sql } from '../../db/sql';
import type { MissionStatus, MissionTrigger } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import { listAlerts } from '../alerts/alerts';
import { listAudit, type AuditRow } from '../audit/audit-log';
import { workspaceIdOf } from '../access/users';
import { countRuns, countRunsByExecutionStatus, listRuns, type RunFilter, type RunSummary, type RunWorkspace } from '../runs/visibility';
import { listMissions, type Mission } from '../missions/missions';
import { LiveCache } from '../events/live-cache';
import { loadScheduledMissions, type ScheduledMission } from './get-started';
import { loadProgress, type BoardCard } from './progress';
import { boardWorkItems, type WorkItem } from './work-items';
import type { WorkColumn } from './work-item-schemas';

/**
 * Each column's name, what it says while it is empty (what lands there, and how), and the work items' column
 * it shows too: one board, on which a work item in DOING sits with the running runs, and so on.
 */
export const BOARD_COLUMNS: { status: MissionStatus; label: string; empty: string; work?: WorkColumn }[] = [
  { status: 'Running', label: 'Running', work: 'DOING', empty: 'Nothing is running. A run shows here as soon as it starts; so does a work item moved to DOING.' },
  { status: 'Paused', label: 'Paused', empty: 'No paused runs. A run an operator pauses waits here until it is resumed.' },
  { status: 'NeedsApproval', label: 'Needs approval', work: 'NEEDS_APPROVAL', empty: 'Nothing waits for a decision. A task with an approval gate stops here until an admin decides.' },
  { status: 'Completed', label: 'Completed', work: 'DONE', empty: 'No completed runs yet. An admin sets a work item DONE; it lands here too.' },
  { status: 'Failed', label: 'Failed', empty: 'No failed runs.' },
  { status: 'Cancelled', label: 'Cancelled', empty: 'No cancelled runs.' },
];

export interface BoardFilters {
  containerId?: string;
  priority?: string;
  trigger?: MissionTrigger;
  q?: string;
}

export interface Board {
  drafts: { items: Mission[]; total: number };
  /** Work items in BACKLOG, shown with the draft missions. */
  backlog: { items: WorkItem[]; total: number };
  /** `count` counts runs and work items. */
  columns: { status: MissionStatus; label: string; empty: string; runs: BoardCard[]; items: WorkItem[]; count: number }[];
  filters: BoardFilters;
  /** On an unfiltered board with no run and no draft: the scheduled missions a new user can start from. */
  start: { schedules: ScheduledMission[]; total: number } | null;
}

const PER_COLUMN = 12;
/** How long a loaded board serves every viewer with the same filters, unless an event drops it first. */
const BOARD_TTL_MS = 1000;

const CLOSED: Record<string, MissionStatus> = { Completed: 'Completed', Failed: 'Failed', TimedOut: 'Failed', Canceled: 'Cancelled', Terminated: 'Cancelled' };

async function columnCounts(temporal: TemporalHandle, base: RunFilter): Promise<Record<MissionStatus, number>> {
  // Open runs by MissionStatus (one count each); closed runs in one count grouped by execution status.
  const [running, paused, waiting, closed] = await Promise.all([
    countRuns(temporal, { ...base, status: 'Running' }),
    countRuns(temporal, { ...base, status: 'Paused' }),
    countRuns(temporal, { ...base, status: 'NeedsApproval' }),
    countRunsByExecutionStatus(temporal, base),
  ]);
  const counts: Record<MissionStatus, number> = { Running: running, Paused: paused, NeedsApproval: waiting, Completed: 0, Failed: 0, Cancelled: 0 };
  for (const [status, n] of Object.entries(closed)) if (CLOSED[status]) counts[CLOSED[status]] += n;
  return counts;
}

async function loadBoardNow(sql: Sql, temporal: TemporalHandle, filters: BoardFilters, ws?: RunWorkspace): Promise<Board> {
  const narrowed = !!(filters.priority || filters.q);
  const missionIds = narrowed
    ? (await sql<{ id: string }[]>`
        select id from missions where workspace_id = ${workspaceIdOf(sql, ws)}
          ${filters.priority ? sql`and priority = ${filters.priority}` : sql``}
          ${filters.q ? sql`and name ilike ${'%' + filters.q.replace(/[%_\\]/g, '\\$&') + '%'}` : sql``}
          ${filters.containerId ? sql`and container_id = ${filters.containerId}` : sql``}
        limit 500`).map((r) => r.id)
    : undefined;
  const base: RunFilter = { workspace: ws, containerId: filters.containerId, trigger: filters.trigger, missionIds };
  // Work items have no container and no trigger: a board narrowed by either shows none.
  const noItems = { BACKLOG: { items: [], count: 0 }, DOING: { items: [], count: 0 }, NEEDS_APPROVAL: { items: [], count: 0 }, DONE: { items: [], count: 0 } };
  const [drafts, work, count, ...lists] = await Promise.all([
    filters.trigger ? Promise.resolve({ items: [], total: 0 }) : listMissions(sql, { status: 'draft', containerId: filters.containerId, priority: filters.priority, q: filters.q, limit: PER_COLUMN, offset: 0 }, ws),
    filters.trigger || filters.containerId ? Promise.resolve(noItems) : boardWorkItems(sql, { q: filters.q, priority: filters.priority }, PER_COLUMN, ws),
    columnCounts(temporal, base),
    ...BOARD_COLUMNS.map((col) => listRuns(temporal, { ...base, status: col.status }, PER_COLUMN)),
  ]);
  // A column that shows fewer cards than it could holds them all: its count is what it shows (counts and
  // lists are separate visibility calls, a few milliseconds apart), and no column counts fewer than it shows.
  const counted = (runs: RunSummary[], n: number) => (runs.length < PER_COLUMN ? runs.length : Math.max(n, runs.length));
  const columns = BOARD_COLUMNS.map((col, i) => {
    const items = col.work ? work[col.work] : { items: [], count: 0 };
    return { ...col, runs: lists[i]!.runs, items: items.items, count: counted(lists[i]!.runs, count[col.status]) + items.count };
  });
  const backlog = { items: work.BACKLOG.items, total: work.BACKLOG.count };
  const filtered = Object.values(filters).some((v) => v !== undefined && v !== '');
  const empty = drafts.total === 0 && backlog.total === 0 && columns.every((c) => c.count === 0);
  // Every card's progress in one read of PostgreSQL, shared (as the rest of the board) by every viewer.
  const [progress, schedules] = await Promise.all([
    loadProgress(sql, columns.flatMap((c) => c.runs)),
    empty && !filtered ? loadScheduledMissions(sql, ws) : Promise.resolve(null),
  ]);
  return {
    drafts,
    backlog,
    columns: columns.map((c) => ({ ...c, runs: c.runs.map((r) => ({ ...r, progress: progress.get(r.workflowId)! })) })),
    filters,
    start: schedules ? { schedules: schedules.items, total: schedules.total } : null,
  };
}

export interface BoardLoader {
  /** One workspace's board (`fresh` loads anew, `'in-flight'` joins a load in flight; either is shared from then on). */
  (filters: BoardFilters, opts?: { fresh?: boolean | 'in-flight' }, ws?: RunWorkspace): Promise<Board>;
  /** Drops every loaded board (an event said runs or missions changed). */
  invalidate(): void;
}

/**
 * Loads boards through a shared cache: viewers of one workspace with the same filters share one load (in flight or done),
 * so Temporal's visibility calls stay flat however many boards are open. A board's counts and lists come
 * from the same load, so they agree; events drop the cache, and the TTL bounds what an event could miss.
 */
export function createBoardLoader(sql: Sql, temporal: TemporalHandle, opts: { ttlMs?: number } = {}): BoardLoader {
  const boards = new LiveCache<Board>(opts.ttlMs ?? BOARD_TTL_MS, 200);
  // The workspace is in the key: a board is never served to another workspace's viewers.
  const loader = (filters: BoardFilters, o: { fresh?: boolean | 'in-flight' } = {}, ws?: RunWorkspace) =>
    boards.get(`${ws?.id ?? ''}|${JSON.stringify(filters)}`, () => loadBoard(sql, temporal, filters, ws), o);
  return Object.assign(loader, { invalidate: () => boards.clear() });
}

/** One board, loaded now (no cache): one workspace's runs and missions (every run, and the default workspace's missions, when none is named). */
export function loadBoard(sql: Sql, temporal: TemporalHandle, filters: BoardFilters, ws?: RunWorkspace): Promise<Board> {
  return loadBoardNow(sql, temporal, filters, ws);
}

export interface FeedItem {
  at: Date;
  actor: string;
  action: string;
  text: string;
  href: string | null;
  alert: boolean;
}

/**
 * What each action reads as: `named` (the name in place of {}) when the feed knows the name of the
 * mission or pattern it was done to, `text` otherwise; a decision or a send adds its task and mission.
 */
const ACTIONS: Record<string, { text: string; named?: string }> = {
  'mission.executed': { text: 'started a run', named: 'started a run of {}' },
  'run.paused': { text: 'paused a run', named: 'paused a run of {}' },
  'run.resumed': { text: 'resumed a run', named: 'resumed a run of {}' },
  'run.cancel_requested': { text: 'cancelled a run', named: 'cancelled a run of {}' },
  'run.cancelled': { text: 'run cancelled', named: 'run of {} cancelled' },
  'run.failed': { text: 'run failed', named: 'run of {} failed' },
  'approval.approved': { text: 'approved' },
  'approval.approved_with_notes': { text: 'approved with notes' },
  'approval.edited_and_approved': { text: 'edited and approved' },
  'approval.changes_requested': { text: 'requested changes' },
  'approval.rejected': { text: 'rejected' },
  'approval.refused': { text: 'decision refused' },
  'outbound.would_send': { text: 'would send (dry run)' },
  'outbound.sent': { text: 'sent' },
  'outbound.blocked': { text: 'send blocked' },
  'pattern.created': { text: 'created a pattern', named: 'created pattern {}' },
  'pattern.updated': { text: 'changed a pattern', named: 'changed pattern {}' },
  'mission.created': { text: 'created a mission', named: 'created mission {}' },
  'safety.dry_run.toggled': { text: 'toggled dry-run' },
  'safety.channel_toggled': { text: 'toggled a channel' },
  'schedule.paused': { text: 'paused a schedule', named: 'paused the schedule of {}' },
  'schedule.unpaused': { text: 'unpaused a schedule', named: 'unpaused the schedule of {}' },
  'schedule.run_now': { text: 'ran a schedule now', named: 'ran the schedule of {} now' },
  'schedule.triggered': { text: 'triggered a schedule', named: 'triggered the schedule of {}' },
  'safety.global_pause.enabled': { text: 'paused the whole workspace (global pause)' },
  'safety.global_pause.disabled': { text: 'ended the global pause' },
  'lead.score.overridden': { text: "overrode a lead's score" },
  'draft.submitted': { text: 'submitted a draft for approval' },
  'work_item.created': { text: 'created a work item', named: 'created work item {}' },
  'work_item.moved': { text: 'moved a work item', named: 'moved work item {}' },
};

function hrefOf(e: AuditRow): string | null {
  if (e.entityType === 'run' && e.entityId) return `/runs/${encodeURIComponent(e.entityId)}`;
  if (e.entityType === 'mission' && e.entityId) {
    const wf = (e.details as { workflowId?: string }).workflowId;
    return wf ? `/runs/${encodeURIComponent(wf)}` : `/missions/${e.entityId}`;
  }
  if (e.entityType === 'pattern' && e.entityId) return `/patterns/${e.entityId}`;
  if (e.entityType === 'work_item' && e.entityId) return `/work-items/${e.entityId}`;
  return null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The mission an entry is about: the mission itself, a schedule's mission, or the mission of a run (mission-<missionId>-<suffix>). */
function missionIdOf(e: AuditRow): string | null {
  const d = e.details as { missionId?: unknown };
  const id = e.entityType === 'mission' ? e.entityId
    : typeof d.missionId === 'string' ? d.missionId
      : e.entityType === 'run' ? /^mission-([0-9a-f-]{36})-/.exec(e.entityId ?? '')?.[1] ?? null : null;
  return id && UUID.test(id) ? id : null;
}

/** How many entries the board's feed shows. */
export const FEED_LIMIT = 15;

/** A workspace's recent events worth a glance, and open alerts first; each names the mission or pattern it is about. */
export async function loadFeed(sql: Sql, limit = FEED_LIMIT, ws?: { id: string }): Promise<{ alerts: { id: string; message: string; at: Date; workflowId: string | null }[]; items: FeedItem[] }> {
  const [alerts, entries] = await Promise.all([
    listAlerts(sql, { open: true, limit: 5 }, ws).then((rows) => rows.map((a) => ({ id: a.id, message: a.message, at: a.createdAt, workflowId: a.workflowId }))),
    listAudit(sql, { limit: limit * 2 }, ws),
  ]);
  const shown = entries.filter((e) => ACTIONS[e.action]).slice(0, limit);
  // Today's names, one query for the whole feed; an entry's own record of a name (a mission since deleted) fills the gaps.
  const ids = [...new Set(shown.map(missionIdOf).filter((id): id is string => !!id))];
  const missions = new Map(ids.length ? (await sql<{ id: string; name: string }[]>`select id, name from missions where id in ${sql(ids)} and workspace_id = ${workspaceIdOf(sql, ws)}`).map((m) => [m.id, m.name]) : []);
  const items = shown.map((e) => {
    const d = e.details as { name?: unknown; title?: unknown; taskName?: unknown; channel?: unknown; to?: unknown };
    const missionId = missionIdOf(e);
    const recorded = (e.entityType === 'mission' || e.entityType === 'pattern') && typeof d.name === 'string' ? d.name
      : e.entityType === 'work_item' && typeof d.title === 'string' ? d.title : null;
    const name = (missionId ? missions.get(missionId) : undefined) ?? recorded;
    const action = ACTIONS[e.action]!;
    const head = name && action.named ? action.named.replace('{}', () => `“${name}”`) : action.text;
    const task = !action.named && typeof d.taskName === 'string' ? ` “${d.taskName}”` : '';
    const where = name && !action.named ? ` in “${name}”` : '';
    return {
      at: e.at, actor: e.actor, action: e.action, alert: false, href: hrefOf(e),
      text: `${head}${task}${where}${typeof d.channel === 'string' ? ` via ${d.channel}` : ''}${e.action === 'work_item.moved' && typeof d.to === 'string' ? ` to ${d.to}` : ''}`,
    };
  });
  return { alerts, items };
}

// The board: runs in columns by status (from Temporal), draft missions (from
// PostgreSQL), counts and filters; and the activity feed beside it.
import type { Sql } from '../db/sql';
import type { MissionStatus, MissionTrigger } from '../lib/names';
import type { TemporalHandle } from '../lib/temporal';
import { listAlerts } from './alerts';
import { listAudit, type AuditRow } from './audit';
import { countRuns, listRuns, type RunFilter, type RunSummary } from './mission-runs';
import { listMissions, type Mission } from './missions';

export const BOARD_COLUMNS: { status: MissionStatus; label: string }[] = [
  { status: 'Running', label: 'Running' },
  { status: 'Paused', label: 'Paused' },
  { status: 'NeedsApproval', label: 'Needs approval' },
  { status: 'Completed', label: 'Completed' },
  { status: 'Failed', label: 'Failed' },
  { status: 'Cancelled', label: 'Cancelled' },
];

export interface BoardFilters {
  containerId?: string;
  priority?: string;
  trigger?: MissionTrigger;
  q?: string;
}

export interface Board {
  drafts: { items: Mission[]; total: number };
  columns: { status: MissionStatus; label: string; runs: RunSummary[]; count: number }[];
  filters: BoardFilters;
}

const PER_COLUMN = 12;

export async function loadBoard(sql: Sql, temporal: TemporalHandle, filters: BoardFilters): Promise<Board> {
  const narrowed = !!(filters.priority || filters.q);
  const missionIds = narrowed
    ? (await sql<{ id: string }[]>`
        select id from missions where true
          ${filters.priority ? sql`and priority = ${filters.priority}` : sql``}
          ${filters.q ? sql`and name ilike ${'%' + filters.q.replace(/[%_\\]/g, '\\$&') + '%'}` : sql``}
          ${filters.containerId ? sql`and container_id = ${filters.containerId}` : sql``}
        limit 500`).map((r) => r.id)
    : undefined;
  const base: RunFilter = { containerId: filters.containerId, trigger: filters.trigger, missionIds };
  const [drafts, ...columns] = await Promise.all([
    filters.trigger ? Promise.resolve({ items: [], total: 0 }) : listMissions(sql, { status: 'draft', containerId: filters.containerId, priority: filters.priority, q: filters.q, limit: PER_COLUMN, offset: 0 }),
    ...BOARD_COLUMNS.map(async (col) => {
      const f = { ...base, status: col.status };
      const [{ runs }, count] = await Promise.all([listRuns(temporal, f, PER_COLUMN), countRuns(temporal, f)]);
      return { ...col, runs, count };
    }),
  ]);
  return { drafts, columns, filters };
}

export interface FeedItem {
  at: Date;
  actor: string;
  action: string;
  text: string;
  href: string | null;
  alert: boolean;
}

const ACTIONS: Record<string, string> = {
  'mission.executed': 'started a run',
  'run.paused': 'paused a run',
  'run.resumed': 'resumed a run',
  'run.cancel_requested': 'cancelled a run',
  'run.cancelled': 'run cancelled',
  'run.failed': 'run failed',
  'approval.approved': 'approved',
  'approval.approved_with_notes': 'approved with notes',
  'approval.edited_and_approved': 'edited and approved',
  'approval.changes_requested': 'requested changes',
  'approval.rejected': 'rejected',
  'approval.refused': 'decision refused',
  'outbound.would_send': 'would send (dry run)',
  'outbound.sent': 'sent',
  'outbound.blocked': 'send blocked',
  'pattern.created': 'created a pattern',
  'pattern.updated': 'changed a pattern',
  'mission.created': 'created a mission',
  'safety.dry_run.toggled': 'toggled dry-run',
  'safety.channel_toggled': 'toggled a channel',
  'schedule.paused': 'paused a schedule',
  'schedule.unpaused': 'unpaused a schedule',
  'schedule.run_now': 'ran a schedule now',
};

function hrefOf(e: AuditRow): string | null {
  if (e.entityType === 'run' && e.entityId) return `/runs/${encodeURIComponent(e.entityId)}`;
  if (e.entityType === 'mission' && e.entityId) {
    const wf = (e.details as { workflowId?: string }).workflowId;
    return wf ? `/runs/${encodeURIComponent(wf)}` : `/missions/${e.entityId}`;
  }
  if (e.entityType === 'pattern' && e.entityId) return `/patterns/${e.entityId}`;
  return null;
}

/** Recent events worth a glance, and open alerts first. */
export async function loadFeed(sql: Sql, limit = 15): Promise<{ alerts: { id: string; message: string; at: Date; workflowId: string | null }[]; items: FeedItem[] }> {
  const [alerts, entries] = await Promise.all([
    listAlerts(sql, { open: true, limit: 5 }).then((rows) => rows.map((a) => ({ id: a.id, message: a.message, at: a.createdAt, workflowId: a.workflowId }))),
    listAudit(sql, { limit: limit * 2 }),
  ]);
  const items = entries
    .filter((e) => ACTIONS[e.action])
    .slice(0, limit)
    .map((e) => ({
      at: e.at, actor: e.actor, action: e.action, alert: false, href: hrefOf(e),
      text: `${ACTIONS[e.action]}${(e.details as { taskName?: string }).taskName ? ` "${(e.details as { taskName?: string }).taskName}"` : ''}${(e.details as { channel?: string }).channel ? ` via ${(e.details as { channel?: string }).channel}` : ''}`,
    }));
  return { alerts, items };
}

// Events: every domain change as one row in seed 002's envelope
// (db/migrations/0007_events.sql). An audited change writes its event in the
// statement that appends the audit entry (core/audit/audit-log.ts), so both
// commit or neither does; changes that are not audited (a task starting or
// finishing, an approval requested, an alert) write theirs with the change, keyed
// so that a retried activity records it once. Ids follow commit order without
// gaps: "the events after id N" is an exact cursor.
import type { Sql, TxSql } from '../../db/sql';
import { ValidationError } from '../../lib/errors';
import type { AuditEntry } from '../audit/audit-log';

/** One event as the API and the stream carry it. */
export interface MissionEvent {
  id: string;
  type: string;
  entityType: string;
  entityId: string | null;
  taskId?: string;
  missionId?: string;
  runId?: string;
  timestamp: string;
  actor: string;
  payload: Record<string, unknown>;
  /** The workspace the change belongs to: a reader only ever sees its own workspace's events. */
  workspaceId: string;
}

/** What a writer says about a change; the database gives the id and the time. */
export interface EventInput {
  type: string;
  entityType: string;
  entityId?: string | null;
  taskId?: string | null;
  missionId?: string | null;
  runId?: string | null;
  actor: string;
  payload?: Record<string, unknown>;
  /** Writers that may retry pass one: the event is recorded once. */
  key?: string;
  /** The workspace the change belongs to; omitted → the default workspace (mc_default_workspace()). */
  workspaceId?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuidOrNull = (v: unknown): string | null => (typeof v === 'string' && UUID.test(v) ? v : null);
const stringOrNull = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/** Audit actions that are about access, not the domain: they stay in the audit log only. */
const NOT_EVENTS = ['auth.', 'user.', 'token.'];

/**
 * The event an audit entry stands for, or null. Names follow seed 002 where it has them: a run a schedule
 * started begins and ends as `scheduler.job.started|completed|failed`; every other run as `run.*`.
 */
export function eventOfAudit(e: AuditEntry): EventInput | null {
  if (NOT_EVENTS.some((p) => e.action.startsWith(p))) return null;
  const d = e.details ?? {};
  const base = { actor: e.actor.name, payload: d, taskId: stringOrNull(d.taskId), ...(e.workspaceId ? { workspaceId: e.workspaceId } : {}) };
  if (e.action === 'mission.executed') {
    const runId = stringOrNull(d.workflowId);
    return { ...base, type: d.trigger === 'scheduled' ? 'scheduler.job.started' : 'run.started', entityType: 'run', entityId: runId, runId, missionId: uuidOrNull(e.entityId) };
  }
  if (e.entityType === 'run') {
    const scheduled = d.trigger === 'scheduled';
    const type = scheduled && e.action === 'run.completed' ? 'scheduler.job.completed' : scheduled && e.action === 'run.failed' ? 'scheduler.job.failed' : e.action;
    return { ...base, type, entityType: 'run', entityId: e.entityId ?? null, runId: e.entityId ?? null, missionId: uuidOrNull(d.missionId) };
  }
  const missionId = e.entityType === 'mission' ? uuidOrNull(e.entityId) : uuidOrNull(d.missionId);
  return { ...base, type: e.action, entityType: e.entityType, entityId: e.entityId ?? null, missionId, runId: stringOrNull(d.workflowId) };
}

/** The columns of one event, for an insert (or a CTE that inserts it with something else). */
export function eventValues(sql: TxSql, e: EventInput) {
  return sql`
    ${e.type}, ${e.entityType}, ${e.entityId ?? null}, ${e.taskId ?? null}, ${e.missionId ?? null}, ${e.runId ?? null},
    ${e.actor}, ${sql.json((e.payload ?? {}) as never)}, ${e.key ?? null},
    ${e.workspaceId ? sql`${e.workspaceId}::uuid` : sql`mc_default_workspace()`}`;
}

export const EVENT_COLUMNS = 'type, entity_type, entity_id, task_id, mission_id, run_id, actor, payload, idempotency_key, workspace_id';

/** Appends an event with the change it describes (pass the change's transaction); false when its key was seen. */
export async function appendEvent(sql: TxSql, e: EventInput): Promise<boolean> {
  const rows = await sql`
    insert into events (${sql.unsafe(EVENT_COLUMNS)}) values (${eventValues(sql, e)})
    on conflict (idempotency_key) do nothing
    returning 1`;
  return rows.length > 0;
}

export interface EventFilter {
  /** Events after this id (the cursor: the id of the last event seen). */
  after?: number;
  /** Events at or after this time. */
  since?: Date;
  /** A type or a prefix of types: `run.` matches run.started, run.paused, … */
  type?: string;
  entityType?: string;
  entityId?: string;
  missionId?: string;
  runId?: string;
  /** Only this workspace's events (the routes and the stream's subscribers always set it; the stream's own reader does not). */
  workspaceId?: string;
}

interface EventRow {
  id: string;
  type: string;
  entityType: string;
  entityId: string | null;
  taskId: string | null;
  missionId: string | null;
  runId: string | null;
  at: Date;
  actor: string;
  payload: Record<string, unknown>;
  workspaceId: string;
}

function envelope(r: EventRow): MissionEvent {
  return {
    id: r.id, type: r.type, entityType: r.entityType, entityId: r.entityId,
    ...(r.taskId ? { taskId: r.taskId } : {}), ...(r.missionId ? { missionId: r.missionId } : {}), ...(r.runId ? { runId: r.runId } : {}),
    timestamp: r.at.toISOString(), actor: r.actor, payload: r.payload, workspaceId: r.workspaceId,
  };
}

const likePrefix = (s: string) => `${s.replace(/[%_\\]/g, '\\$&')}%`;

/** Events in order (oldest first) after a cursor, filtered: every workspace's unless the filter names one. */
export async function listEvents(sql: Sql, f: EventFilter, limit: number): Promise<MissionEvent[]> {
  const rows = await sql<EventRow[]>`
    select id::text as id, type, entity_type as "entityType", entity_id as "entityId", task_id as "taskId",
           mission_id::text as "missionId", run_id as "runId", at, actor, payload, workspace_id as "workspaceId"
    from events
    where id > ${f.after ?? 0}
      ${f.workspaceId ? sql`and workspace_id = ${f.workspaceId}` : sql``}
      ${f.since ? sql`and at >= ${f.since}` : sql``}
      ${f.type ? sql`and type like ${likePrefix(f.type)}` : sql``}
      ${f.entityType ? sql`and entity_type = ${f.entityType}` : sql``}
      ${f.entityId ? sql`and entity_id = ${f.entityId}` : sql``}
      ${f.missionId ? sql`and mission_id = ${f.missionId}` : sql``}
      ${f.runId ? sql`and run_id = ${f.runId}` : sql``}
    order by events.id
    limit ${limit}`;
  return rows.map(envelope);
}

/** The id of the newest event (0 when there is none): where a stream that wants only new events starts. */
export async function latestEventId(sql: Sql): Promise<number> {
  const [row] = await sql<{ id: string | null }[]>`select max(id)::text as id from events`;
  return Number(row?.id ?? 0);
}

/** True when an event matches a filter (the stream filters in memory what the query filters in SQL). */
export function matches(e: MissionEvent, f: EventFilter): boolean {
  return (
    (!f.workspaceId || e.workspaceId === f.workspaceId) &&
    (!f.type || e.type.startsWith(f.type)) &&
    (!f.entityType || e.entityType === f.entityType) &&
    (!f.entityId || e.entityId === f.entityId) &&
    (!f.missionId || e.missionId === f.missionId) &&
    (!f.runId || e.runId === f.runId) &&
    (!f.since || Date.parse(e.timestamp) >= f.since.getTime())
  );
}

/** A cursor as a client sends it (a Last-Event-ID header, `?after=`): an event id. */
export function parseCursor(raw: string | undefined | null): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new ValidationError('An event cursor is the id of an event (a whole number).');
  return Number(raw);
}

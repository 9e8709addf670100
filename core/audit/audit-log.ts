// The audit log: append-only, hash-chained (db/migrations/0001_init.sql), one
// chain over every entry and one per workspace (0008_workspaces.sql), so a
// workspace verifies its own entries without reading anyone else's.
// Write an entry with the same `sql` (transaction) as the change it records.
import type { TxSql } from '../../db/sql';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { EVENT_COLUMNS, eventOfAudit, eventValues } from '../events/events';

export interface Actor {
  /** User id, or null for the system itself. */
  id: string | null;
  /** Username shown in the log ('system' for the system). */
  name: string;
}

export const SYSTEM_ACTOR: Actor = { id: null, name: 'system' };

export interface AuditEntry {
  actor: Actor;
  action: string;
  entityType: string;
  entityId?: string | null;
  details?: Record<string, unknown>;
  /** Writers that may retry pass a key: an entry with the same key is recorded once. */
  idempotencyKey?: string;
  /** The workspace the change belongs to; omitted → the default workspace (the column's default). Its event goes there too. */
  workspaceId?: string;
}

export interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  actorId: string | null;
  action: string;
  entityType: string;
  entityId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
  workspaceId: string;
}

/**
 * Appends an entry, and the event it stands for (core/events/events.ts) in the same statement, so the
 * change's transaction commits both or neither; returns false when an entry with the same idempotency key exists.
 */
export async function appendAudit(sql: TxSql, e: AuditEntry): Promise<boolean> {
  const event = eventOfAudit(e);
  const rows = await sql`
    with entry as (
      insert into audit_log (actor, actor_id, action, entity_type, entity_id, details, prev_hash, hash, idempotency_key, workspace_id)
      values (${e.actor.name}, ${e.actor.id}, ${e.action}, ${e.entityType}, ${e.entityId ?? null},
              ${sql.json((e.details ?? {}) as never)}, '', '', ${e.idempotencyKey ?? null},
              ${e.workspaceId ? sql`${e.workspaceId}::uuid` : sql`mc_default_workspace()`})
      on conflict (idempotency_key) do nothing
      returning id
    )${event ? sql`, event as (
      insert into events (${sql.unsafe(EVENT_COLUMNS)}) select ${eventValues(sql, event)} from entry
    )` : sql``}
    select id from entry`;
  return rows.length > 0;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  brokenId: string | null;
  reason: string | null;
}

type VerifyRow = { ok: boolean; checked: string; broken_id: string | null; reason: string | null };
const verification = (r: VerifyRow): AuditVerification => ({ ok: r.ok, checked: Number(r.checked), brokenId: r.broken_id, reason: r.reason });

/** Walks the whole chain (every workspace) in PostgreSQL and names the first broken row: for whoever runs the instance. */
export async function verifyAuditChain(sql: TxSql): Promise<AuditVerification> {
  const [r] = await sql<VerifyRow[]>`select * from audit_verify()`;
  return verification(r!);
}

/**
 * Walks one workspace's chain: its own entries, their sequence, links and hashes. It names only a row of
 * that workspace, and nothing written elsewhere (tampering included) changes its answer.
 */
export async function verifyWorkspaceAudit(sql: TxSql, ws: WorkspaceRef): Promise<AuditVerification & { workspaceId: string }> {
  const [r] = await sql<VerifyRow[]>`select * from audit_verify_workspace(${ws.id})`;
  return { ...verification(r!), workspaceId: ws.id };
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  entityType?: string;
  entityId?: string;
  /** Return rows with id below this (keyset pagination, newest first). */
  before?: number;
  limit: number;
}

/** A workspace's entries (the default workspace's unless named), newest first. */
export async function listAudit(sql: TxSql, q: AuditQuery, ws?: WorkspaceRef): Promise<AuditRow[]> {
  const rows = await sql<AuditRow[]>`
    select id::text as "id", at, actor, actor_id as "actorId", action, entity_type as "entityType",
           entity_id as "entityId", details, prev_hash as "prevHash", hash, workspace_id as "workspaceId"
    from audit_log
    where workspace_id = ${workspaceIdOf(sql, ws)}
      ${q.actor ? sql`and actor = ${q.actor}` : sql``}
      ${q.action ? sql`and action like ${q.action.replace(/[%_\\]/g, '\\$&') + '%'}` : sql``}
      ${q.entityType ? sql`and entity_type = ${q.entityType}` : sql``}
      ${q.entityId ? sql`and entity_id = ${q.entityId}` : sql``}
      ${q.before ? sql`and audit_log.id < ${q.before}` : sql``}
    order by audit_log.id desc
    limit ${q.limit}`;
  return rows;
}

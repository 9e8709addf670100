// Alerts (seed 001): a severity, a title, a message and actions, raised by
// runs (a failure with alertOnFailure, an approval that timed out), by agents
// over their connection, and by rules on agents' metrics (core/alerts/rules.ts);
// acknowledged and resolved, each with who and when, audited with its event.
// Each belongs to a workspace: another workspace's alert is, to a caller, one
// that does not exist. The notifier tells the operators of each one raised.
import type { Sql, TxSql } from '../../db/sql';
import { NotFoundError } from '../../lib/errors';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { appendAudit, type Actor } from '../audit/audit-log';
import type { AlertAction, Severity } from './alert-schemas';

export interface Alert {
  id: string;
  missionId: string | null;
  workflowId: string | null;
  agentId: string | null;
  ruleId: string | null;
  source: 'run' | 'agent' | 'rule';
  kind: string;
  severity: Severity;
  title: string;
  message: string;
  actions: AlertAction[];
  createdAt: Date;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
}

const columns = (sql: TxSql) => sql`
  id, mission_id as "missionId", workflow_id as "workflowId", agent_id as "agentId", rule_id as "ruleId", source, kind, severity,
  coalesce(title, kind) as title, message, actions, created_at as "createdAt", acknowledged_at as "acknowledgedAt",
  acknowledged_by as "acknowledgedBy", resolved_at as "resolvedAt", resolved_by as "resolvedBy"`;

/** `open`: neither acknowledged nor resolved; `unresolved`: not resolved (acknowledged or not). */
export type AlertState = 'open' | 'unresolved' | 'resolved' | 'all';

/** A workspace's alerts (the default workspace's unless named), newest first. */
export async function listAlerts(
  sql: TxSql, q: { open?: boolean; state?: AlertState; agentId?: string; limit: number }, ws?: WorkspaceRef,
): Promise<Alert[]> {
  const state = q.state ?? (q.open ? 'open' : 'all');
  return sql<Alert[]>`
    select ${columns(sql)} from alerts
    where workspace_id = ${workspaceIdOf(sql, ws)}
      ${state === 'open' ? sql`and acknowledged_at is null and resolved_at is null` : state === 'unresolved' ? sql`and resolved_at is null`
        : state === 'resolved' ? sql`and resolved_at is not null` : sql``}
      ${q.agentId ? sql`and agent_id = ${q.agentId}` : sql``}
    order by created_at desc limit ${q.limit}`;
}

export async function getAlert(sql: TxSql, id: string, ws?: WorkspaceRef, opts: { lock?: boolean } = {}): Promise<Alert & { workspaceId: string }> {
  const [a] = await sql<(Alert & { workspaceId: string })[]>`
    select ${columns(sql)}, workspace_id as "workspaceId" from alerts where id = ${id} and workspace_id = ${workspaceIdOf(sql, ws)}
    ${opts.lock ? sql`for update` : sql``}`;
  if (!a) throw new NotFoundError('Alert');
  return a;
}

/** Acknowledges an open alert (once; acknowledging again changes nothing). */
export async function acknowledgeAlert(sql: Sql, id: string, actor: Actor, ws?: WorkspaceRef): Promise<Alert> {
  return sql.begin(async (tx) => {
    const a = await getAlert(tx, id, ws, { lock: true });
    if (a.acknowledgedAt) return a;
    await tx`update alerts set acknowledged_at = now(), acknowledged_by = ${actor.name} where id = ${id}`;
    await appendAudit(tx, {
      actor, action: 'alert.acknowledged', entityType: 'alert', entityId: id, details: { title: a.title, message: a.message }, workspaceId: a.workspaceId,
    });
    return getAlert(tx, id, ws);
  });
}

/** Resolves an alert (once; resolving again changes nothing): what it was about is over. */
export async function resolveAlert(sql: Sql, id: string, actor: Actor, ws?: WorkspaceRef, note?: string): Promise<Alert> {
  return sql.begin(async (tx) => {
    const a = await getAlert(tx, id, ws, { lock: true });
    if (a.resolvedAt) return a;
    await resolveIn(tx, a, actor, note);
    return getAlert(tx, id, ws);
  });
}

export async function resolveIn(tx: TxSql, a: Pick<Alert, 'id' | 'title'> & { workspaceId: string }, actor: Actor, note?: string): Promise<void> {
  await tx`update alerts set resolved_at = now(), resolved_by = ${actor.name} where id = ${a.id} and resolved_at is null`;
  await appendAudit(tx, {
    actor, action: 'alert.resolved', entityType: 'alert', entityId: a.id, details: { title: a.title, ...(note ? { note } : {}) }, workspaceId: a.workspaceId,
  });
}

/**
 * Raises an alert with its `alert.raised` event in one statement; `key` makes it once (a retried writer, an
 * agent posting again). Returns its id, and whether this call raised it.
 */
export async function raiseAlert(
  sql: TxSql,
  a: {
    workspaceId: string; key: string; source: Alert['source']; kind: string; severity: Severity; title: string; message: string;
    actions?: AlertAction[]; missionId?: string | null; workflowId?: string | null; agentId?: string | null; ruleId?: string | null; actor: string;
  },
): Promise<{ id: string; raised: boolean }> {
  const rows = await sql<{ id: string }[]>`
    with alert as (
      insert into alerts (idempotency_key, workspace_id, source, kind, severity, title, message, actions, mission_id, workflow_id, agent_id, rule_id)
      values (${a.key}, ${a.workspaceId}, ${a.source}, ${a.kind}, ${a.severity}, ${a.title}, ${a.message}, ${sql.json((a.actions ?? []) as never)},
              ${a.missionId ?? null}, ${a.workflowId ?? null}, ${a.agentId ?? null}, ${a.ruleId ?? null})
      on conflict do nothing returning id
    ), event as (
      insert into events (type, entity_type, entity_id, mission_id, run_id, actor, payload, workspace_id)
      select 'alert.raised', 'alert', alert.id::text, ${a.missionId ?? null}, ${a.workflowId ?? null}, ${a.actor},
             ${sql.json({ kind: a.kind, severity: a.severity, title: a.title, message: a.message, source: a.source, agentId: a.agentId ?? null })},
             ${a.workspaceId} from alert
    )
    select id::text from alert`;
  if (rows[0]) return { id: rows[0].id, raised: true };
  const [existing] = await sql<{ id: string }[]>`select id::text from alerts where idempotency_key = ${a.key}`;
  return { id: existing?.id ?? '', raised: false };
}

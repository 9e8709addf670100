// Alerts raised by runs (a failure with alertOnFailure, an approval that
// timed out), listed until someone acknowledges them. Each belongs to its run's
// workspace: another workspace's alert is, to a caller, one that does not exist.
import type { Sql, TxSql } from '../../db/sql';
import { NotFoundError } from '../../lib/errors';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { appendAudit, type Actor } from '../audit/audit-log';

export interface Alert {
  id: string;
  missionId: string | null;
  workflowId: string | null;
  kind: string;
  message: string;
  createdAt: Date;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
}

/** A workspace's alerts (the default workspace's unless named), newest first. */
export async function listAlerts(sql: TxSql, q: { open?: boolean; limit: number }, ws?: WorkspaceRef): Promise<Alert[]> {
  return sql<Alert[]>`
    select id, mission_id as "missionId", workflow_id as "workflowId", kind, message, created_at as "createdAt",
           acknowledged_at as "acknowledgedAt", acknowledged_by as "acknowledgedBy"
    from alerts
    where workspace_id = ${workspaceIdOf(sql, ws)} ${q.open ? sql`and acknowledged_at is null` : sql``}
    order by created_at desc limit ${q.limit}`;
}

/** Acknowledges an open alert (once; acknowledging again changes nothing). */
export async function acknowledgeAlert(sql: Sql, id: string, actor: Actor, ws?: WorkspaceRef): Promise<void> {
  await sql.begin(async (tx) => {
    const [row] = await tx<{ message: string; open: boolean; workspaceId: string }[]>`
      select message, acknowledged_at is null as open, workspace_id as "workspaceId"
      from alerts where id = ${id} and workspace_id = ${workspaceIdOf(tx, ws)} for update`;
    if (!row) throw new NotFoundError('Alert');
    if (!row.open) return;
    await tx`update alerts set acknowledged_at = now(), acknowledged_by = ${actor.name} where id = ${id}`;
    await appendAudit(tx, {
      actor, action: 'alert.acknowledged', entityType: 'alert', entityId: id, details: { message: row.message }, workspaceId: row.workspaceId,
    });
  });
}

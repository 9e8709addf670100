// Alerts raised by runs (a failure with alertOnFailure, an approval that
// timed out), listed until someone acknowledges them.
import type { Sql, TxSql } from '../../db/sql';
import { NotFoundError } from '../../lib/errors';
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

export async function listAlerts(sql: TxSql, q: { open?: boolean; limit: number }): Promise<Alert[]> {
  return sql<Alert[]>`
    select id, mission_id as "missionId", workflow_id as "workflowId", kind, message, created_at as "createdAt",
           acknowledged_at as "acknowledgedAt", acknowledged_by as "acknowledgedBy"
    from alerts ${q.open ? sql`where acknowledged_at is null` : sql``}
    order by created_at desc limit ${q.limit}`;
}

/** Acknowledges an open alert (once; acknowledging again changes nothing). */
export async function acknowledgeAlert(sql: Sql, id: string, actor: Actor): Promise<void> {
  await sql.begin(async (tx) => {
    const [row] = await tx<{ message: string; open: boolean }[]>`
      select message, acknowledged_at is null as open from alerts where id = ${id} for update`;
    if (!row) throw new NotFoundError('Alert');
    if (!row.open) return;
    await tx`update alerts set acknowledged_at = now(), acknowledged_by = ${actor.name} where id = ${id}`;
    await appendAudit(tx, { actor, action: 'alert.acknowledged', entityType: 'alert', entityId: id, details: { message: row.message } });
  });
}

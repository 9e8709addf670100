// Pausing, resuming and cancelling one run.
import type { TxSql } from '../../db/sql';
import { ConflictError } from '../../lib/errors';
import type { TemporalHandle } from '../../lib/temporal';
import { pauseSignal, resumeSignal } from '../../workflows/messages';
import { appendAudit, type Actor } from '../audit/audit-log';
import { describeRun, type RunDetail } from './detail';
import { unavailable } from './temporal-errors';

export async function signalRun(
  sql: TxSql,
  temporal: TemporalHandle,
  workflowId: string,
  what: 'pause' | 'resume' | 'cancel',
  actor: Actor,
  reason?: string,
): Promise<RunDetail> {
  const detail = await describeRun(temporal, workflowId);
  if (detail.summary.closeTime) throw new ConflictError(`This run has already ended (${detail.summary.status}).`);
  const handle = temporal.client.workflow.getHandle(workflowId);
  try {
    if (what === 'pause') await handle.signal(pauseSignal, { reason, actor: actor.name });
    else if (what === 'resume') await handle.signal(resumeSignal, { actor: actor.name });
    else {
      await appendAudit(sql, {
        actor, action: 'run.cancel_requested', entityType: 'run', entityId: workflowId,
        details: { missionId: detail.summary.missionId, ...(reason ? { reason } : {}) },
      });
      await handle.cancel();
    }
  } catch (err) {
    throw unavailable(err);
  }
  return detail;
}

// Pausing, resuming and cancelling one run. Pause and resume are Updates, so
// the caller learns the run's new state in the same round trip; cancelling is
// Temporal's own cancellation, audited here with who asked and why.
import { randomUUID } from 'node:crypto';
import type { TxSql } from '../../db/sql';
import { ConflictError } from '../../lib/errors';
import type { TemporalHandle } from '../../lib/temporal';
import { pauseSignal, pauseUpdate, resumeSignal, resumeUpdate, type RunState } from '../../workflows/messages';
import { appendAudit, type Actor } from '../audit/audit-log';
import { refuseWhileGloballyPaused } from '../safety/global-pause-state';
import { assertRunInWorkspace, describeRun } from './detail';
import { unavailable } from './temporal-errors';
import { executeRunUpdate, UpdateRefusedError } from './updates';
import type { RunWorkspace } from './visibility';

export async function controlRun(
  sql: TxSql,
  temporal: TemporalHandle,
  workflowId: string,
  what: 'pause' | 'resume' | 'cancel',
  actor: Actor,
  reason?: string,
  ws?: RunWorkspace,
): Promise<RunState | null> {
  if (what === 'cancel') {
    const detail = await describeRun(temporal, workflowId, { progress: false }, ws);
    if (detail.summary.closeTime) throw new ConflictError(`This run has already ended (${detail.summary.status}).`);
    await appendAudit(sql, {
      actor, action: 'run.cancel_requested', entityType: 'run', entityId: workflowId,
      details: { missionId: detail.summary.missionId, ...(reason ? { reason } : {}) }, workspaceId: ws?.id,
    });
    try {
      // Who and why travel with the request, so the run's own record of its cancellation names them.
      await temporal.client.workflowService.requestCancelWorkflowExecution({
        namespace: temporal.namespace, workflowExecution: { workflowId }, identity: `mission-control:${actor.name}`,
        reason: reason ?? '', requestId: randomUUID(),
      });
    } catch (err) {
      throw unavailable(err);
    }
    return null;
  }
  // Another workspace's run is an unknown run, and nothing reaches its history.
  if (ws) await assertRunInWorkspace(temporal, workflowId, ws);
  // While the workspace's global pause is on, no one resumes a run here: ending the pause resumes what it paused.
  if (what === 'resume' && ws) await refuseWhileGloballyPaused(sql, ws.id);
  try {
    return what === 'pause'
      ? await executeRunUpdate(temporal, workflowId, pauseUpdate, [{ reason, actor: actor.name }])
      : await executeRunUpdate(temporal, workflowId, resumeUpdate, [{ actor: actor.name }]);
  } catch (err) {
    if (!(err instanceof UpdateRefusedError)) throw err;
    if (/already ended/.test(err.reason)) throw new ConflictError('This run has already ended.');
    // Runs started before the Updates existed take the signal (their state shows on the next read).
    if (!/no registered handler|not found/i.test(err.reason)) throw err;
    const handle = temporal.client.workflow.getHandle(workflowId);
    await (what === 'pause' ? handle.signal(pauseSignal, { reason, actor: actor.name }) : handle.signal(resumeSignal, { actor: actor.name })).catch((e) => {
      throw unavailable(e);
    });
    return null;
  }
}

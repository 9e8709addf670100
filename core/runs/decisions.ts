// Deciding an approval from the API or the UI: one `decision` Update, whose
// validator refuses a bad decision before it enters the run's history and
// whose answer is the task as the decision left it. A refusal the run never
// recorded (the validator's) is audited here, so every refusal is audited once.
import type { Sql } from '../../db/sql';
import { AppError, UnavailableError, ValidationError } from '../../lib/errors';
import type { TemporalHandle } from '../../lib/temporal';
import { decisionSignal, decisionUpdate, progressQuery, type DecisionAction, type TaskProgress } from '../../workflows/messages';
import { appendAudit, type Actor } from '../audit/audit-log';
import { assertRunInWorkspace } from './detail';
import { executeRunUpdate, UPDATE_DEADLINE_MS, UpdateRefusedError } from './updates';
import type { RunWorkspace } from './visibility';

export interface DecisionRequest {
  taskId: string;
  action: DecisionAction;
  notes?: string;
  output?: unknown;
}

export async function decide(
  sql: Sql, temporal: TemporalHandle, workflowId: string, d: DecisionRequest, actor: Actor, ws?: RunWorkspace,
): Promise<TaskProgress> {
  if (d.action === 'edit_inline_approve' && d.output === undefined) throw new ValidationError('output: edit_inline_approve needs the edited output.');
  if ((d.action === 'request_changes' || d.action === 'approve_with_notes') && !d.notes?.trim()) {
    throw new ValidationError(`notes: ${d.action} needs notes for the ${d.action === 'request_changes' ? 'pattern' : 'record'}.`);
  }
  // The gate first: another workspace's run is an unknown run, and no decision reaches its history.
  if (ws) await assertRunInWorkspace(temporal, workflowId, ws);
  try {
    return await executeRunUpdate(temporal, workflowId, decisionUpdate, [{ taskId: d.taskId, action: d.action, notes: d.notes, output: d.output, actor: actor.name }]);
  } catch (err) {
    // The run ended before the decision reached it (the decision before this one let it finish): refused, and said why.
    if (err instanceof AppError && err.code === 'run_ended') {
      await appendAudit(sql, {
        actor, action: 'approval.refused', entityType: 'run', entityId: workflowId,
        details: { taskId: d.taskId, action: d.action, reason: 'the run has already ended', ...(d.notes ? { notes: d.notes } : {}) }, workspaceId: ws?.id,
      });
      throw await explain(temporal, workflowId, d.taskId, new UpdateRefusedError(err.message, 'the run has already ended', true));
    }
    if (!(err instanceof UpdateRefusedError)) throw err;
    if (/no registered handler/i.test(err.reason)) return decideBySignal(temporal, workflowId, d, actor);
    if (err.rejectedByValidator) {
      await appendAudit(sql, {
        actor, action: 'approval.refused', entityType: 'run', entityId: workflowId,
        details: { taskId: d.taskId, action: d.action, reason: err.reason, ...(d.notes ? { notes: d.notes } : {}) }, workspaceId: ws?.id,
      });
    }
    throw await explain(temporal, workflowId, d.taskId, err);
  }
}

/**
 * Runs started by the first release have no Updates: the decision goes as a signal, and the answer is read
 * back from `progress` (the run itself audits the decision or its refusal).
 */
async function decideBySignal(temporal: TemporalHandle, workflowId: string, d: DecisionRequest, actor: Actor): Promise<TaskProgress> {
  const handle = temporal.client.workflow.getHandle(workflowId);
  const before = await handle.query(progressQuery);
  const task = before.tasks.find((t) => t.id === d.taskId);
  if (!task) throw new AppError(404, 'not_found', 'Task in this run was not found.');
  if (task.status !== 'awaiting_approval') throw new AppError(409, 'already_decided', `This task is not waiting for a decision (it is ${task.status}).`);
  await handle.signal(decisionSignal, { taskId: d.taskId, action: d.action, notes: d.notes, output: d.output, actor: actor.name });
  const deadline = Date.now() + UPDATE_DEADLINE_MS;
  for (let wait = 50; Date.now() < deadline; wait = Math.min(wait * 2, 500)) {
    await new Promise((r) => setTimeout(r, wait));
    const p = await handle.query(progressQuery);
    const now = p.tasks.find((t) => t.id === d.taskId)!;
    if (now.decisions.length > task.decisions.length) return now;
    if (p.refusedDecisions.length > before.refusedDecisions.length) {
      throw new AppError(409, 'decision_refused', `The run refused the decision: ${p.refusedDecisions.at(-1)!.reason}.`);
    }
  }
  throw new UnavailableError('The decision was sent but the run has not applied it yet (is a worker running?); check the run in a moment.');
}

/** A refusal in the words a person needs: which task, and who decided it already. */
async function explain(temporal: TemporalHandle, workflowId: string, taskId: string, err: UpdateRefusedError): Promise<AppError> {
  if (err.reason === 'unknown task') return new AppError(404, 'not_found', 'Task in this run was not found.');
  const ended = err.reason === 'the run has already ended' || /the run ended/.test(err.reason);
  if (ended || err.reason === 'the task is not waiting for a decision' || err.reason === 'the task was already decided') {
    const p = await temporal.client.workflow.getHandle(workflowId).query(progressQuery).catch(() => null);
    const task = p?.tasks.find((t) => t.id === taskId);
    const last = task?.decisions.at(-1);
    if (ended && !last) return new AppError(409, 'run_ended', 'This run has already ended; there is nothing to decide.');
    return new AppError(409, 'already_decided', last
      ? `This task was already decided: ${last.action} by ${last.actor}.`
      : `This task is not waiting for a decision${task ? ` (it is ${task.status})` : ''}.`, { status: task?.status ?? null, decision: last ?? null });
  }
  return new AppError(409, 'decision_refused', `The run refused the decision: ${err.reason}.`);
}

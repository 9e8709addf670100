// Deciding an approval from the API: checked against the run's live state
// first, so an unknown or already-decided task gets a clear 4xx, then
// signalled, then confirmed from the progress query.
import type { TemporalHandle } from '../../lib/temporal';
import { AppError, ConflictError, NotFoundError, UnavailableError, ValidationError } from '../../lib/errors';
import { decisionSignal, progressQuery, type DecisionAction, type Progress, type TaskProgress } from '../../workflows/messages';
import { describeRun } from './detail';
import { unavailable } from './temporal-errors';

export interface DecisionRequest {
  taskId: string;
  action: DecisionAction;
  notes?: string;
  output?: unknown;
}

const CONFIRM_MS = 5000;

export async function decide(temporal: TemporalHandle, workflowId: string, d: DecisionRequest, actor: string): Promise<TaskProgress> {
  if (d.action === 'edit_inline_approve' && d.output === undefined) throw new ValidationError('output: edit_inline_approve needs the edited output.');
  if ((d.action === 'request_changes' || d.action === 'approve_with_notes') && !d.notes?.trim()) {
    throw new ValidationError(`notes: ${d.action} needs notes for the ${d.action === 'request_changes' ? 'pattern' : 'record'}.`);
  }
  const detail = await describeRun(temporal, workflowId);
  const task = detail.progress?.tasks.find((t) => t.id === d.taskId);
  if (detail.progress && !task) throw new NotFoundError('Task in this run');
  if (detail.summary.closeTime && !task?.decisions.length) {
    throw new ConflictError(`This run has already ended (${detail.summary.status}); there is nothing to decide.`);
  }
  if (!detail.progress || !task) throw new UnavailableError('The run cannot be read right now (is a worker running?); try again shortly.');
  if (task.status !== 'awaiting_approval') {
    const last = task.decisions.at(-1);
    throw new AppError(409, 'already_decided', last
      ? `This task was already decided: ${last.action} by ${last.actor}.`
      : `This task is not waiting for a decision (it is ${task.status}).`, { status: task.status, decision: last ?? null });
  }
  const handle = temporal.client.workflow.getHandle(workflowId);
  const before = task.decisions.length;
  const refusals = (p: Progress) => p.refusedDecisions.filter((r) => r.taskId === d.taskId && r.actor === actor);
  const refusedBefore = refusals(detail.progress).length;
  try {
    await handle.signal(decisionSignal, { taskId: d.taskId, action: d.action, notes: d.notes, output: d.output, actor });
  } catch (err) {
    throw unavailable(err);
  }
  const deadline = Date.now() + CONFIRM_MS;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const p = await handle.query(progressQuery).catch(() => null);
    const now = p?.tasks.find((t) => t.id === d.taskId);
    if (!p || !now) continue;
    const mine = now.decisions.slice(before).find((x) => x.actor.toLowerCase() === actor.toLowerCase() && x.action === d.action);
    if (mine) return now;
    const refused = refusals(p).length > refusedBefore ? refusals(p).at(-1) : undefined;
    if (refused) throw new AppError(409, 'decision_refused', `The run refused the decision: ${refused.reason}.`);
    if (now.decisions.length > before) {
      const other = now.decisions.at(-1)!;
      throw new AppError(409, 'already_decided', `Someone else decided first: ${other.action} by ${other.actor}.`);
    }
  }
  throw new AppError(409, 'decision_pending', 'The decision was sent but the run has not applied it yet; check the run in a moment.');
}

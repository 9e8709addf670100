// A draft that a mission task wrote is decided at that task's approval gate:
// one decision, and the run's workflow holds it, whichever way it arrives. A
// decision on such a draft (the drafts page, POST /api/drafts/:id/approve, …)
// goes to the run as the gate's `decision` Update; a decision at the gate (the
// approvals inbox, the run's page, the API, the Temporal CLI) is applied, by
// the run's own activity once it accepted it, to every draft of that task that
// waits. A gate decides the task's drafts together: they are its output.
// Drafts no run holds (written by hand, or their run has moved on) are decided
// on their own (core/outreach/decisions.ts).
import type { Sql } from '../../db/sql';
import type { TemporalHandle } from '../../lib/temporal';
import { AppError, UnavailableError } from '../../lib/errors';
import type { Role } from '../../lib/names';
import type { Actor } from '../audit/audit-log';
import type { RunWorkspace } from '../runs/visibility';
import { decide } from '../runs/decisions';
import { progressQuery, type DecisionAction } from '../../workflows/messages';
import { decideDraft, listDecisions, type DecisionResult } from './decisions';
import { getDraft, updateDraft } from './drafts';
import type { DecisionInput, DraftDecisionAction } from './schemas';

/** A draft's decision as its task's gate takes it (an inline edit is the draft's new version, approved with a note). */
const TO_GATE: Record<DraftDecisionAction, DecisionAction> = {
  APPROVE: 'approve', REJECT: 'reject', REQUEST_CHANGES: 'request_changes', EDIT_INLINE_APPROVE: 'approve_with_notes', APPROVE_WITH_NOTES: 'approve_with_notes',
};
/** A gate's decision as the task's drafts take it (an edit of the task's output leaves the drafts as they are, approved). */
const FROM_GATE: Record<DecisionAction, DraftDecisionAction> = {
  approve: 'APPROVE', reject: 'REJECT', request_changes: 'REQUEST_CHANGES', edit_inline_approve: 'APPROVE_WITH_NOTES', approve_with_notes: 'APPROVE_WITH_NOTES',
};

export interface GateDecision {
  workflowId: string;
  taskId: string;
  action: DecisionAction;
  notes: string | null;
  /** An admin: the run's activity checked the role before it applies the decision. */
  actor: Actor;
  workspaceId: string;
}

/** Applies an accepted gate decision to the task's waiting drafts; returns how many it decided. Safe to repeat. */
export async function applyGateDecision(sql: Sql, g: GateDecision, warn: (draftId: string, err: Error) => void): Promise<number> {
  const drafts = await sql<{ id: string }[]>`
    select id from drafts
    where workspace_id = ${g.workspaceId} and run_workflow_id = ${g.workflowId} and run_task_id = ${g.taskId} and status = 'NEEDS_APPROVAL'
    order by created_at, id`;
  const action = FROM_GATE[g.action];
  const notes = g.notes ?? (g.action === 'edit_inline_approve' ? "The task's output was edited when it was approved." : undefined);
  let decided = 0;
  for (const { id } of drafts) {
    try {
      await decideDraft(sql, id, action, { ...(notes ? { notes } : {}) }, { ...g.actor, role: 'ADMIN' }, { id: g.workspaceId });
      decided++;
    } catch (err) {
      if (!(err instanceof AppError)) throw err; // the database: the activity tries again
      warn(id, err); // decided meanwhile on its own, say: the gate's decision stands
    }
  }
  return decided;
}

/**
 * Decides a draft: at its task's gate while that task waits there (then the run applies the decision to the
 * task's drafts before the gate answers), else on its own.
 */
export async function decideDraftAnywhere(
  sql: Sql, temporal: TemporalHandle, id: string, action: DraftDecisionAction, input: DecisionInput, actor: Actor & { role: Role }, ws: RunWorkspace,
): Promise<DecisionResult & { gate?: { workflowId: string; taskId: string } }> {
  const draft = await getDraft(sql, id, ws);
  const gate = draft.runWorkflowId && draft.runTaskId && draft.status === 'NEEDS_APPROVAL' ? { workflowId: draft.runWorkflowId, taskId: draft.runTaskId } : null;
  const waiting = gate && (await temporal.client.workflow.getHandle(gate.workflowId).query(progressQuery).then(
    (p) => p.tasks.find((t) => t.id === gate.taskId)?.status === 'awaiting_approval',
    () => false, // the run is gone (or never was): the draft stands alone
  ));
  if (!gate || !waiting) return decideDraft(sql, id, action, input, actor, ws);
  if (actor.role !== 'ADMIN') return decideDraft(sql, id, action, input, actor, ws); // refused there, in its words
  if (input.version !== undefined && input.version !== draft.currentVersion) return decideDraft(sql, id, action, input, actor, ws); // the same 409
  if (action === 'EDIT_INLINE_APPROVE') {
    await updateDraft(sql, id, { subject: input.subject, body: input.body!, note: input.notes || 'Edited inline on approval' }, actor, ws, { keepStatus: true });
  }
  const notes = action === 'EDIT_INLINE_APPROVE' ? `Edited inline and approved (draft ${id})${input.notes ? `: ${input.notes}` : ''}` : input.notes;
  await decide(sql, temporal, gate.workflowId, { taskId: gate.taskId, action: TO_GATE[action], ...(notes ? { notes } : {}) }, actor, ws);
  // The gate answered once the run had applied the decision, to this draft too.
  const after = await getDraft(sql, id, ws);
  const decision = after.status === 'NEEDS_APPROVAL' ? undefined : (await listDecisions(sql, after)).at(-1);
  if (!decision) throw new UnavailableError('The run took the decision, but this draft does not show it yet; look again in a moment.');
  return { draft: after, decision, replayed: false, gate };
}

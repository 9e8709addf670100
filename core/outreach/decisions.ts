// Decisions on drafts (seed 002's approvals): only an admin decides, and only
// a draft waiting for approval. Each decision is one draft_decisions row, the
// draft's new status and its audit entry and event, in one transaction under
// the draft's row lock; the same decision sent again (a retried request) is
// answered with the decision already made, and recorded once.
import type { Sql, TxSql } from '../../db/sql';
import { ConflictError, ForbiddenError } from '../../lib/errors';
import type { Role } from '../../lib/names';
import { appendAudit, type Actor } from '../audit/audit-log';
import type { WorkspaceRef } from '../access/users';
import { getDraft, insertDraftVersion, type Draft } from './drafts';
import type { DecisionInput, DraftDecisionAction, DraftStatus } from './schemas';

export interface DraftDecision {
  id: string;
  draftId: string;
  version: number;
  action: DraftDecisionAction;
  notes: string | null;
  actor: string;
  at: Date;
}

/** What each decision does: the status it leaves the draft in, and its audit action (= event type). */
export const DECISION_OUTCOMES: Record<DraftDecisionAction, { status: DraftStatus; event: string }> = {
  APPROVE: { status: 'APPROVED', event: 'approval.approved' },
  REJECT: { status: 'REJECTED', event: 'approval.rejected' },
  REQUEST_CHANGES: { status: 'DRAFT', event: 'approval.changes_requested' },
  EDIT_INLINE_APPROVE: { status: 'APPROVED', event: 'approval.edited_and_approved' },
  APPROVE_WITH_NOTES: { status: 'APPROVED', event: 'approval.approved_with_notes' },
};

const decisionColumns = (sql: TxSql) => sql`
  id, draft_id as "draftId", version, action, notes, actor, at`;

export async function listDecisions(sql: TxSql, draft: Pick<Draft, 'id' | 'workspaceId'>): Promise<DraftDecision[]> {
  return sql<DraftDecision[]>`
    select ${decisionColumns(sql)} from draft_decisions
    where draft_id = ${draft.id} and workspace_id = ${draft.workspaceId}
    order by at, id`;
}

/** The decision just made on this draft, when `action` by `actor` would repeat it exactly. */
async function sameDecision(tx: TxSql, draft: Draft, action: DraftDecisionAction, input: DecisionInput, actor: Actor): Promise<DraftDecision | null> {
  if (draft.status !== DECISION_OUTCOMES[action].status) return null;
  const [last] = await tx<DraftDecision[]>`
    select ${decisionColumns(tx)} from draft_decisions where draft_id = ${draft.id} order by at desc, id desc limit 1`;
  if (!last || last.action !== action || last.actor !== actor.name || last.version !== draft.currentVersion) return null;
  if ((last.notes ?? '') !== (input.notes ?? '')) return null;
  if (action === 'EDIT_INLINE_APPROVE' && (draft.body !== input.body || (input.subject !== undefined && input.subject !== draft.subject))) return null;
  return last;
}

export interface DecisionResult {
  draft: Draft;
  decision: DraftDecision;
  /** True when this request repeated the decision already made: nothing new was recorded. */
  replayed: boolean;
}

/**
 * Decides a draft that waits for approval. EDIT_INLINE_APPROVE saves the reviewer's subject and body as a new
 * version and approves that version; REQUEST_CHANGES sends the draft back to DRAFT with the notes. A `version`
 * in the input must be the draft's current one (the version the reviewer read).
 */
export async function decideDraft(
  sql: Sql, id: string, action: DraftDecisionAction, input: DecisionInput, actor: Actor & { role: Role }, ws: WorkspaceRef,
): Promise<DecisionResult> {
  if (actor.role !== 'ADMIN') throw new ForbiddenError(`Deciding a draft needs the ADMIN role; you are ${actor.role}.`);
  return sql.begin(async (tx) => {
    const draft = await getDraft(tx, id, ws, { lock: true });
    const replay = await sameDecision(tx, draft, action, input, actor);
    if (replay) return { draft, decision: replay, replayed: true };
    if (draft.status !== 'NEEDS_APPROVAL') {
      throw new ConflictError(
        `This draft is ${draft.status}; only a draft waiting for approval (NEEDS_APPROVAL) takes a decision.`
        + (draft.status === 'DRAFT' ? ' Submit it first.' : ''),
        { status: draft.status },
      );
    }
    if (input.version !== undefined && input.version !== draft.currentVersion) {
      throw new ConflictError(`Version ${input.version} is not the draft's current version (${draft.currentVersion}); read it again before deciding.`, {
        currentVersion: draft.currentVersion,
      });
    }
    let version = draft.currentVersion;
    let content = { subject: draft.subject, body: draft.body };
    if (action === 'EDIT_INLINE_APPROVE') {
      content = { subject: input.subject === undefined ? draft.subject : input.subject, body: input.body! };
      version += 1;
      await insertDraftVersion(tx, draft, version, { ...content, note: input.notes ? input.notes.slice(0, 500) : 'Edited on approval' }, actor);
    }
    const outcome = DECISION_OUTCOMES[action];
    await tx`
      update drafts set status = ${outcome.status}, current_version = ${version}, subject = ${content.subject}, body = ${content.body},
             updated_by = ${actor.name}, updated_at = now()
      where id = ${id}`;
    const [decision] = await tx<DraftDecision[]>`
      insert into draft_decisions (workspace_id, draft_id, version, action, notes, actor, actor_id)
      values (${draft.workspaceId}, ${id}, ${version}, ${action}, ${input.notes || null}, ${actor.name}, ${actor.id})
      returning ${decisionColumns(tx)}`;
    await appendAudit(tx, {
      actor, action: outcome.event, entityType: 'draft', entityId: id,
      details: {
        decisionId: decision!.id, action, version, notes: input.notes || null, from: draft.status, to: outcome.status,
        campaignId: draft.campaignId, leadId: draft.leadId, runWorkflowId: draft.runWorkflowId, runTaskId: draft.runTaskId,
      },
      workspaceId: draft.workspaceId,
    });
    return { draft: await getDraft(tx, id, ws), decision: decision!, replayed: false };
  });
}

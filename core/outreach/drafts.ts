// Drafts (seed 002): a message for one campaign (and optionally one of its
// leads) on one of its channels. Every change of subject or body is a new
// immutable version with its note; a draft is submitted for approval, and an
// admin decides it (core/outreach/decisions.ts). Approved content is final.
import type { Sql, TxSql } from '../../db/sql';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import { lineDiff, type DiffLine } from '../../lib/line-diff';
import { appendAudit, type Actor } from '../audit/audit-log';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { campaignForWork, refusedReference, type Campaign } from './campaigns';
import { getLead } from './leads';
import type { DraftCreateInput, DraftPatch, DraftStatus, OutreachChannel } from './schemas';

export interface Draft {
  id: string;
  workspaceId: string;
  campaignId: string;
  leadId: string | null;
  channel: OutreachChannel;
  subject: string | null;
  body: string;
  status: DraftStatus;
  currentVersion: number;
  runWorkflowId: string | null;
  runTaskId: string | null;
  sourceKey: string | null;
  createdBy: string;
  updatedBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface DraftVersion {
  version: number;
  subject: string | null;
  body: string;
  note: string | null;
  author: string;
  createdAt: Date;
}

/** The statuses whose content may still change; a change sends the draft back to DRAFT (to be submitted again). */
export const EDITABLE_DRAFT_STATUSES: readonly DraftStatus[] = ['DRAFT', 'NEEDS_APPROVAL', 'REJECTED'];

const columns = (sql: TxSql) => sql`
  d.id, d.workspace_id as "workspaceId", d.campaign_id as "campaignId", d.lead_id as "leadId", d.channel, d.subject, d.body,
  d.status, d.current_version as "currentVersion", d.run_workflow_id as "runWorkflowId", d.run_task_id as "runTaskId",
  d.source_key as "sourceKey", d.created_by as "createdBy", d.updated_by as "updatedBy", d.created_at as "createdAt", d.updated_at as "updatedAt"`;

export interface DraftFilter {
  campaignId?: string;
  leadId?: string;
  status?: DraftStatus;
  /** Drafts created before this one (keyset paging, newest first). */
  before?: string;
  limit: number;
}

export async function listDrafts(sql: TxSql, f: DraftFilter, ws: WorkspaceRef): Promise<Draft[]> {
  return sql<Draft[]>`
    select ${columns(sql)} from drafts d
    where d.workspace_id = ${workspaceIdOf(sql, ws)}
      ${f.campaignId ? sql`and d.campaign_id = ${f.campaignId}` : sql``}
      ${f.leadId ? sql`and d.lead_id = ${f.leadId}` : sql``}
      ${f.status ? sql`and d.status = ${f.status}` : sql``}
      ${f.before ? sql`and (d.created_at, d.id) < (
        select p.created_at, p.id from drafts p where p.id = ${f.before} and p.workspace_id = ${workspaceIdOf(sql, ws)})` : sql``}
    order by d.created_at desc, d.id desc
    limit ${f.limit}`;
}

export async function getDraft(sql: TxSql, id: string, ws: WorkspaceRef, opts: { lock?: boolean } = {}): Promise<Draft> {
  const [d] = await sql<Draft[]>`
    select ${columns(sql)} from drafts d
    where d.id = ${id} and d.workspace_id = ${workspaceIdOf(sql, ws)}
    ${opts.lock ? sql`for update` : sql``}`;
  if (!d) throw new NotFoundError('Draft');
  return d;
}

export async function listDraftVersions(sql: TxSql, id: string, ws: WorkspaceRef): Promise<DraftVersion[]> {
  const draft = await getDraft(sql, id, ws);
  return sql<DraftVersion[]>`
    select version, subject, body, note, author, created_at as "createdAt"
    from draft_versions where draft_id = ${draft.id} and workspace_id = ${draft.workspaceId}
    order by version desc`;
}

async function versionOf(sql: TxSql, draft: Draft, version: number): Promise<DraftVersion> {
  const [v] = await sql<DraftVersion[]>`
    select version, subject, body, note, author, created_at as "createdAt"
    from draft_versions where draft_id = ${draft.id} and workspace_id = ${draft.workspaceId} and version = ${version}`;
  if (!v) throw new NotFoundError(`Version ${version} of this draft`);
  return v;
}

export interface DraftDiff {
  from: number;
  to: number;
  subject: { from: string | null; to: string | null; changed: boolean };
  body: { lines: DiffLine[]; added: number; removed: number };
}

/** What changed between two versions of a draft, the body line by line: by default, the current version against the one before. */
export async function diffDraftVersions(sql: TxSql, id: string, range: { from?: number; to?: number }, ws: WorkspaceRef): Promise<DraftDiff> {
  const draft = await getDraft(sql, id, ws);
  const to = range.to ?? draft.currentVersion;
  const from = range.from ?? Math.max(1, to - 1);
  const [a, b] = [await versionOf(sql, draft, from), await versionOf(sql, draft, to)];
  return { from, to, subject: { from: a.subject, to: b.subject, changed: a.subject !== b.subject }, body: lineDiff(a.body, b.body) };
}

/** Appends version `version` of a draft (draft_versions rows are never changed). */
export async function insertDraftVersion(
  tx: TxSql, draft: Pick<Draft, 'id' | 'workspaceId'>, version: number, content: { subject: string | null; body: string; note: string | null }, author: Actor,
): Promise<void> {
  await tx`
    insert into draft_versions (workspace_id, draft_id, version, subject, body, note, author)
    values (${draft.workspaceId}, ${draft.id}, ${version}, ${content.subject}, ${content.body}, ${content.note}, ${author.name})`;
}

/** A lead of the draft's own campaign, or a 400 naming leadId. */
async function leadOfCampaign(tx: TxSql, leadId: string, campaign: Pick<Campaign, 'id' | 'name'>, ws: WorkspaceRef): Promise<string> {
  const lead = await getLead(tx, leadId, ws).catch((err) => {
    if (err instanceof NotFoundError) throw refusedReference('leadId', 'lead');
    throw err;
  });
  if (lead.campaignId !== campaign.id) {
    const message = `leadId names a lead of another campaign ("${lead.campaignName}"), not of "${campaign.name}".`;
    throw new ValidationError(message, [{ path: 'leadId', message }]);
  }
  return lead.id;
}

/**
 * A new draft (version 1) in a campaign of the caller's workspace, on one of the campaign's channels. With a
 * sourceKey, the same key is the same draft: a second create answers the first's draft and writes nothing.
 */
export async function createDraft(sql: Sql, input: DraftCreateInput, actor: Actor, ws: WorkspaceRef): Promise<{ draft: Draft; created: boolean }> {
  return sql.begin(async (tx) => {
    const campaign = await campaignForWork(tx, input.campaignId, ws);
    if (!campaign.channels.includes(input.channel)) {
      const message = `The campaign "${campaign.name}" reaches people on ${campaign.channels.join(', ') || 'no channel yet'}, not ${input.channel}.`;
      throw new ValidationError(message, [{ path: 'channel', message }]);
    }
    const leadId = input.leadId ? await leadOfCampaign(tx, input.leadId, campaign, ws) : null;
    const subject = input.subject ?? null;
    const [row] = await tx<{ id: string; workspaceId: string }[]>`
      insert into drafts (workspace_id, campaign_id, lead_id, channel, subject, body, run_workflow_id, run_task_id, source_key, created_by, updated_by)
      values (${campaign.workspaceId}, ${campaign.id}, ${leadId}, ${input.channel}, ${subject}, ${input.body},
              ${input.runWorkflowId ?? null}, ${input.runTaskId ?? null}, ${input.sourceKey ?? null}, ${actor.name}, ${actor.name})
      on conflict (workspace_id, source_key) do nothing
      returning id, workspace_id as "workspaceId"`;
    if (!row) {
      const [existing] = await tx<{ id: string }[]>`select id from drafts where workspace_id = ${campaign.workspaceId} and source_key = ${input.sourceKey!}`;
      const draft = await getDraft(tx, existing!.id, ws);
      if (draft.campaignId !== campaign.id) throw new ConflictError(`The sourceKey "${input.sourceKey}" already names a draft of another campaign.`, { draftId: draft.id });
      return { draft, created: false };
    }
    await insertDraftVersion(tx, row, 1, { subject, body: input.body, note: input.note || null }, actor);
    await appendAudit(tx, {
      actor, action: 'draft.created', entityType: 'draft', entityId: row.id,
      details: {
        campaignId: campaign.id, leadId, channel: input.channel, version: 1, subject,
        runWorkflowId: input.runWorkflowId ?? null, runTaskId: input.runTaskId ?? null, sourceKey: input.sourceKey ?? null,
      },
      workspaceId: row.workspaceId,
    });
    return { draft: await getDraft(tx, row.id, ws), created: true };
  });
}

/**
 * A new subject or body is a new version (with the patch's note); a new lead relinks the draft within its campaign.
 * Changed content goes back to DRAFT, except for a reviewer's inline edit (`keepStatus`), about to be decided.
 */
export async function updateDraft(sql: Sql, id: string, patch: DraftPatch, actor: Actor, ws: WorkspaceRef, opts: { keepStatus?: boolean } = {}): Promise<Draft> {
  return sql.begin(async (tx) => {
    const draft = await getDraft(tx, id, ws, { lock: true });
    const subject = patch.subject === undefined ? draft.subject : patch.subject;
    const body = patch.body ?? draft.body;
    const contentChanged = subject !== draft.subject || body !== draft.body;
    const leadId = patch.leadId === undefined ? draft.leadId : patch.leadId;
    if (!contentChanged && leadId === draft.leadId) return draft;
    if (!EDITABLE_DRAFT_STATUSES.includes(draft.status)) {
      throw new ConflictError(`This draft is ${draft.status}: approved content is final. Write a new draft to say something else.`);
    }
    if (leadId && leadId !== draft.leadId) {
      const [campaign] = await tx<{ id: string; name: string }[]>`select id, name from campaigns where id = ${draft.campaignId}`;
      await leadOfCampaign(tx, leadId, campaign!, ws);
    }
    const version = contentChanged ? draft.currentVersion + 1 : draft.currentVersion;
    if (contentChanged) await insertDraftVersion(tx, draft, version, { subject, body, note: patch.note || null }, actor);
    // Changed content waits for a new decision: it goes back to DRAFT, to be submitted again.
    const status: DraftStatus = contentChanged && !opts.keepStatus ? 'DRAFT' : draft.status;
    await tx`
      update drafts set subject = ${subject}, body = ${body}, lead_id = ${leadId}, current_version = ${version}, status = ${status},
             updated_by = ${actor.name}, updated_at = now()
      where id = ${id}`;
    await appendAudit(tx, {
      actor, action: 'draft.updated', entityType: 'draft', entityId: id,
      details: {
        campaignId: draft.campaignId, leadId, version, note: patch.note || null, contentChanged,
        ...(leadId !== draft.leadId ? { lead: { from: draft.leadId, to: leadId } } : {}),
        ...(status !== draft.status ? { status: { from: draft.status, to: status } } : {}),
      },
      workspaceId: draft.workspaceId,
    });
    return getDraft(tx, id, ws);
  });
}

/** DRAFT → NEEDS_APPROVAL. Submitting a draft that waits already changes nothing (a retry is answered as the first was). */
export async function submitDraft(sql: Sql, id: string, actor: Actor, ws: WorkspaceRef): Promise<Draft> {
  return sql.begin(async (tx) => {
    const draft = await getDraft(tx, id, ws, { lock: true });
    if (draft.status === 'NEEDS_APPROVAL') return draft;
    if (draft.status !== 'DRAFT') {
      throw new ConflictError(
        draft.status === 'REJECTED'
          ? 'This draft was rejected; change its subject or body (PATCH) and it becomes a DRAFT to submit again.'
          : 'This draft is APPROVED already; there is nothing to submit.',
        { status: draft.status },
      );
    }
    await tx`update drafts set status = 'NEEDS_APPROVAL', updated_by = ${actor.name}, updated_at = now() where id = ${id}`;
    await appendAudit(tx, {
      actor, action: 'draft.submitted', entityType: 'draft', entityId: id,
      details: { campaignId: draft.campaignId, leadId: draft.leadId, version: draft.currentVersion, runWorkflowId: draft.runWorkflowId, runTaskId: draft.runTaskId },
      workspaceId: draft.workspaceId,
    });
    return getDraft(tx, id, ws);
  });
}

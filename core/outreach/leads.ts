// Leads (seed 002): the people a campaign works, each of one campaign of the
// same workspace. A lead moves through its statuses only by the moves in
// LEAD_TRANSITIONS, each with the least role that may make it: operators take
// a lead to APPROVED, closers work it from there. Its effective score is an
// admin's override, when there is one (always with a reason), else the
// computed score. Every change is audited, with its event.
import type { Sql, TxSql } from '../../db/sql';
import { ConflictError, ForbiddenError, NotFoundError } from '../../lib/errors';
import { ROLE_RANK, type Role } from '../../lib/names';
import { appendAudit, type Actor } from '../audit/audit-log';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { campaignForWork } from './campaigns';
import type { LeadCreateInput, LeadPatch, LeadScore, LeadStatus } from './schemas';

export interface Lead {
  id: string;
  workspaceId: string;
  campaignId: string;
  campaignName: string;
  name: string;
  company: string | null;
  email: string | null;
  website: string | null;
  linkedin: string | null;
  facebook: string | null;
  instagram: string | null;
  status: LeadStatus;
  statusChangedAt: Date;
  score: LeadScore | null;
  scoreOverride: LeadScore | null;
  scoreOverrideReason: string | null;
  scoreOverriddenBy: string | null;
  scoreOverriddenAt: Date | null;
  /** The override when there is one, else the computed score. */
  effectiveScore: LeadScore | null;
  notes: string;
  sourceKey: string | null;
  createdBy: string;
  updatedBy: string;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Every move a lead may make: from a status, the statuses it may go to, each with the least role that may move
 * it there. VIEWER moves nothing; ADMIN makes any move here, and no other.
 */
export const LEAD_TRANSITIONS: Record<LeadStatus, Partial<Record<LeadStatus, Role>>> = {
  NEW: { ENRICHED: 'OPERATOR', LOST: 'OPERATOR' },
  ENRICHED: { DRAFTED: 'OPERATOR', LOST: 'OPERATOR' },
  DRAFTED: { APPROVED: 'OPERATOR', LOST: 'OPERATOR' },
  APPROVED: { CONTACTED: 'CLOSER', LOST: 'CLOSER' },
  CONTACTED: { REPLIED: 'CLOSER', LOST: 'CLOSER' },
  REPLIED: { BOOKED: 'CLOSER', LOST: 'CLOSER' },
  BOOKED: { LOST: 'CLOSER' },
  LOST: {},
};

/** The statuses a lead may move to from `from`, for a caller of `role` (every allowed move when no role is given). */
export function movesFrom(from: LeadStatus, role?: Role): LeadStatus[] {
  return (Object.entries(LEAD_TRANSITIONS[from]) as [LeadStatus, Role][])
    .filter(([, least]) => !role || ROLE_RANK[role] >= ROLE_RANK[least])
    .map(([to]) => to);
}

const columns = (sql: TxSql) => sql`
  l.id, l.workspace_id as "workspaceId", l.campaign_id as "campaignId", c.name as "campaignName", l.name, l.company, l.email,
  l.website, l.linkedin, l.facebook, l.instagram, l.status, l.status_changed_at as "statusChangedAt", l.score,
  l.score_override as "scoreOverride", l.score_override_reason as "scoreOverrideReason", l.score_overridden_by as "scoreOverriddenBy",
  l.score_overridden_at as "scoreOverriddenAt", coalesce(l.score_override, l.score) as "effectiveScore", l.notes,
  l.source_key as "sourceKey", l.created_by as "createdBy", l.updated_by as "updatedBy", l.created_at as "createdAt", l.updated_at as "updatedAt"`;

export interface LeadFilter {
  campaignId?: string;
  status?: LeadStatus;
  /** The effective score. */
  score?: LeadScore;
  /** Leads created before this one (keyset paging, newest first). */
  before?: string;
  limit: number;
}

export async function listLeads(sql: TxSql, f: LeadFilter, ws: WorkspaceRef): Promise<Lead[]> {
  return sql<Lead[]>`
    select ${columns(sql)} from leads l join campaigns c on c.id = l.campaign_id
    where l.workspace_id = ${workspaceIdOf(sql, ws)}
      ${f.campaignId ? sql`and l.campaign_id = ${f.campaignId}` : sql``}
      ${f.status ? sql`and l.status = ${f.status}` : sql``}
      ${f.score ? sql`and coalesce(l.score_override, l.score) = ${f.score}` : sql``}
      ${f.before ? sql`and (l.created_at, l.id) < (
        select p.created_at, p.id from leads p where p.id = ${f.before} and p.workspace_id = ${workspaceIdOf(sql, ws)})` : sql``}
    order by l.created_at desc, l.id desc
    limit ${f.limit}`;
}

export async function getLead(sql: TxSql, id: string, ws: WorkspaceRef, opts: { lock?: boolean } = {}): Promise<Lead> {
  const [l] = await sql<Lead[]>`
    select ${columns(sql)} from leads l join campaigns c on c.id = l.campaign_id
    where l.id = ${id} and l.workspace_id = ${workspaceIdOf(sql, ws)}
    ${opts.lock ? sql`for update of l` : sql``}`;
  if (!l) throw new NotFoundError('Lead');
  return l;
}

/**
 * A new lead in a campaign of the caller's workspace. With a sourceKey, the same key is the same lead: a second
 * create answers the lead the first made (`created: false`) and writes nothing.
 */
export async function createLead(sql: Sql, input: LeadCreateInput, actor: Actor, ws: WorkspaceRef): Promise<{ lead: Lead; created: boolean }> {
  return sql.begin(async (tx) => {
    const campaign = await campaignForWork(tx, input.campaignId, ws);
    const [row] = await tx<{ id: string }[]>`
      insert into leads (workspace_id, campaign_id, name, company, email, website, linkedin, facebook, instagram, score, notes,
                         source_key, created_by, updated_by)
      values (${campaign.workspaceId}, ${campaign.id}, ${input.name}, ${input.company ?? null}, ${input.email ?? null},
              ${input.website ?? null}, ${input.linkedin ?? null}, ${input.facebook ?? null}, ${input.instagram ?? null},
              ${input.score ?? null}, ${input.notes ?? ''}, ${input.sourceKey ?? null}, ${actor.name}, ${actor.name})
      on conflict (workspace_id, source_key) do nothing
      returning id`;
    if (!row) {
      const [existing] = await tx<{ id: string }[]>`
        select id from leads where workspace_id = ${campaign.workspaceId} and source_key = ${input.sourceKey!}`;
      const lead = await getLead(tx, existing!.id, ws);
      if (lead.campaignId !== campaign.id) {
        throw new ConflictError(`The sourceKey "${input.sourceKey}" already names a lead of the campaign "${lead.campaignName}".`, { leadId: lead.id });
      }
      return { lead, created: false };
    }
    await appendAudit(tx, {
      actor, action: 'lead.created', entityType: 'lead', entityId: row.id,
      details: { campaignId: campaign.id, name: input.name, company: input.company ?? null, score: input.score ?? null, sourceKey: input.sourceKey ?? null },
      workspaceId: campaign.workspaceId,
    });
    return { lead: await getLead(tx, row.id, ws), created: true };
  });
}

const PATCHABLE = ['name', 'company', 'email', 'website', 'linkedin', 'facebook', 'instagram', 'score', 'notes'] as const;

export async function updateLead(sql: Sql, id: string, patch: LeadPatch, actor: Actor, ws: WorkspaceRef): Promise<Lead> {
  return sql.begin(async (tx) => {
    const before = await getLead(tx, id, ws, { lock: true });
    const after = Object.fromEntries(PATCHABLE.map((k) => [k, patch[k] === undefined ? before[k] : patch[k]])) as Pick<Lead, (typeof PATCHABLE)[number]>;
    const changed = PATCHABLE.filter((k) => after[k] !== before[k]);
    if (!changed.length) return before;
    await tx`
      update leads set name = ${after.name}, company = ${after.company}, email = ${after.email}, website = ${after.website},
             linkedin = ${after.linkedin}, facebook = ${after.facebook}, instagram = ${after.instagram}, score = ${after.score},
             notes = ${after.notes}, updated_by = ${actor.name}, updated_at = now()
      where id = ${id}`;
    // Notes can be long: the entry says that they changed, not what they say.
    const changes = Object.fromEntries(changed.map((k) => [k, k === 'notes' ? { changed: true } : { from: before[k], to: after[k] }]));
    await appendAudit(tx, {
      actor, action: 'lead.updated', entityType: 'lead', entityId: id,
      details: { campaignId: before.campaignId, name: after.name, changes }, workspaceId: before.workspaceId,
    });
    return getLead(tx, id, ws);
  });
}

const listOf = (xs: string[]) => (xs.length ? xs.join(', ') : 'none');

/**
 * Moves a lead by one of LEAD_TRANSITIONS's moves. A move the table does not have is a 409 naming the moves it
 * does; one the caller's role may not make is a 403 naming the role it needs and the moves the caller may make.
 * Moving a lead to the status it has changes nothing (a retry is answered as the first request was).
 */
export async function moveLead(
  sql: Sql, id: string, move: { status: LeadStatus; note?: string }, actor: Actor & { role: Role }, ws: WorkspaceRef,
): Promise<Lead> {
  return sql.begin(async (tx) => {
    const lead = await getLead(tx, id, ws, { lock: true });
    const from = lead.status;
    const to = move.status;
    if (from === to) return lead;
    const least = LEAD_TRANSITIONS[from][to];
    if (!least) {
      throw new ConflictError(`A ${from} lead cannot move to ${to}; from ${from} it may move to: ${listOf(movesFrom(from))}.`, { from, to, allowed: movesFrom(from) });
    }
    if (ROLE_RANK[actor.role] < ROLE_RANK[least]) {
      throw new ForbiddenError(
        `Moving a lead from ${from} to ${to} needs the ${least} role; you are ${actor.role}. From ${from} you may move it to: ${listOf(movesFrom(from, actor.role))}.`,
      );
    }
    await tx`
      update leads set status = ${to}, status_changed_at = now(), updated_by = ${actor.name}, updated_at = now()
      where id = ${id}`;
    await appendAudit(tx, {
      actor, action: 'lead.status_changed', entityType: 'lead', entityId: id,
      details: { campaignId: lead.campaignId, name: lead.name, from, to, note: move.note || null }, workspaceId: lead.workspaceId,
    });
    return getLead(tx, id, ws);
  });
}

/**
 * Sets or clears an admin's score override, always with a reason (seed 002: admins only). Setting the override it
 * already has changes nothing, so a retried request is recorded once.
 */
export async function overrideScore(
  sql: Sql, id: string, input: { score: LeadScore | null; reason: string }, actor: Actor & { role: Role }, ws: WorkspaceRef,
): Promise<Lead> {
  if (actor.role !== 'ADMIN') throw new ForbiddenError(`Overriding a lead's score needs the ADMIN role; you are ${actor.role}.`);
  return sql.begin(async (tx) => {
    const lead = await getLead(tx, id, ws, { lock: true });
    if (lead.scoreOverride === input.score) return lead;
    await tx`
      update leads set score_override = ${input.score}, score_override_reason = ${input.score ? input.reason : null},
             score_overridden_by = ${actor.name}, score_overridden_at = now(), updated_by = ${actor.name}, updated_at = now()
      where id = ${id}`;
    await appendAudit(tx, {
      actor, action: 'lead.score.overridden', entityType: 'lead', entityId: id,
      details: {
        campaignId: lead.campaignId, name: lead.name, from: lead.scoreOverride, to: input.score, reason: input.reason,
        computed: lead.score, effective: { from: lead.effectiveScore, to: input.score ?? lead.score },
      },
      workspaceId: lead.workspaceId,
    });
    return getLead(tx, id, ws);
  });
}

/** The names of the leads with these ids in the caller's workspace, for lists that show drafts by their lead. */
export async function leadNames(sql: TxSql, ids: string[], ws: WorkspaceRef): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  if (!unique.length) return new Map();
  const rows = await sql<{ id: string; name: string }[]>`
    select id, name from leads where workspace_id = ${workspaceIdOf(sql, ws)} and id in ${sql(unique)}`;
  return new Map(rows.map((r) => [r.id, r.name]));
}

// Campaigns (seed 002): a named outreach effort over some channels, whose leads
// and drafts belong to it. A campaign starts as a draft, is activated (it needs
// a channel to reach anyone), paused and activated again, and archived for
// good; an archived campaign is read-only. Every change is audited, and its
// event (campaign.created|updated|activated) is written with it.
import type { Sql, TxSql } from '../../db/sql';
import { rethrowConstraint } from '../../db/errors';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import { appendAudit, type Actor } from '../audit/audit-log';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import type { CampaignCreateInput, CampaignPatch, CampaignStatus, OutreachChannel } from './schemas';

export interface Campaign {
  id: string;
  workspaceId: string;
  name: string;
  description: string;
  status: CampaignStatus;
  channels: OutreachChannel[];
  activatedAt: Date | null;
  createdBy: string;
  updatedBy: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The moves between a campaign's statuses, in one place. */
export const CAMPAIGN_TRANSITIONS: Record<CampaignStatus, readonly CampaignStatus[]> = {
  draft: ['active', 'archived'],
  active: ['paused', 'archived'],
  paused: ['active', 'archived'],
  archived: [],
};

const columns = (sql: TxSql) => sql`
  c.id, c.workspace_id as "workspaceId", c.name, c.description, c.status, c.channels, c.activated_at as "activatedAt",
  c.created_by as "createdBy", c.updated_by as "updatedBy", c.created_at as "createdAt", c.updated_at as "updatedAt"`;

export interface CampaignFilter {
  status?: CampaignStatus;
  /** Campaigns created before this one (keyset paging, newest first). */
  before?: string;
  limit: number;
}

export async function listCampaigns(sql: TxSql, f: CampaignFilter, ws: WorkspaceRef): Promise<Campaign[]> {
  return sql<Campaign[]>`
    select ${columns(sql)} from campaigns c
    where c.workspace_id = ${workspaceIdOf(sql, ws)} and c.deleted_at is null
      ${f.status ? sql`and c.status = ${f.status}` : sql``}
      ${f.before ? sql`and (c.created_at, c.id) < (
        select p.created_at, p.id from campaigns p where p.id = ${f.before} and p.workspace_id = ${workspaceIdOf(sql, ws)})` : sql``}
    order by c.created_at desc, c.id desc
    limit ${f.limit}`;
}

export async function getCampaign(sql: TxSql, id: string, ws: WorkspaceRef, opts: { lock?: boolean } = {}): Promise<Campaign> {
  const [c] = await sql<Campaign[]>`
    select ${columns(sql)} from campaigns c
    where c.id = ${id} and c.workspace_id = ${workspaceIdOf(sql, ws)} and c.deleted_at is null
    ${opts.lock ? sql`for update` : sql``}`;
  if (!c) throw new NotFoundError('Campaign');
  return c;
}

const NAME_TAKEN = 'A campaign with this name already exists in this workspace.';

export async function createCampaign(sql: Sql, input: CampaignCreateInput, actor: Actor, ws: WorkspaceRef): Promise<Campaign> {
  return sql.begin(async (tx) => {
    const [row] = await tx<{ id: string; workspaceId: string }[]>`
      insert into campaigns (workspace_id, name, description, channels, created_by, updated_by)
      values (${workspaceIdOf(tx, ws)}, ${input.name}, ${input.description}, ${input.channels}, ${actor.name}, ${actor.name})
      returning id, workspace_id as "workspaceId"`.catch((err) => rethrowConstraint(err, { unique: NAME_TAKEN }));
    await appendAudit(tx, {
      actor, action: 'campaign.created', entityType: 'campaign', entityId: row!.id,
      details: { campaignId: row!.id, name: input.name, channels: input.channels, status: 'draft' }, workspaceId: row!.workspaceId,
    });
    return getCampaign(tx, row!.id, ws);
  });
}

function refuseMove(c: Campaign, to: CampaignStatus): never {
  const allowed = CAMPAIGN_TRANSITIONS[c.status];
  throw new ConflictError(
    c.status === 'archived'
      ? `The campaign "${c.name}" is archived; it cannot change any more.`
      : `A ${c.status} campaign cannot become ${to}; it may become ${allowed.join(' or ')}.`,
    { from: c.status, to, allowed },
  );
}

export async function updateCampaign(sql: Sql, id: string, patch: CampaignPatch, actor: Actor, ws: WorkspaceRef): Promise<Campaign> {
  return sql.begin(async (tx) => {
    const before = await getCampaign(tx, id, ws, { lock: true });
    if (before.status === 'archived') refuseMove(before, patch.status ?? 'archived');
    if (patch.status && patch.status !== before.status && !CAMPAIGN_TRANSITIONS[before.status].includes(patch.status)) refuseMove(before, patch.status);
    const after = { name: patch.name ?? before.name, description: patch.description ?? before.description, channels: patch.channels ?? before.channels, status: patch.status ?? before.status };
    const changes = Object.fromEntries(
      (['name', 'description', 'channels', 'status'] as const)
        .filter((k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]))
        .map((k) => [k, { from: before[k], to: after[k] }]),
    );
    if (!Object.keys(changes).length) return before;
    await tx`
      update campaigns set name = ${after.name}, description = ${after.description}, channels = ${after.channels}, status = ${after.status},
             updated_by = ${actor.name}, updated_at = now()
      where id = ${id}`.catch((err) => rethrowConstraint(err, { unique: NAME_TAKEN }));
    await appendAudit(tx, {
      actor, action: 'campaign.updated', entityType: 'campaign', entityId: id,
      details: { campaignId: id, name: after.name, changes }, workspaceId: before.workspaceId,
    });
    return getCampaign(tx, id, ws);
  });
}

/** Draft or paused → active. Activating an active campaign changes nothing (a retry is answered as the first was). */
export async function activateCampaign(sql: Sql, id: string, actor: Actor, ws: WorkspaceRef): Promise<Campaign> {
  return sql.begin(async (tx) => {
    const c = await getCampaign(tx, id, ws, { lock: true });
    if (c.status === 'active') return c;
    if (!CAMPAIGN_TRANSITIONS[c.status].includes('active')) refuseMove(c, 'active');
    if (!c.channels.length) throw new ConflictError(`The campaign "${c.name}" has no channel; give it at least one (PATCH channels) before activating it.`);
    await tx`
      update campaigns set status = 'active', activated_at = now(), updated_by = ${actor.name}, updated_at = now()
      where id = ${id}`;
    await appendAudit(tx, {
      actor, action: 'campaign.activated', entityType: 'campaign', entityId: id,
      details: { campaignId: id, name: c.name, from: c.status, channels: c.channels }, workspaceId: c.workspaceId,
    });
    return getCampaign(tx, id, ws);
  });
}

/** The campaign a lead or draft is created in: of the caller's workspace, and not archived. */
export async function campaignForWork(tx: TxSql, campaignId: string, ws: WorkspaceRef): Promise<Campaign> {
  const c = await getCampaign(tx, campaignId, ws).catch((err) => {
    if (err instanceof NotFoundError) throw refusedReference('campaignId', 'campaign');
    throw err;
  });
  if (c.status === 'archived') throw new ConflictError(`The campaign "${c.name}" is archived; it takes no new leads or drafts.`);
  return c;
}


/** A body naming a record the caller's workspace does not hold: refused as a bad value (400), nothing written. */
export function refusedReference(field: string, what: string): ValidationError {
  const message = `${field} names no ${what} of this workspace.`;
  return new ValidationError(message, [{ path: field, message }]);
}

// ctx.outreach: what a mission task's pattern may do with seed 002's pipeline.
// The pattern never reaches the database: each call crosses to the host as
// plain data, is validated here with the API's own schemas, and runs through
// the same domain functions as the API (audited, with their events), in the
// run's workspace, as the run's actor with an operator's rights at most (seed
// 002: agents and operators create and update leads and drafts; decisions and
// overrides are people's). Every call is idempotent across the task's
// attempts: a lead or draft is created under the pattern's own `key`, or under
// the task run and the call's number; updates, moves and submissions that
// repeat change nothing.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Sql } from '../../db/sql';
import { ValidationError } from '../../lib/errors';
import type { Actor } from '../audit/audit-log';
import { listCampaigns } from './campaigns';
import { createDraft, submitDraft, updateDraft } from './drafts';
import { createLead, getLead, listLeads, moveLead, updateLead, type Lead } from './leads';
import {
  CAMPAIGN_STATUSES, LEAD_SCORES, LEAD_STATUSES, draftCreateSchema, leadCreateSchema, leadPatchSchema, leadStatusSchema,
} from './schemas';

/** Calls one run may make; a pattern that loops on them stops here, not at its timeout. */
export const MAX_OUTREACH_CALLS_PER_RUN = 1000;

export interface OutreachHostContext {
  sql: Sql;
  workspaceId: string;
  actor: Actor;
  /** The same for every attempt of one task run: the default key of what the run creates. */
  effectsKey: string;
  /** The run and task that create drafts, linked to them. */
  workflowId?: string | null;
  taskId?: string | null;
}

const uuid = z.string().uuid('an id is a UUID');
const key = z.string().trim().min(1).max(150).optional();
const leadsFilter = z.strictObject({
  campaignId: uuid.optional(),
  status: z.enum(LEAD_STATUSES).optional(),
  score: z.enum(LEAD_SCORES).optional(),
  limit: z.number().int().min(1).max(500).default(100),
}).default({ limit: 100 });
const campaignsFilter = z.strictObject({ status: z.enum(CAMPAIGN_STATUSES).optional() }).default({});
const leadInput = leadCreateSchema.omit({ sourceKey: true }).extend({ key });
const draftInput = draftCreateSchema.omit({ runWorkflowId: true, runTaskId: true, sourceKey: true }).extend({
  key, submit: z.boolean().default(false),
});

/** The fields of a lead a pattern sees. */
const leadView = (l: Lead) => ({
  id: l.id, campaignId: l.campaignId, campaignName: l.campaignName, name: l.name, company: l.company, email: l.email, website: l.website,
  status: l.status, score: l.score, effectiveScore: l.effectiveScore, notes: l.notes,
});

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new ValidationError(`ctx.outreach.${what}: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
}

/** The host side of ctx.outreach.<op>(...args) for one run. */
export function outreachHost(h: OutreachHostContext): (op: string, args: unknown[]) => Promise<unknown> {
  const ws = { id: h.workspaceId };
  const operator = { ...h.actor, role: 'OPERATOR' as const };
  let calls = 0;
  let created = 0;
  /** The pattern's key, or this run's n-th creation: the same on every attempt of a deterministic pattern. */
  const sourceKey = (kind: string, own: string | undefined) => {
    const k = own ? `${kind}:${own}` : `${kind}:${h.effectsKey}#${++created}`;
    return k.length <= 200 ? k : `${kind}:sha256:${createHash('sha256').update(k).digest('hex')}`;
  };

  const ops: Record<string, (args: unknown[]) => Promise<unknown>> = {
    async campaigns([filter]) {
      const f = parse(campaignsFilter, filter ?? undefined, 'campaigns(filter)');
      const list = await listCampaigns(h.sql, { ...f, limit: 200 } as Parameters<typeof listCampaigns>[1], ws);
      return list.map((c) => ({ id: c.id, name: c.name, status: c.status, channels: c.channels }));
    },
    async leads([filter]) {
      const f = parse(leadsFilter, filter ?? undefined, 'leads(filter)');
      return (await listLeads(h.sql, f, ws)).map(leadView);
    },
    async createLead([lead]) {
      const { key: own, ...input } = parse(leadInput, lead, 'createLead(lead)');
      const r = await createLead(h.sql, { ...input, sourceKey: sourceKey('lead', own) }, h.actor, ws);
      return { lead: leadView(r.lead), created: r.created };
    },
    async updateLead([id, patch]) {
      const leadId = parse(uuid, id, 'updateLead(id, patch): id');
      return leadView(await updateLead(h.sql, leadId, parse(leadPatchSchema, patch, 'updateLead(id, patch)'), h.actor, ws));
    },
    async moveLead([id, status, note]) {
      const leadId = parse(uuid, id, 'moveLead(id, status, note)');
      const move = parse(leadStatusSchema, { status, ...(note === undefined ? {} : { note }) }, 'moveLead(id, status, note)');
      return leadView(await moveLead(h.sql, leadId, move, operator, ws));
    },
    async createDraft([draft]) {
      const { key: own, submit, ...input } = parse(draftInput, draft, 'createDraft(draft)');
      if (input.leadId) await getLead(h.sql, input.leadId, ws); // a lead of this workspace, or a clear 404
      const run = h.workflowId && /^mission-[0-9a-f-]{36}-/.test(h.workflowId) ? { runWorkflowId: h.workflowId, ...(h.taskId ? { runTaskId: h.taskId } : {}) } : {};
      const r = await createDraft(h.sql, { ...input, ...run, sourceKey: sourceKey('draft', own) }, h.actor, ws);
      let d = r.draft;
      // The same draft written again after changes were requested (or it was rejected): its new version.
      if (!r.created && (d.status === 'DRAFT' || d.status === 'REJECTED') && (d.subject !== (input.subject ?? null) || d.body !== input.body)) {
        d = await updateDraft(h.sql, d.id, { subject: input.subject ?? null, body: input.body, note: input.note || 'Written again by its task' }, h.actor, ws);
      }
      if (submit && d.status === 'DRAFT') d = await submitDraft(h.sql, d.id, h.actor, ws);
      return { draft: { id: d.id, campaignId: d.campaignId, leadId: d.leadId, channel: d.channel, subject: d.subject, status: d.status, version: d.currentVersion }, created: r.created };
    },
    /** The last 24 hours of the pipeline, from its events: how many of each kind (approval.* are drafts' decisions), for a daily brief. */
    async today() {
      const rows = await h.sql<{ type: string; n: number }[]>`
        select type, count(*)::int as n from events
        where workspace_id = ${h.workspaceId} and at > now() - interval '24 hours'
          and (entity_type in ('lead', 'draft', 'campaign') or type like 'run.%')
        group by type order by type`;
      return Object.fromEntries(rows.map((r) => [r.type, r.n]));
    },
  };

  return async (op, args) => {
    const fn = Object.hasOwn(ops, op) ? ops[op] : undefined;
    if (!fn) throw new ValidationError(`ctx.outreach has no ${op.slice(0, 40)}; it has ${Object.keys(ops).join(', ')}.`);
    if (++calls > MAX_OUTREACH_CALLS_PER_RUN) throw new ValidationError(`A run may make at most ${MAX_OUTREACH_CALLS_PER_RUN} ctx.outreach calls.`);
    return fn(args);
  };
}

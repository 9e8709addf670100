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
import { createWorkItem, listWorkItems, noteWorkItem, updateWorkItem, type WorkItem } from '../board/work-items';
import { WORK_COLUMNS, workItemCreateSchema, workItemNoteSchema } from '../board/work-item-schemas';
import { noteText } from '../../lib/text';
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

const taskInput = workItemCreateSchema.omit({ workflowId: true, taskId: true, sourceKey: true }).extend({ key });
const tasksFilter = z.strictObject({
  column: z.enum(WORK_COLUMNS).optional(),
  campaignId: uuid.optional(),
  limit: z.number().int().min(1).max(200).default(50),
}).default({ limit: 50 });
const taskMove = z.strictObject({ column: z.enum(WORK_COLUMNS), note: noteText().optional() });

/** The fields of a work item a pattern sees. */
const taskView = (w: WorkItem) => ({
  id: w.id, title: w.title, column: w.column, priority: w.priority, campaignId: w.campaignId, leadId: w.leadId, draftId: w.draftId,
  workflowId: w.workflowId, taskId: w.taskId,
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
  let notes = 0;
  /** This run and task, when the run is a mission's. */
  const runLink = (): { workflowId?: string; taskId?: string } =>
    (h.workflowId && /^mission-[0-9a-f-]{36}-/.test(h.workflowId) ? { workflowId: h.workflowId, ...(h.taskId ? { taskId: h.taskId } : {}) } : {});
  /** The pattern's key, or this run's n-th creation: the same on every attempt of a deterministic pattern. */
  const bounded = (kind: string, k: string) => (k.length <= 200 ? k : `${kind}:sha256:${createHash('sha256').update(k).digest('hex')}`);
  const sourceKey = (kind: string, own: string | undefined) => bounded(kind, own ? `${kind}:${own}` : `${kind}:${h.effectsKey}#${++created}`);

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
      const link = runLink();
      const run = link.workflowId ? { runWorkflowId: link.workflowId, ...(link.taskId ? { runTaskId: link.taskId } : {}) } : {};
      const r = await createDraft(h.sql, { ...input, ...run, sourceKey: sourceKey('draft', own) }, h.actor, ws);
      let d = r.draft;
      // The same draft written again after changes were requested (or it was rejected): its new version.
      if (!r.created && (d.status === 'DRAFT' || d.status === 'REJECTED') && (d.subject !== (input.subject ?? null) || d.body !== input.body)) {
        d = await updateDraft(h.sql, d.id, { subject: input.subject ?? null, body: input.body, note: input.note || 'Written again by its task' }, h.actor, ws);
      }
      if (submit && d.status === 'DRAFT') d = await submitDraft(h.sql, d.id, h.actor, ws);
      return { draft: { id: d.id, campaignId: d.campaignId, leadId: d.leadId, channel: d.channel, subject: d.subject, status: d.status, version: d.currentVersion }, created: r.created };
    },
    /** A work item on the task board, linked to this run and task; DONE is an admin's to set. */
    async createTask([task]) {
      const { key: own, ...input } = parse(taskInput, task, 'createTask(task)');
      const r = await createWorkItem(h.sql, { ...input, ...runLink(), sourceKey: sourceKey('task', own) }, operator, ws);
      return { task: taskView(r.item), created: r.created };
    },
    async tasks([filter]) {
      const f = parse(tasksFilter, filter ?? undefined, 'tasks(filter)');
      return (await listWorkItems(h.sql, f, ws)).map(taskView);
    },
    async moveTask([id, column, note]) {
      const itemId = parse(uuid, id, 'moveTask(id, column, note)');
      const move = parse(taskMove, { column, ...(note === undefined ? {} : { note }) }, 'moveTask(id, column, note)');
      return taskView(await updateWorkItem(h.sql, itemId, move, operator, ws));
    },
    /** A note on a work item's timeline; a retried task writes each of its notes once. */
    async noteTask([id, note]) {
      const itemId = parse(uuid, id, 'noteTask(id, note)');
      const { note: text } = parse(workItemNoteSchema, { note }, 'noteTask(id, note)');
      await noteWorkItem(h.sql, itemId, text, h.actor, ws, bounded('note', `note:${h.effectsKey}#${++notes}`));
      return { noted: true };
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

// What the API accepts for campaigns, leads and drafts (seed 002's outreach
// pipeline), and the pipeline's names: statuses, scores, channels, decisions.
import { z } from 'zod';
import { noteText, notesText, reasonText, text } from '../../lib/text';

/** Seed 002's Channel; the safety settings name the same channels in lower case. */
export const OUTREACH_CHANNELS = ['EMAIL', 'FACEBOOK', 'INSTAGRAM', 'LINKEDIN'] as const;
export type OutreachChannel = (typeof OUTREACH_CHANNELS)[number];

export const CAMPAIGN_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export const LEAD_STATUSES = ['NEW', 'ENRICHED', 'DRAFTED', 'APPROVED', 'CONTACTED', 'REPLIED', 'BOOKED', 'LOST'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

export const LEAD_SCORES = ['A', 'B', 'C'] as const;
export type LeadScore = (typeof LEAD_SCORES)[number];

export const DRAFT_STATUSES = ['DRAFT', 'NEEDS_APPROVAL', 'APPROVED', 'REJECTED'] as const;
export type DraftStatus = (typeof DRAFT_STATUSES)[number];

/** Seed 002's ApprovalAction, as decisions on drafts record it. */
export const DRAFT_DECISIONS = ['APPROVE', 'REJECT', 'REQUEST_CHANGES', 'EDIT_INLINE_APPROVE', 'APPROVE_WITH_NOTES'] as const;
export type DraftDecisionAction = (typeof DRAFT_DECISIONS)[number];

const id = (what: string) => z.uuid(`${what} must be an id (a UUID).`);
const name = (what: string, max: number) => text().trim().min(1, `${what} needs a name.`).max(max, `A name is at most ${max} characters.`);
const optionalText = (max: number, what: string) => text().trim().max(max, `${what} is at most ${max} characters.`).transform((s) => s || null);
const channels = z.array(z.enum(OUTREACH_CHANNELS)).max(4).transform((cs) => [...new Set(cs)]);
const sourceKey = text().trim().min(1, 'A sourceKey is not empty.').max(200, 'A sourceKey is at most 200 characters.');
const email = text().trim().toLowerCase().max(320, 'An email address is at most 320 characters.')
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'An email address looks like name@example.com.');
const url = text().trim().max(500, 'A URL is at most 500 characters.').regex(/^https?:\/\/[^\s]+$/i, 'A website is an http(s) URL.');

export const campaignCreateSchema = z.strictObject({
  name: name('A campaign', 120),
  description: text().trim().max(2000, 'A description is at most 2000 characters.').default(''),
  channels: channels.default([]),
});
export type CampaignCreateInput = z.infer<typeof campaignCreateSchema>;

/** Activation has its own route (campaign.activated); a patch pauses or archives. */
export const campaignPatchSchema = z.strictObject({
  name: name('A campaign', 120).optional(),
  description: text().trim().max(2000, 'A description is at most 2000 characters.').optional(),
  channels: channels.optional(),
  status: z.enum(['paused', 'archived'], 'A patch sets status to paused or archived; activate with POST /api/campaigns/:id/activate.').optional(),
});
export type CampaignPatch = z.infer<typeof campaignPatchSchema>;

const leadFields = {
  name: name('A lead', 200),
  company: optionalText(200, 'A company').nullable(),
  email: email.or(z.literal('').transform(() => null)).nullable(),
  website: url.or(z.literal('').transform(() => null)).nullable(),
  linkedin: optionalText(300, 'A LinkedIn URL or handle').nullable(),
  facebook: optionalText(300, 'A Facebook URL or handle').nullable(),
  instagram: optionalText(300, 'An Instagram handle').nullable(),
  /** The computed score (enrichment); an admin's override is its own route. */
  score: z.enum(LEAD_SCORES).nullable(),
  notes: notesText(),
};

export const leadPatchSchema = z.strictObject({
  name: leadFields.name.optional(),
  company: leadFields.company.optional(),
  email: leadFields.email.optional(),
  website: leadFields.website.optional(),
  linkedin: leadFields.linkedin.optional(),
  facebook: leadFields.facebook.optional(),
  instagram: leadFields.instagram.optional(),
  score: leadFields.score.optional(),
  notes: leadFields.notes.optional(),
});
export type LeadPatch = z.infer<typeof leadPatchSchema>;

export const leadCreateSchema = leadPatchSchema.extend({
  campaignId: id('campaignId'),
  name: leadFields.name,
  sourceKey: sourceKey.optional(),
});
export type LeadCreateInput = z.infer<typeof leadCreateSchema>;

export const leadStatusSchema = z.strictObject({ status: z.enum(LEAD_STATUSES), note: noteText().optional() });

export const scoreOverrideSchema = z.strictObject({
  score: z.enum(LEAD_SCORES).nullable(),
  reason: reasonText().min(1, 'A score override needs a reason (and so does clearing one).'),
});

const subject = text().trim().max(300, 'A subject is at most 300 characters.').transform((s) => s || null).nullable();
const body = text().min(1, 'A draft needs a body.').max(20_000, 'A body is at most 20000 characters.').refine((s) => s.trim().length > 0, 'A draft needs a body.');

export const draftCreateSchema = z.strictObject({
  campaignId: id('campaignId'),
  leadId: id('leadId').nullable().optional(),
  channel: z.enum(OUTREACH_CHANNELS),
  subject: subject.optional(),
  body,
  note: noteText().optional(),
  /** The mission run and task that wrote it: a run's workflow id, and the id of the mission's task. */
  runWorkflowId: text().regex(/^mission-[0-9a-f-]{36}-[\w:.-]{1,100}$/, 'runWorkflowId is a mission run id (mission-<missionId>-<suffix>).').optional(),
  runTaskId: id('runTaskId').optional(),
  sourceKey: sourceKey.optional(),
});
export type DraftCreateInput = z.infer<typeof draftCreateSchema>;

/** Subject or body: a new version (with its note); leadId: relinked within the campaign. */
export const draftPatchSchema = z.strictObject({
  subject: subject.optional(),
  body: body.optional(),
  note: noteText().optional(),
  leadId: id('leadId').nullable().optional(),
}).refine((p) => p.subject !== undefined || p.body !== undefined || p.leadId !== undefined, 'Change the subject, the body or the lead.');
export type DraftPatch = z.infer<typeof draftPatchSchema>;

/** `version`, when given, is the version the reviewer read: a decision on any other is refused. */
const version = z.number().int().min(1).max(2_147_483_647).optional();
const requiredNotes = (what: string) => notesText().min(1, `${what} needs notes.`);

export const decisionSchemas = {
  APPROVE: z.strictObject({ notes: notesText().optional(), version }),
  REJECT: z.strictObject({ notes: notesText().optional(), version }),
  REQUEST_CHANGES: z.strictObject({ notes: requiredNotes('Requesting changes'), version }),
  EDIT_INLINE_APPROVE: z.strictObject({ subject: subject.optional(), body, notes: notesText().optional(), version }),
  APPROVE_WITH_NOTES: z.strictObject({ notes: requiredNotes('Approving with notes'), version }),
} as const;
export type DecisionInput = { notes?: string; version?: number; subject?: string | null; body?: string };

/** Without `to`, the current version; without `from`, the version before `to`. */
export const versionDiffQuery = z.object({
  from: z.coerce.number().int().min(1).max(2_147_483_647).optional(),
  to: z.coerce.number().int().min(1).max(2_147_483_647).optional(),
});

// The outreach pages' forms, read into the same inputs the JSON API takes
// (core/outreach/schemas.ts), with mistakes said by the field's label. What was
// typed is kept, so a refused form comes back as it was sent.
import {
  DRAFT_DECISIONS, OUTREACH_CHANNELS, campaignCreateSchema, decisionSchemas, draftPatchSchema, leadStatusSchema, scoreOverrideSchema,
  type DraftDecisionAction,
} from '../../../core/outreach/schemas';
import { ValidationError } from '../../../lib/errors';
import { str, type FormValue } from '../common';
import { intField, raw } from '../form-problem';
import { labelled, parsed } from '../agents/agent-forms';

type Form = Record<string, FormValue>;
const list = (form: Form, key: string): string[] => { const v = form[key]; return v === undefined ? [] : Array.isArray(v) ? v : [v]; };

// ---- campaigns ----

export interface CampaignValues { name: string; description: string; channels: string[] }
export const CAMPAIGN_DEFAULTS: CampaignValues = { name: '', description: '', channels: ['EMAIL'] };

export const campaignValues = (form: Form): CampaignValues => ({
  name: str(form, 'name'), description: raw(form, 'description').trim(), channels: list(form, 'channels').map((c) => c.trim()).filter(Boolean),
});

export function campaignInput(v: CampaignValues) {
  const unknown = v.channels.find((c) => !(OUTREACH_CHANNELS as readonly string[]).includes(c));
  if (unknown !== undefined) throw new ValidationError(`Channels: choose among ${OUTREACH_CHANNELS.join(', ')}.`, [{ path: 'channels', message: 'not a channel' }]);
  return parsed(campaignCreateSchema, v, labelled({ name: 'Name', description: 'Description', channels: 'Channels' }));
}

// ---- leads ----

export interface OverrideValues { score: string; reason: string }
export const OVERRIDE_DEFAULTS: OverrideValues = { score: '', reason: '' };
export const overrideValues = (form: Form): OverrideValues => ({ score: str(form, 'score'), reason: raw(form, 'reason').trim() });

/** An empty score clears the override (with a reason too). */
export const overrideInput = (v: OverrideValues) =>
  parsed(scoreOverrideSchema, { score: v.score || null, reason: v.reason }, labelled({ score: 'Score', reason: 'Reason' }));

export interface MoveValues { status: string; note: string }
export const MOVE_DEFAULTS: MoveValues = { status: '', note: '' };
export const moveValues = (form: Form): MoveValues => ({ status: str(form, 'status'), note: str(form, 'note') });

export function moveInput(v: MoveValues) {
  if (!v.status) throw new ValidationError('Move: choose one of the moves listed.', [{ path: 'status', message: 'required' }]);
  return parsed(leadStatusSchema, { status: v.status, note: v.note || undefined }, labelled({ status: 'Move to', note: 'Note' }));
}

// ---- drafts ----

export interface DraftValues { subject: string; body: string; note: string }
export const draftValues = (form: Form): DraftValues => ({ subject: str(form, 'subject'), body: raw(form, 'body'), note: str(form, 'note') });

export const draftInput = (v: DraftValues) =>
  parsed(draftPatchSchema, { subject: v.subject, body: v.body, note: v.note || undefined }, labelled({ subject: 'Subject', body: 'Body', note: 'Note' }));

export interface DecisionValues { action: string; notes: string; version: string; subject: string; body: string }
export const decisionValues = (form: Form): DecisionValues => ({
  action: str(form, 'action'), notes: raw(form, 'notes').trim(), version: str(form, 'version'), subject: str(form, 'subject'), body: raw(form, 'body'),
});

export function decisionInput(v: DecisionValues): { action: DraftDecisionAction; input: { notes?: string; version?: number; subject?: string | null; body?: string } } {
  const action = (DRAFT_DECISIONS as readonly string[]).includes(v.action) ? (v.action as DraftDecisionAction) : null;
  if (!action) throw new ValidationError('Decision: choose one of the decisions offered.', [{ path: 'action', message: 'not a decision' }]);
  const version = intField(v.version, 'Version');
  const body = action === 'EDIT_INLINE_APPROVE' ? { subject: v.subject, body: v.body } : {};
  const input = parsed(decisionSchemas[action], { ...body, notes: v.notes, version }, labelled({ notes: 'Notes', version: 'Version', subject: 'Subject', body: 'Body' }));
  return { action, input };
}

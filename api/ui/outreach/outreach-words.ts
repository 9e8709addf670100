// The outreach pages' words: each status of a campaign, lead and draft as a
// word, a tone and a sentence (never colour alone), each decision as a verb,
// and a lead's audit entries as lines a person reads.
import type { AuditRow } from '../../../core/audit/audit-log';
import type { CampaignStatus, DraftDecisionAction, DraftStatus, LeadStatus } from '../../../core/outreach/schemas';

export type Tone = 'info' | 'ok' | 'warn' | 'bad' | 'idle';
export interface Words { word: string; tone: Tone; meaning: string }

export const CAMPAIGN_WORDS: Record<CampaignStatus, Words> = {
  draft: { word: 'Draft', tone: 'idle', meaning: 'being prepared: activate it to work its leads' },
  active: { word: 'Active', tone: 'ok', meaning: 'working its leads' },
  paused: { word: 'Paused', tone: 'warn', meaning: 'held: activate it again to go on' },
  archived: { word: 'Archived', tone: 'idle', meaning: 'finished: it changes no more' },
};

export const LEAD_WORDS: Record<LeadStatus, Words> = {
  NEW: { word: 'New', tone: 'idle', meaning: 'just added' },
  ENRICHED: { word: 'Enriched', tone: 'info', meaning: 'researched, ready for a draft' },
  DRAFTED: { word: 'Drafted', tone: 'info', meaning: 'a message is written for it' },
  APPROVED: { word: 'Approved', tone: 'ok', meaning: 'its message is approved: a closer may contact it' },
  CONTACTED: { word: 'Contacted', tone: 'info', meaning: 'reached out to' },
  REPLIED: { word: 'Replied', tone: 'ok', meaning: 'answered' },
  BOOKED: { word: 'Booked', tone: 'ok', meaning: 'a meeting is booked' },
  LOST: { word: 'Lost', tone: 'bad', meaning: 'no longer worked' },
};

export const DRAFT_WORDS: Record<DraftStatus, Words> = {
  DRAFT: { word: 'Draft', tone: 'idle', meaning: 'being written: submit it for approval' },
  NEEDS_APPROVAL: { word: 'Needs approval', tone: 'warn', meaning: 'waiting for an admin’s decision' },
  APPROVED: { word: 'Approved', tone: 'ok', meaning: 'approved: its content is final' },
  REJECTED: { word: 'Rejected', tone: 'bad', meaning: 'rejected: change it to make it a draft again' },
};

/** Each decision as its button says it, and what it did once made. */
export const DECISION_WORDS: Record<DraftDecisionAction, { verb: string; done: string }> = {
  APPROVE: { verb: 'Approve', done: 'Approved' },
  APPROVE_WITH_NOTES: { verb: 'Approve with notes', done: 'Approved with notes' },
  REQUEST_CHANGES: { verb: 'Request changes', done: 'Asked for changes' },
  REJECT: { verb: 'Reject', done: 'Rejected' },
  EDIT_INLINE_APPROVE: { verb: 'Edit inline and approve', done: 'Edited and approved' },
};

export interface HistoryLine { id: string; at: Date; actor: string; action: string; text: string; tone: Tone }

const s = (v: unknown): string | null => (typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : null);
const leadWord = (v: unknown) => (typeof v === 'string' && v in LEAD_WORDS ? LEAD_WORDS[v as LeadStatus].word : s(v) ?? '?');
const score = (v: unknown) => s(v) ?? 'none';

/** One audit entry about a lead, in words. */
export function leadHistoryLine(e: AuditRow): HistoryLine {
  const d = (e.details ?? {}) as Record<string, unknown>;
  const line = (text: string, tone: Tone = 'info'): HistoryLine => ({ id: e.id, at: e.at, actor: e.actor, action: e.action, text, tone });
  switch (e.action) {
    case 'lead.created': return line(`Added to the campaign${s(d.score) ? `, scored ${d.score}` : ''}`, 'ok');
    case 'lead.status_changed': return line(`${leadWord(d.from)} → ${leadWord(d.to)}${s(d.note) ? `: “${d.note}”` : ''}`, d.to === 'LOST' ? 'bad' : 'info');
    case 'lead.score.overridden':
      return line(d.to ? `Score overridden to ${score(d.to)} (was ${score(d.from)}): “${s(d.reason) ?? ''}”` : `Score override cleared: “${s(d.reason) ?? ''}”`, 'warn');
    case 'lead.updated': {
      const changed = d.changes && typeof d.changes === 'object' ? Object.keys(d.changes) : [];
      return line(`Changed ${changed.length ? changed.join(', ') : 'its details'}`);
    }
  }
  return line(e.action);
}

// What each outreach page shows, loaded in the request's workspace: campaigns
// with their numbers as bar charts, a lead with the moves the viewer's role may
// make and its history, a draft with its versions, a diff and its decisions.
import type { Sql } from '../../../db/sql';
import { listAudit } from '../../../core/audit/audit-log';
import { getCampaign, listCampaigns, type Campaign } from '../../../core/outreach/campaigns';
import { listDecisions } from '../../../core/outreach/decisions';
import { diffDraftVersions, getDraft, listDrafts, listDraftVersions, type Draft, type DraftDiff } from '../../../core/outreach/drafts';
import { LEAD_TRANSITIONS, getLead, leadNames, listLeads, movesFrom, type Lead } from '../../../core/outreach/leads';
import { campaignMetrics, type CampaignMetrics } from '../../../core/outreach/metrics';
import { DRAFT_STATUSES, LEAD_SCORES, LEAD_STATUSES, type LeadStatus } from '../../../core/outreach/schemas';
import type { Role } from '../../../lib/names';
import type { WorkspaceRef } from '../../../core/access/users';
import { listWorkItems } from '../../../core/board/work-items';
import { barChart, type BarChart } from './bars';
import { DRAFT_WORDS, LEAD_WORDS, leadHistoryLine } from './outreach-words';

export const PER_PAGE = 50;

export interface CampaignCharts { leads: BarChart; scores: BarChart; drafts: BarChart }

/** A campaign's numbers as three charts, `width` × `height` each. */
export function campaignCharts(m: CampaignMetrics, width: number, height: number): CampaignCharts {
  return {
    leads: barChart('Leads by status', LEAD_STATUSES.map((s) => ({ key: s, label: LEAD_WORDS[s].word, count: m.leads.byStatus[s] })), width, height),
    scores: barChart('Leads by effective score', [...LEAD_SCORES, 'none' as const].map((s) => ({ key: s, label: s === 'none' ? 'no score' : s, count: m.leads.byScore[s] })), width, height),
    drafts: barChart('Drafts by status', DRAFT_STATUSES.map((s) => ({ key: s, label: DRAFT_WORDS[s].word, count: m.drafts.byStatus[s] })), width, height),
  };
}

/** A page of campaigns (newest first), each with its charts; `older` is the cursor of the next page. */
export async function loadCampaignList(sql: Sql, ws: WorkspaceRef, before?: string) {
  const rows = await listCampaigns(sql, { before, limit: PER_PAGE + 1 }, ws);
  const shown = rows.slice(0, PER_PAGE);
  const items = await Promise.all(shown.map(async (campaign) => ({ campaign, charts: campaignCharts(await campaignMetrics(sql, campaign.id, ws), 96, 24) })));
  return { items, older: rows.length > PER_PAGE ? shown.at(-1)!.id : null };
}

export async function loadCampaign(sql: Sql, id: string, ws: WorkspaceRef) {
  const campaign = await getCampaign(sql, id, ws);
  const [metrics, leads, drafts] = await Promise.all([
    campaignMetrics(sql, id, ws), listLeads(sql, { campaignId: id, limit: PER_PAGE }, ws), listDrafts(sql, { campaignId: id, limit: PER_PAGE }, ws),
  ]);
  const names = await leadNames(sql, drafts.flatMap((d) => (d.leadId ? [d.leadId] : [])), ws);
  return { campaign, metrics, charts: campaignCharts(metrics, 240, 64), leads, drafts: drafts.map((d) => draftRow(d, campaign.name, names)) };
}

/** Every campaign of the workspace, for filters and names (the newest 200). */
export const campaignChoices = (sql: Sql, ws: WorkspaceRef) => listCampaigns(sql, { limit: 200 }, ws);

export interface DraftRow { draft: Draft; campaignName: string; leadName: string | null }
const draftRow = (draft: Draft, campaignName: string, leads: Map<string, string>): DraftRow =>
  ({ draft, campaignName, leadName: draft.leadId ? leads.get(draft.leadId) ?? null : null });

export async function draftRows(sql: Sql, drafts: Draft[], campaigns: Campaign[], ws: WorkspaceRef): Promise<DraftRow[]> {
  const byId = new Map(campaigns.map((c) => [c.id, c.name]));
  const names = await leadNames(sql, drafts.flatMap((d) => (d.leadId ? [d.leadId] : [])), ws);
  return drafts.map((d) => draftRow(d, byId.get(d.campaignId) ?? 'a campaign', names));
}

export interface Move { to: LeadStatus; least: Role }

/** A lead, the moves `role` may make from its status and those that need a higher role, its drafts and its history. */
export async function loadLead(sql: Sql, id: string, role: Role, ws: WorkspaceRef) {
  const lead: Lead = await getLead(sql, id, ws);
  const allowed = movesFrom(lead.status, role);
  const moves: Move[] = (Object.entries(LEAD_TRANSITIONS[lead.status]) as [LeadStatus, Role][]).map(([to, least]) => ({ to, least }));
  const [drafts, audit, workItems] = await Promise.all([
    listDrafts(sql, { leadId: id, limit: PER_PAGE }, ws),
    listAudit(sql, { entityType: 'lead', entityId: id, limit: 50 }, ws),
    listWorkItems(sql, { leadId: id, limit: 20 }, ws),
  ]);
  return {
    lead,
    moves: moves.filter((m) => allowed.includes(m.to)),
    beyond: moves.filter((m) => !allowed.includes(m.to)),
    drafts: drafts.map((d) => draftRow(d, lead.campaignName, new Map([[lead.id, lead.name]]))),
    history: audit.map(leadHistoryLine),
    workItems,
  };
}
export type LeadPage = Awaited<ReturnType<typeof loadLead>>;

/** A draft with its campaign and lead, its versions (newest first), a diff between two of them and its decisions. */
export async function loadDraft(sql: Sql, id: string, ws: WorkspaceRef, range: { from?: number; to?: number } = {}) {
  const draft = await getDraft(sql, id, ws);
  const [campaign, lead, versions, decisions, workItems] = await Promise.all([
    getCampaign(sql, draft.campaignId, ws), draft.leadId ? getLead(sql, draft.leadId, ws) : Promise.resolve(null),
    listDraftVersions(sql, id, ws), listDecisions(sql, draft), listWorkItems(sql, { draftId: id, limit: 20 }, ws),
  ]);
  const diff = await loadDiff(sql, draft, range, ws);
  return { draft, campaign, lead, versions, decisions, diff, workItems };
}
export type DraftPage = Awaited<ReturnType<typeof loadDraft>>;

/** The diff asked for; by default the current version against the one before (none while there is one version only). */
export async function loadDiff(sql: Sql, draft: Draft, range: { from?: number; to?: number }, ws: WorkspaceRef): Promise<DraftDiff | null> {
  if (range.from === undefined && range.to === undefined && draft.currentVersion < 2) return null;
  return diffDraftVersions(sql, draft.id, range, ws);
}

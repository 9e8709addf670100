// A campaign's numbers: its leads by status and by effective score (the
// override when there is one), and its drafts by status. Every status and
// score is present, zero when nothing has it, so a reader never guesses.
import type { TxSql } from '../../db/sql';
import type { WorkspaceRef } from '../access/users';
import { getCampaign } from './campaigns';
import { DRAFT_STATUSES, LEAD_SCORES, LEAD_STATUSES, type DraftStatus, type LeadScore, type LeadStatus } from './schemas';

export interface CampaignMetrics {
  campaignId: string;
  leads: {
    total: number;
    byStatus: Record<LeadStatus, number>;
    /** `none`: leads with neither a computed score nor an override. */
    byScore: Record<LeadScore | 'none', number>;
  };
  drafts: { total: number; byStatus: Record<DraftStatus, number> };
}

const zeros = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

export async function campaignMetrics(sql: TxSql, campaignId: string, ws: WorkspaceRef): Promise<CampaignMetrics> {
  const campaign = await getCampaign(sql, campaignId, ws);
  const leadRows = await sql<{ status: LeadStatus; score: LeadScore | null; n: number }[]>`
    select status, coalesce(score_override, score) as score, count(*)::int as n
    from leads where campaign_id = ${campaign.id} and workspace_id = ${campaign.workspaceId}
    group by 1, 2`;
  const draftRows = await sql<{ status: DraftStatus; n: number }[]>`
    select status, count(*)::int as n
    from drafts where campaign_id = ${campaign.id} and workspace_id = ${campaign.workspaceId}
    group by 1`;
  const byStatus = zeros(LEAD_STATUSES);
  const byScore = zeros([...LEAD_SCORES, 'none'] as const);
  for (const r of leadRows) {
    byStatus[r.status] += r.n;
    byScore[r.score ?? 'none'] += r.n;
  }
  const drafts = zeros(DRAFT_STATUSES);
  for (const r of draftRows) drafts[r.status] += r.n;
  return {
    campaignId: campaign.id,
    leads: { total: leadRows.reduce((s, r) => s + r.n, 0), byStatus, byScore },
    drafts: { total: draftRows.reduce((s, r) => s + r.n, 0), byStatus: drafts },
  };
}

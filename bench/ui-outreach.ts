// The outreach pages of bench/ui.ts: 10,000 leads and 2,000 drafts (seed
// 002's scale for a busy team) in one campaign of the default workspace,
// written straight into PostgreSQL (fixtures, not audited changes), so that
// /leads and /drafts are timed next to /runs with their data present.
import type { Stack } from './stack';
import { elapsed, log } from './lib';

export const LEADS = 10_000;
export const DRAFTS = 2_000;

const STATUSES = ['NEW', 'ENRICHED', 'DRAFTED', 'APPROVED', 'CONTACTED', 'REPLIED', 'BOOKED', 'LOST'];
const DRAFT_STATUSES = ['DRAFT', 'NEEDS_APPROVAL', 'APPROVED', 'REJECTED'];

export async function seedOutreach(stack: Stack): Promise<void> {
  const t0 = performance.now();
  const { sql } = stack;
  await sql.begin(async (tx) => {
    const [c] = await tx<{ id: string; ws: string }[]>`
      insert into campaigns (workspace_id, name, description, status, channels, activated_at, created_by, updated_by)
      values (mc_default_workspace(), 'Bench campaign', 'bench/ui.ts fixtures', 'active', '{EMAIL,LINKEDIN}', now(), 'bench', 'bench')
      returning id, workspace_id as ws`;
    await tx`
      insert into leads (workspace_id, campaign_id, name, company, email, status, score, notes, created_by, updated_by, created_at)
      select ${c!.ws}, ${c!.id}, 'Lead ' || n, 'Company ' || (n % 977), 'lead' || n || '@bench.example',
             (${STATUSES}::text[])[1 + n % 8], (array['A', 'B', 'C'])[1 + n % 3], 'employees: ' || (n % 300), 'bench', 'bench',
             now() - make_interval(secs => n)
      from generate_series(1, ${LEADS}) n`;
    await tx`
      insert into drafts (workspace_id, campaign_id, lead_id, channel, subject, body, status, created_by, updated_by, created_at)
      select ${c!.ws}, ${c!.id}, l.id, 'EMAIL', 'Hello ' || l.name, 'Hi ' || l.name || ', a message written for the bench.',
             (${DRAFT_STATUSES}::text[])[1 + (row_number() over ()) % 4], 'bench', 'bench', l.created_at
      from (select id, name, created_at from leads where campaign_id = ${c!.id} order by created_at desc limit ${DRAFTS}) l`;
    await tx`
      insert into draft_versions (workspace_id, draft_id, version, subject, body, author)
      select workspace_id, id, 1, subject, body, 'bench' from drafts where campaign_id = ${c!.id}`;
  });
  await sql`analyze leads`;
  await sql`analyze drafts`;
  log(`outreach fixtures: ${LEADS} leads and ${DRAFTS} drafts in ${elapsed(t0)}`);
}

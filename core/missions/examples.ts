// The example that ships with Mission Control: seed 002's five daily jobs
// (America/Toronto) as a container, patterns and scheduled missions, created
// on first start with their schedules paused so nothing fires until someone
// chooses to. Every pattern is dry-run safe: outbound goes through ctx.
import type { Sql } from '../../db/sql';
import type { TemporalHandle } from '../../lib/temporal';
import { SYSTEM_ACTOR } from '../audit/audit-log';
import { workspaceIdOf } from '../access/users';
import { createContainer } from '../patterns/containers';
import { missionInput } from './schemas';
import { createMission } from './missions';
import { createPattern, type CodeChecker } from '../patterns/patterns';
import { syncMissionSchedule } from '../schedules/sync';

const TZ = 'America/Toronto';

interface Job {
  name: string;
  cron: string;
  description: string;
  steps: { name: string; code: string; input: unknown; approval?: boolean }[];
}

export const DAILY_JOBS: Job[] = [
  {
    name: 'lead_research',
    cron: '0 9 * * *',
    description: 'Find new leads for each target segment.',
    steps: [{
      name: 'research',
      input: { segments: ['dealerships', 'fleet managers'], perSegment: 3 },
      code: `async (input, ctx) => {
  const leads = input.segments.flatMap((segment) =>
    Array.from({ length: input.perSegment }, (_, i) => ({ segment, name: \`\${segment} lead \${i + 1}\`, source: 'research' })));
  ctx.log(\`found \${leads.length} leads in \${input.segments.length} segments\`);
  return { leads };
}`,
    }],
  },
  {
    name: 'enrichment_scoring',
    cron: '30 9 * * *',
    description: 'Enrich the new leads and score them A, B or C.',
    steps: [{
      name: 'score',
      input: { leads: [{ name: 'Northside Motors', employees: 120 }, { name: 'Lakeshore Fleet', employees: 35 }, { name: 'Corner Garage', employees: 4 }] },
      code: `async (input, ctx) => {
  const scored = input.leads.map((lead) => ({ ...lead, score: lead.employees >= 100 ? 'A' : lead.employees >= 20 ? 'B' : 'C' }));
  ctx.log('scores', scored.map((l) => l.score).join(''));
  return { scored };
}`,
    }],
  },
  {
    name: 'outreach_drafting_qa',
    cron: '30 10 * * *',
    description: 'Draft outreach for A leads and push it to approvals; approved drafts are queued on the email channel.',
    steps: [
      {
        name: 'draft',
        approval: true,
        input: { leads: [{ name: 'Northside Motors', contact: 'ops@northside.example' }] },
        code: `async (input, ctx) => ({
  drafts: input.leads.map((lead) => ({
    to: lead.contact,
    subject: \`A faster way to list inventory, \${lead.name}\`,
    body: \`Hi \${lead.name} team,\\n\\nWe help dealers post inventory in minutes.\${ctx.notes ? '\\n\\n' + ctx.notes : ''}\`,
  })),
})`,
      },
      {
        name: 'queue_send',
        input: {},
        code: `async (input, ctx) => {
  const results = [];
  for (const draft of ctx.previous.draft.drafts) results.push(await ctx.outbound.send('email', draft));
  return { queued: results.length, results };
}`,
      },
    ],
  },
  {
    name: 'content_research_creation_qa',
    cron: '0 12 * * *',
    description: 'Research a topic and draft a post, pushed to approvals.',
    steps: [{
      name: 'post',
      approval: true,
      input: { topic: 'spring inventory', channel: 'linkedin' },
      code: `async (input, ctx) => ({
  channel: input.channel,
  post: \`Three things buyers ask about \${input.topic} — and how we answer them.\`,
  researchedAt: new Date(ctx.now()).toISOString(),
})`,
    }],
  },
  {
    name: 'daily_brief',
    cron: '30 16 * * *',
    description: 'The day in three wins, three blockers and three next moves.',
    steps: [{
      name: 'brief',
      input: { wins: ['2 demos booked', '9 leads scored A', 'post approved'], blockers: ['CRM sync slow'], next: ['follow up demos', 'draft week recap'] },
      code: `async (input) => {
  const three = (xs) => [...xs, '—', '—', '—'].slice(0, 3);
  return { wins: three(input.wins), blockers: three(input.blockers), nextMoves: three(input.next) };
}`,
    }],
  },
];

const SEEDED_KEY = 'examples.seeded';
const LOCK = 727005;

/**
 * Creates the example once per database; returns whether this call created it.
 * Each piece is found or created by name, so a start interrupted halfway
 * (Temporal unreachable, say) completes on the next one; a lock keeps two
 * processes from seeding at once.
 */
export async function seedExamples(sql: Sql, temporal: TemporalHandle, check: CodeChecker): Promise<boolean> {
  const lock = await sql.reserve();
  try {
    await lock`select pg_advisory_lock(${LOCK})`;
    const [done] = await sql`select 1 from settings where key = ${SEEDED_KEY}`;
    if (done) return false;
    // Into the default workspace: every function below is given no workspace.
    const [existing] = await sql<{ id: string }[]>`
      select id from containers where lower(name) = lower('Daily marketing ops') and workspace_id = ${workspaceIdOf(sql)}`;
    const containerId = existing?.id ?? (await createContainer(sql, {
      name: 'Daily marketing ops', description: "Seed 002's five daily jobs (America/Toronto). Schedules start paused.",
      category: 'automation', isActive: true, isDefault: false, priority: 0,
    }, SYSTEM_ACTOR)).id;
    for (const job of DAILY_JOBS) {
      const [mission] = await sql`select 1 from missions where lower(name) = lower(${job.name}) and workspace_id = ${workspaceIdOf(sql)}`;
      if (mission) continue;
      const tasks = [];
      for (const [i, step] of job.steps.entries()) {
        const name = `${job.name}.${step.name}`;
        const [found] = await sql<{ id: string }[]>`select id from patterns where container_id = ${containerId} and lower(name) = lower(${name})`;
        const patternId = found?.id ?? (await createPattern(sql, {
          containerId, name, description: job.description, code: step.code,
          config: { timeout: 5000, retryCount: 2, failureAction: 'retry' }, isActive: true, isDefault: false, priority: 0,
        }, SYSTEM_ACTOR, check)).id;
        tasks.push({ name: step.name, order: i, patternId, input: step.input, requiresApproval: !!step.approval });
      }
      const input = missionInput.parse({
        name: job.name, description: job.description, type: 'scheduled', priority: 'medium', containerId, status: 'active',
        schedule: { cron: job.cron, timezone: TZ, paused: true, note: 'example: unpause to start' }, tasks,
      });
      // Committed first; if Temporal fails here, the reconciler creates the schedule.
      const created = await createMission(sql, input, SYSTEM_ACTOR);
      await syncMissionSchedule(sql, temporal, created.mission.id);
    }
    await sql`insert into settings (key, value) values (${SEEDED_KEY}, ${sql.json({ at: new Date().toISOString() })}) on conflict (key) do nothing`;
    return true;
  } finally {
    await lock`select pg_advisory_unlock(${LOCK})`.catch(() => {});
    lock.release();
  }
}

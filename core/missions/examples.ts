// The example that ships with Mission Control: seed 002's five daily jobs
// (America/Toronto; core/missions/example-jobs.ts) as a container, patterns
// and scheduled missions, with the sample campaign they work on, created on
// first start with their schedules paused so nothing fires until someone
// chooses to, and brought up to date on later starts where no one changed
// them. Every pattern is dry-run safe: outbound goes through ctx.
import type { Sql } from '../../db/sql';
import type { TemporalHandle } from '../../lib/temporal';
import { SYSTEM_ACTOR } from '../audit/audit-log';
import { workspaceIdOf } from '../access/users';
import { createContainer } from '../patterns/containers';
import { missionInput } from './schemas';
import { createMission } from './missions';
import { createPattern, updatePattern, type CodeChecker } from '../patterns/patterns';
import { syncMissionSchedule } from '../schedules/sync';
import { activateCampaign, createCampaign } from '../outreach/campaigns';
import { DAILY_JOBS, SAMPLE_CAMPAIGN } from './example-jobs';

const TZ = 'America/Toronto';

export { DAILY_JOBS } from './example-jobs';

const SEEDED_KEY = 'examples.seeded';
const EXAMPLE_CONTAINER = 'Daily marketing ops';
const LOCK = 727005;

/** The campaign the jobs work on (a database seeded before it shipped gets it too; a deleted one stays deleted). */
async function ensureSampleCampaign(sql: Sql): Promise<void> {
  const [campaign] = await sql`select 1 from campaigns where lower(name) = lower(${SAMPLE_CAMPAIGN.name}) and workspace_id = ${workspaceIdOf(sql)}`;
  if (campaign) return;
  const [ws] = await sql<{ id: string }[]>`select mc_default_workspace()::text as id`;
  const created = await createCampaign(sql, { ...SAMPLE_CAMPAIGN }, SYSTEM_ACTOR, ws!);
  await activateCampaign(sql, created.id, SYSTEM_ACTOR, ws!);
}

/**
 * An example pattern whose current version is still one the system wrote (no one has edited it) takes the code
 * of this release as a new version, so an upgraded database runs the pipeline as shipped; one a person changed
 * is left as they made it.
 */
async function upgradeExamplePatterns(sql: Sql, check: CodeChecker): Promise<void> {
  for (const job of DAILY_JOBS) {
    for (const step of job.steps) {
      const [p] = await sql<{ id: string; code: string }[]>`
        select p.id, v.code from patterns p
        join containers c on c.id = p.container_id
        join pattern_versions v on v.id = p.current_version_id
        where lower(c.name) = lower(${EXAMPLE_CONTAINER}) and c.workspace_id = ${workspaceIdOf(sql)}
          and lower(p.name) = lower(${`${job.name}.${step.name}`}) and v.created_by = ${SYSTEM_ACTOR.name}`;
      if (p && p.code !== step.code) {
        await updatePattern(sql, p.id, { code: step.code, note: 'The example as this version of Mission Control ships it' }, SYSTEM_ACTOR, check);
      }
    }
  }
}

/**
 * Creates the example once per database (and brings an earlier release's example up to date); returns whether
 * this call created it.
 * Each piece is found or created by name, so a start interrupted halfway
 * (Temporal unreachable, say) completes on the next one; a lock keeps two
 * processes from seeding at once.
 */
export async function seedExamples(sql: Sql, temporal: TemporalHandle, check: CodeChecker): Promise<boolean> {
  const lock = await sql.reserve();
  try {
    await lock`select pg_advisory_lock(${LOCK})`;
    const [done] = await sql`select 1 from settings where key = ${SEEDED_KEY}`;
    // Into the default workspace: every function below is given no workspace.
    await ensureSampleCampaign(sql);
    if (done) {
      await upgradeExamplePatterns(sql, check);
      return false;
    }
    const [existing] = await sql<{ id: string }[]>`
      select id from containers where lower(name) = lower(${EXAMPLE_CONTAINER}) and workspace_id = ${workspaceIdOf(sql)}`;
    const containerId = existing?.id ?? (await createContainer(sql, {
      name: EXAMPLE_CONTAINER, description: "Seed 002's five daily jobs (America/Toronto). Schedules start paused.",
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

// Schedules are Temporal Schedules named mission-<id>: the spec and time zone
// as given, next runs from Temporal, pause with a note, run now; and the five
// example daily jobs of seed 002, created paused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { nextRuns } from '../../core/schedules/cron';
import { DAILY_JOBS, seedExamples } from '../../core/missions/examples';
import { json, type ApiClient, type TestApp } from '../helpers/app';
import { type MissionEnv, makeMission, makePattern, missionEnv, result } from '../helpers/missions';

let t: TestApp;
let env: MissionEnv;
let admin: ApiClient;
let operator: ApiClient;
let viewer: ApiClient;
let containerId: string;
let pattern: string;

beforeAll(async () => {
  env = await missionEnv();
  ({ t, admin, operator, viewer, containerId } = env);
  pattern = await makePattern(admin, containerId, 'async (input, ctx) => ({ trigger: ctx.mission.name })');
});
afterAll(async () => env?.close());

describe('a mission schedule', () => {
  it('is created with its cron and time zone, and Temporal reports the next runs in that zone', async () => {
    const m = await makeMission(operator, {
      containerId, type: 'scheduled', tasks: [{ name: 'only', order: 0, patternId: pattern }],
      schedule: { cron: '15 7 * * 1-5', timezone: 'Asia/Kolkata', overlap: 'buffer_one' },
    });
    const { schedule } = await json(await viewer.request('GET', `/api/missions/${m}/schedule`));
    expect(schedule).toMatchObject({ scheduleId: `mission-${m}`, cron: '15 7 * * 1-5', timezone: 'Asia/Kolkata', paused: false, overlap: 'buffer_one' });
    const expected = nextRuns('15 7 * * 1-5', 'Asia/Kolkata', 3).map((d) => d.toISOString());
    expect(schedule.nextRuns.slice(0, 3)).toEqual(expected);
    expect(new Date(schedule.nextRuns[0]).getUTCHours() * 60 + new Date(schedule.nextRuns[0]).getUTCMinutes()).toBe(1 * 60 + 45); // 07:15 IST = 01:45 UTC

    const listed = await json(await viewer.request('GET', '/api/schedules'));
    expect(listed.schedules.map((s: { missionId: string }) => s.missionId)).toContain(m);
  });

  it('refuses a bad cron or time zone with a 400 and creates nothing', async () => {
    for (const schedule of [{ cron: '61 * * * *' }, { cron: 'every day' }, { cron: '0 9 * * *', timezone: 'Mars/Olympus' }]) {
      const res = await operator.request('POST', '/api/missions', { name: `bad-${Math.random()}`, type: 'scheduled', containerId, schedule });
      expect(res.status, JSON.stringify(schedule)).toBe(400);
    }
  });

  it('pauses with a note, unpauses, updates, and runs now', async () => {
    const m = await makeMission(operator, { containerId, type: 'scheduled', tasks: [{ name: 'only', order: 0, patternId: pattern }], schedule: { cron: '0 3 1 1 *', timezone: 'UTC' } });
    const paused = await json(await operator.request('POST', `/api/schedules/${m}/pause`, { note: 'quiet week' }));
    expect(paused.schedule).toMatchObject({ paused: true, note: 'quiet week' });
    expect((await listAudit(t.db.sql, { action: 'schedule.paused', entityId: `mission-${m}`, limit: 5 }))[0]?.details).toMatchObject({ note: 'quiet week' });
    expect((await viewer.request('POST', `/api/schedules/${m}/unpause`, {})).status).toBe(403);
    const unpaused = await json(await operator.request('POST', `/api/schedules/${m}/unpause`, {}));
    expect(unpaused.schedule.paused).toBe(false);

    const updated = await json(await operator.request('PUT', `/api/missions/${m}/schedule`, { cron: '30 16 * * *', timezone: 'America/Toronto' }));
    expect(updated.schedule).toMatchObject({ cron: '30 16 * * *', timezone: 'America/Toronto' });

    expect((await operator.request('POST', `/api/schedules/${m}/run`)).status).toBe(202);
    let runs: { workflowId: string; trigger: string }[] = [];
    for (let i = 0; i < 50 && runs.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      runs = (await json(await viewer.request('GET', `/api/runs?missionId=${m}`))).runs;
    }
    expect(runs).toHaveLength(1);
    expect(runs[0]!.trigger).toBe('scheduled');
    expect(runs[0]!.workflowId).toMatch(new RegExp(`^mission-${m}-scheduled-`));
    const final = await result(t, runs[0]!.workflowId);
    expect(final).toMatchObject({ status: 'Completed', trigger: 'scheduled' });
    expect(await listAudit(t.db.sql, { action: 'mission.executed', entityId: m, limit: 5 })).toHaveLength(1);

    expect((await operator.request('DELETE', `/api/missions/${m}/schedule`)).status).toBe(200);
    expect((await viewer.request('GET', `/api/missions/${m}/schedule`)).status).toBe(404);
  });
});

describe('the example daily jobs', () => {
  it('are created once, as five scheduled missions in America/Toronto with paused schedules', async () => {
    const check = (code: string) => t.deps.sandbox.check(code);
    expect(await seedExamples(t.db.sql, t.deps.temporal, check)).toBe(true);
    expect(await seedExamples(t.db.sql, t.deps.temporal, check)).toBe(false);
    const { schedules } = await json(await viewer.request('GET', '/api/schedules'));
    const daily = schedules.filter((s: { missionName: string }) => DAILY_JOBS.some((j) => j.name === s.missionName));
    expect(daily.map((s: { missionName: string; cron: string; timezone: string; paused: boolean }) => [s.missionName, s.cron, s.timezone, s.paused]).sort()).toEqual(
      [
        ['content_research_creation_qa', '0 12 * * *', 'America/Toronto', true],
        ['daily_brief', '30 16 * * *', 'America/Toronto', true],
        ['enrichment_scoring', '30 9 * * *', 'America/Toronto', true],
        ['lead_research', '0 9 * * *', 'America/Toronto', true],
        ['outreach_drafting_qa', '30 10 * * *', 'America/Toronto', true],
      ],
    );
  });

  it('run: outreach drafts wait for approval, and the approved send is recorded as "would send" in dry-run', async () => {
    const { missions } = await json(await viewer.request('GET', '/api/missions?q=outreach_drafting_qa'));
    const workflowId = (await json(await operator.request('POST', `/api/missions/${missions[0].id}/execute`, {}))).workflowId;
    const { waitFor } = await import('../helpers/missions');
    const waiting = await waitFor(t, workflowId, (p) => p.status === 'NeedsApproval');
    expect(waiting.pendingApprovals[0]!.output).toMatchObject({ drafts: [expect.objectContaining({ to: 'ops@northside.example' })] });
    const decided = await admin.request('POST', `/api/runs/${workflowId}/decisions`, { taskId: waiting.tasks[0]!.id, action: 'approve' });
    expect(decided.status).toBe(200);
    const final = await result(t, workflowId);
    expect(final.tasks[1]!.output).toEqual({ queued: 1, results: [{ dryRun: true, channel: 'email' }] });
  });
});

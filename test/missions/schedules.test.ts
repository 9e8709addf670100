// Schedules are Temporal Schedules named mission-<id>: the spec and time zone
// as given, next runs from Temporal, pause with a note, run now; PostgreSQL
// first, then Temporal, with the reconciler catching up on whatever Temporal
// missed and auditing pauses made outside the app; backfill of a past range
// through Temporal's own schedule backfill, bounded and audited once; and the
// five example daily jobs of seed 002, created paused.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listAudit, SYSTEM_ACTOR } from '../../core/audit/audit-log';
import { updatePattern } from '../../core/patterns/patterns';
import { nextRuns } from '../../core/schedules/cron';
import { DAILY_JOBS, seedExamples } from '../../core/missions/examples';
import { reconcileOnce } from '../../core/schedules/reconcile';
import { syncMissionSchedule } from '../../core/schedules/sync';
import { createSql } from '../../db/sql';
import { createTemporalClient } from '../../lib/temporal';
import { json, type ApiClient, type TestApp } from '../helpers/app';
import { appWithTemporalDown, reconcileDeps } from '../helpers/temporal-down';
import { type MissionEnv, eventually, makeMission, makePattern, missionEnv, result } from '../helpers/missions';

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

    const ran = await operator.request('POST', `/api/schedules/${m}/run`);
    expect(ran.status).toBe(202);
    const { workflowId } = await json(ran);
    expect(workflowId).toMatch(new RegExp(`^mission-${m}-scheduled-now-`));
    const final = await result(t, workflowId);
    expect(final).toMatchObject({ status: 'Completed', trigger: 'scheduled' });
    expect(await listAudit(t.db.sql, { action: 'mission.executed', entityId: m, limit: 5 })).toHaveLength(1);

    expect((await operator.request('DELETE', `/api/missions/${m}/schedule`)).status).toBe(200);
    expect((await viewer.request('GET', `/api/missions/${m}/schedule`)).status).toBe(404);
  });
});

const scheduleOf = (missionId: string) => t.deps.temporal.client.schedule.getHandle(`mission-${missionId}`);
const nextTimes = async (missionId: string) => (await scheduleOf(missionId).describe()).info.nextActionTimes.slice(0, 2).map((d) => d.toISOString());
const scheduled = (cron: string, timezone = 'UTC') => ({ containerId, type: 'scheduled', tasks: [{ name: 'only', order: 0, patternId: pattern }], schedule: { cron, timezone } });

describe('PostgreSQL first, then Temporal', () => {
  it('a mission saved while Temporal is down is saved, the answer is a 503 saying so, and the reconciler brings its schedule to Temporal', async () => {
    const down = await appWithTemporalDown(t);
    try {
      const res = await down.as(operator).request('POST', '/api/missions', { name: `offline-${Math.random().toString(36).slice(2, 8)}`, ...scheduled('0 6 * * *', 'Europe/Paris') });
      expect(res.status).toBe(503);
      const { error } = await json(res);
      expect(error).toMatchObject({ code: 'temporal_unavailable', details: { saved: true, missionId: expect.any(String) } });
      expect(error.message).toMatch(/is saved\. Temporal is not reachable right now, so its schedule will be brought up to date in Temporal automatically/);
      const id = error.details.missionId as string;
      expect((await json(await viewer.request('GET', `/api/missions/${id}`))).mission.schedule).toMatchObject({ cron: '0 6 * * *', timezone: 'Europe/Paris' });
      expect((await viewer.request('GET', `/api/missions/${id}/schedule`)).status).toBe(404);

      const report = await reconcileOnce(reconcileDeps(t));
      expect(report.schedules.created).toBeGreaterThanOrEqual(1);
      expect(await nextTimes(id)).toEqual(nextRuns('0 6 * * *', 'Europe/Paris', 2).map((d) => d.toISOString()));

      // A change made while Temporal is down is committed, and follows the same way.
      const changed = await down.as(operator).request('PUT', `/api/missions/${id}/schedule`, { cron: '30 7 * * *', timezone: 'Europe/Paris' });
      expect(changed.status).toBe(503);
      expect((await json(await viewer.request('GET', `/api/missions/${id}`))).mission.schedule.cron).toBe('30 7 * * *');
      expect(await nextTimes(id)).toEqual(nextRuns('0 6 * * *', 'Europe/Paris', 2).map((d) => d.toISOString()));
      await reconcileOnce(reconcileDeps(t));
      expect(await nextTimes(id)).toEqual(nextRuns('30 7 * * *', 'Europe/Paris', 2).map((d) => d.toISOString()));

      // Deleting needs Temporal's word that no run is open: refused whole, nothing changed.
      expect((await down.as(operator).request('DELETE', `/api/missions/${id}`)).status).toBe(503);
      expect((await viewer.request('GET', `/api/missions/${id}`)).status).toBe(200);
    } finally {
      await down.close();
    }
  });

  it('a schedule deleted behind the app\'s back is created again by the reconciler, paused as it was', async () => {
    const m = await makeMission(operator, scheduled('0 4 * * *'));
    expect((await operator.request('POST', `/api/schedules/${m}/pause`, { note: 'hold' })).status).toBe(200);
    await scheduleOf(m).delete();
    await reconcileOnce(reconcileDeps(t));
    const { schedule } = await json(await viewer.request('GET', `/api/missions/${m}/schedule`));
    expect(schedule).toMatchObject({ cron: '0 4 * * *', paused: true, note: 'hold' });
  });

  it('editing a paused schedule keeps it paused; a paused mission keeps its schedule paused, and resuming unpauses only what the mission paused', async () => {
    const m = await makeMission(operator, scheduled('0 5 * * *'));
    await operator.request('POST', `/api/schedules/${m}/pause`, { note: 'audit week' });
    const edited = await json(await operator.request('PUT', `/api/missions/${m}/schedule`, { cron: '0 6 * * *', timezone: 'UTC' }));
    expect(edited.schedule).toMatchObject({ paused: true, note: 'audit week' });
    expect((await operator.request('POST', `/api/schedules/${m}/unpause`, {})).status).toBe(200);

    expect((await operator.request('POST', `/api/missions/${m}/pause`, { reason: 'holiday' })).status).toBe(200);
    expect((await json(await viewer.request('GET', `/api/missions/${m}/schedule`))).schedule).toMatchObject({ paused: true, note: expect.stringMatching(/^mission paused by operator_\w+: holiday$/) });
    expect((await operator.request('POST', `/api/schedules/${m}/unpause`, {})).status).toBe(409);
    expect((await operator.request('POST', `/api/missions/${m}/resume`, {})).status).toBe(200);
    expect((await json(await viewer.request('GET', `/api/missions/${m}/schedule`))).schedule.paused).toBe(false);

    // Paused on its own, then with the mission: resuming the mission leaves it paused.
    await operator.request('POST', `/api/schedules/${m}/pause`, { note: 'own pause' });
    await operator.request('POST', `/api/missions/${m}/pause`, {});
    await operator.request('POST', `/api/missions/${m}/resume`, {});
    expect((await json(await viewer.request('GET', `/api/missions/${m}/schedule`))).schedule).toMatchObject({ paused: true, note: 'own pause' });
  });

  it('a pause made outside the app (CLI, Web UI) is audited once, as temporal-cli with its note, however many replicas reconcile', async () => {
    const m = await makeMission(operator, scheduled('0 8 * * *'));
    await reconcileOnce(reconcileDeps(t)); // the app has seen the schedule as it is
    await scheduleOf(m).pause('maintenance window');

    // A second replica: its own connections to PostgreSQL and Temporal.
    const sql2 = createSql(t.db.url);
    const temporal2 = createTemporalClient({ address: t.config.TEMPORAL_ADDRESS!, namespace: t.config.TEMPORAL_NAMESPACE, taskQueue: t.config.TEMPORAL_TASK_QUEUE, sql: t.db.sql });
    try {
      const other = { sql: sql2, temporal: temporal2, logger: t.deps.logger };
      await Promise.all([reconcileOnce(reconcileDeps(t)), reconcileOnce(other), syncMissionSchedule(t.db.sql, t.deps.temporal, m, { observe: true }), syncMissionSchedule(sql2, temporal2, m, { observe: true })]);
      await reconcileOnce(other);
      await reconcileOnce(reconcileDeps(t));
    } finally {
      await temporal2.connection.close();
      await sql2.end();
    }
    const paused = await listAudit(t.db.sql, { action: 'schedule.paused', entityId: `mission-${m}`, limit: 10 });
    expect(paused).toEqual([expect.objectContaining({ actor: 'temporal-cli', details: { missionId: m, note: 'maintenance window', source: 'temporal' } })]);
    expect((await json(await viewer.request('GET', `/api/missions/${m}`))).mission.schedule).toMatchObject({ paused: true, note: 'maintenance window' });

    await scheduleOf(m).unpause('back');
    await reconcileOnce(reconcileDeps(t));
    await reconcileOnce(reconcileDeps(t));
    expect(await listAudit(t.db.sql, { action: 'schedule.unpaused', entityId: `mission-${m}`, limit: 10 })).toEqual([
      expect.objectContaining({ actor: 'temporal-cli', details: { missionId: m, note: 'back', source: 'temporal' } }),
    ]);
    // The app's own pauses are audited as the user's, and never again as an outside change.
    await operator.request('POST', `/api/schedules/${m}/pause`, { note: 'mine' });
    await reconcileOnce(reconcileDeps(t));
    expect((await listAudit(t.db.sql, { action: 'schedule.paused', entityId: `mission-${m}`, limit: 10 })).map((e) => e.actor)).toEqual([expect.stringMatching(/^operator_/), 'temporal-cli']);
  });

  it('a schedule the app has never seen (made before it tracked schedules) keeps a pause it finds in Temporal', async () => {
    const m = await makeMission(operator, scheduled('0 9 * * *'));
    await scheduleOf(m).pause('paused before the upgrade');
    // As db/migrations/0006 leaves an existing schedule: to be applied once, its state never seen.
    await t.db.sql`update mission_sync set schedule_version = schedule_version + 1, schedule_paused = null, schedule_note = null where mission_id = ${m}`;
    await reconcileOnce(reconcileDeps(t));
    expect((await json(await viewer.request('GET', `/api/missions/${m}/schedule`))).schedule).toMatchObject({ paused: true, note: 'paused before the upgrade' });
    expect((await json(await viewer.request('GET', `/api/missions/${m}`))).mission.schedule).toMatchObject({ paused: true, note: 'paused before the upgrade' });
    expect(await listAudit(t.db.sql, { action: 'schedule.paused', entityId: `mission-${m}`, limit: 5 })).toEqual([]);
  });

  it('run now starts a run of its own at once: two in the same second, while the first is still open, are two runs', async () => {
    const slow = await makePattern(admin, containerId, 'async (input, ctx) => { const end = ctx.now() + 1500; while (ctx.now() < end) {} return {} }');
    const m = await makeMission(operator, { ...scheduled('0 3 1 1 *'), tasks: [{ name: 'slow', order: 0, patternId: slow }] });
    const [a, b] = await Promise.all([operator.request('POST', `/api/schedules/${m}/run`), operator.request('POST', `/api/schedules/${m}/run`)]);
    expect([a.status, b.status]).toEqual([202, 202]);
    const ids = [(await json(a)).workflowId, (await json(b)).workflowId];
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) expect((await t.deps.temporal.client.workflow.getHandle(id).describe()).workflowId).toBe(id);
    expect(await listAudit(t.db.sql, { action: 'schedule.run_now', entityId: `mission-${m}`, limit: 5 })).toHaveLength(2);
  });
});

// ---- backfill ----------------------------------------------------------------------------

const HOUR = 3_600_000;
/** Temporal's name for the run a schedule starts for `at`: the time to the second. */
const runFor = (missionId: string, at: Date) => `mission-${missionId}-scheduled-${at.toISOString().replace('.000Z', 'Z')}`;
const workflowIds = async (query: string) => {
  const ids: string[] = [];
  for await (const w of t.deps.temporal.client.workflow.list({ query })) ids.push(w.workflowId);
  return ids.sort();
};
const scheduledRuns = (missionId: string) => workflowIds(`MissionId='${missionId}' AND MissionTrigger='scheduled'`);
/** An hourly mission whose schedule is created paused, so that only a backfill starts its runs. */
const pausedHourly = (cron = '0 * * * *') => makeMission(operator, { ...scheduled(cron), schedule: { cron, timezone: 'UTC', paused: true, note: 'backfill only' } });
const backfill = (api: ApiClient, missionId: string, body: Record<string, unknown>) => api.request('POST', `/api/schedules/${missionId}/backfill`, body);

describe('backfilling a schedule', () => {
  it('starts, through Temporal, the runs an hourly schedule would have started in a 2-hour range (even while paused), and audits it once', async () => {
    const m = await pausedHourly();
    const hour = Math.floor(Date.now() / HOUR) * HOUR;
    const start = new Date(hour - 5 * HOUR + 30 * 60_000); // hh:30, five hours back: the range holds two hours' starts
    const end = new Date(start.getTime() + 2 * HOUR);
    const expected = [new Date(hour - 4 * HOUR), new Date(hour - 3 * HOUR)];

    const res = await backfill(operator, m, { start: start.toISOString(), end: end.toISOString() });
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(202);
    expect(await json(res)).toMatchObject({
      backfilled: true, missionId: m, scheduleId: `mission-${m}`, overlap: 'allow_all', runs: 2,
      scheduledTimes: expected.map((d) => d.toISOString().replace('.000Z', 'Z')),
    });

    const ids = expected.map((d) => runFor(m, d));
    expect(await eventually(() => scheduledRuns(m), (r) => r.length >= 2)).toEqual(ids.sort());
    for (const id of ids) expect(await result(t, id)).toMatchObject({ status: 'Completed', trigger: 'scheduled' });
    // Temporal's own record of what the schedule did: exactly these two, nothing on its own (it is paused).
    const d = await scheduleOf(m).describe();
    expect(d.info.recentActions.map((a) => a.action.workflow.workflowId).sort()).toEqual(ids.sort());
    expect(d.state.paused).toBe(true);

    const audited = await listAudit(t.db.sql, { action: 'schedule.backfilled', entityId: `mission-${m}`, limit: 5 });
    expect(audited).toEqual([expect.objectContaining({
      actor: env.operatorName,
      details: { missionId: m, start: start.toISOString().replace('.000Z', 'Z'), end: end.toISOString().replace('.000Z', 'Z'), overlap: 'allow_all', runs: 2 },
    })]);
  });

  it('refuses a bad range with a 400 that says why, an unknown mission with a 404, a paused mission with a 409, a viewer with a 403; nothing starts', async () => {
    const m = await pausedHourly();
    const minutely = await pausedHourly('* * * * *');
    const yearly = await pausedHourly('0 3 1 1 *');
    const now = Date.now();
    const at = (ms: number) => new Date(ms).toISOString();
    const lastYear = new Date().getUTCFullYear() - 1;
    const cases: [string, string, Record<string, unknown>, RegExp][] = [
      ['end before start', m, { start: at(now - 2 * HOUR), end: at(now - 3 * HOUR) }, /^The end \(.+\) must be after the start/],
      ['end equal to start', m, { start: at(now - 2 * HOUR), end: at(now - 2 * HOUR) }, /must be after the start/],
      ['end in the future', m, { start: at(now - HOUR), end: at(now + HOUR) }, /^A backfill covers past times only: the end \(.+\) is later than now/],
      ['more than 31 days', m, { start: at(now - 40 * 24 * HOUR), end: at(now - 24 * HOUR) }, /at most 31 days at a time/],
      ['not a date', m, { start: 'tomorrow', end: at(now - HOUR) }, /^start: must be a date and time with its offset/],
      ['no such day', m, { start: '2026-02-30T00:00:00Z', end: at(now - HOUR) }, /^start: must be a date and time/],
      ['no offset', m, { start: '2026-01-10T10:00:00', end: '2026-01-10T12:00:00' }, /^start: must be a date and time with its offset/],
      ['no end', m, { start: at(now - HOUR) }, /^end: /],
      ['an unknown overlap', m, { start: at(now - 3 * HOUR), end: at(now - HOUR), overlap: 'sometimes' }, /^overlap: must be one of skip, buffer_one/],
      ['an unknown key', m, { start: at(now - 3 * HOUR), end: at(now - HOUR), count: 3 }, /count/],
      ['more than 50 runs', minutely, { start: at(now - 3 * HOUR), end: at(now - HOUR) }, /starts 12\d runs; a backfill starts at most 50, so choose a shorter range/],
      ['no run in the range', yearly, { start: `${lastYear}-01-02T00:00:00Z`, end: `${lastYear}-01-02T02:00:00Z` }, /starts no run between .+: there is nothing to backfill/],
    ];
    for (const [label, missionId, body, message] of cases) {
      const res = await backfill(operator, missionId, body);
      expect(res.status, label).toBe(400);
      const { error } = await json(res);
      expect(error.code, label).toBe('validation_failed');
      expect(error.message, label).toMatch(message);
    }
    const range = { start: at(now - 3 * HOUR), end: at(now - HOUR) };
    expect((await backfill(operator, 'not-a-mission', range)).status).toBe(400);
    const unknown = await backfill(operator, randomUUID(), range);
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error).toMatchObject({ code: 'not_found', message: 'Mission was not found.' });
    const denied = await backfill(viewer, m, range);
    expect(denied.status).toBe(403);
    expect((await json(denied)).error.message).toMatch(/needs the OPERATOR role/);

    expect((await operator.request('POST', `/api/missions/${m}/pause`, { reason: 'audit week' })).status).toBe(200);
    const paused = await backfill(operator, m, range);
    expect(paused.status).toBe(409);
    expect((await json(paused)).error.message).toMatch(/is paused, so the runs a backfill starts would stop at once; resume the mission first/);

    for (const id of [m, minutely, yearly]) {
      expect(await listAudit(t.db.sql, { action: 'schedule.backfilled', entityId: `mission-${id}`, limit: 5 })).toEqual([]);
      expect((await scheduleOf(id).describe()).info.recentActions).toEqual([]);
      expect(await scheduledRuns(id)).toEqual([]);
    }
  });

  it('temporal schedule backfill, as the README writes it, starts the runs of that range', async () => {
    const m = await pausedHourly();
    const readme = ['schedule', 'backfill', '--schedule-id', `mission-${m}`, '--start-time', '2026-01-10T10:30:00Z', '--end-time', '2026-01-10T12:30:00Z', '--overlap-policy', 'AllowAll'];
    await promisify(execFile)(inject('temporalCli'), [...readme, '--address', inject('temporalAddress'), '--namespace', t.config.TEMPORAL_NAMESPACE], {
      timeout: 15_000, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    });
    const ids = [runFor(m, new Date('2026-01-10T11:00:00Z')), runFor(m, new Date('2026-01-10T12:00:00Z'))];
    expect(await eventually(() => scheduledRuns(m), (r) => r.length >= 2)).toEqual(ids);
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

  it('are brought up to date on a later start: an example no one edited takes the shipped code, an edited one is left alone', async () => {
    const check = (code: string) => t.deps.sandbox.check(code);
    const idOf = async (name: string) => (await t.db.owner<{ id: string }[]>`select id from patterns where name = ${name}`)[0]!.id;
    const [stale, edited] = [await idOf('lead_research.research'), await idOf('daily_brief.brief')];
    // As an earlier release left them: one example's code as the system wrote it then, one changed by a person.
    await updatePattern(t.db.sql, stale, { code: 'async () => ({ old: true })' }, SYSTEM_ACTOR, check);
    const mine = 'async () => ({ mine: true })';
    expect((await admin.request('PATCH', `/api/patterns/${edited}`, { code: mine })).status).toBe(200);
    const campaign = await t.db.owner`select id from campaigns where name = 'Spring dealer outreach'`;
    expect(campaign).toHaveLength(1);

    expect(await seedExamples(t.db.sql, t.deps.temporal, check)).toBe(false);
    const code = async (id: string) => (await json(await viewer.request('GET', `/api/patterns/${id}`))).pattern.code;
    expect(await code(stale)).toBe(DAILY_JOBS.find((j) => j.name === 'lead_research')!.steps[0]!.code);
    expect(await code(edited)).toBe(mine);
    expect(await seedExamples(t.db.sql, t.deps.temporal, check)).toBe(false); // once brought up, nothing more to write
    const versions = async (id: string) => (await json(await viewer.request('GET', `/api/patterns/${id}/versions`))).versions.length;
    expect([await versions(stale), await versions(edited)]).toEqual([3, 2]);
    expect(await t.db.owner`select id from campaigns where name = 'Spring dealer outreach'`).toEqual(campaign);
  });

  it('run: outreach drafts wait for approval, and the approved send is recorded as "would send" in dry-run', async () => {
    const runNow = async (name: string) => {
      const { missions } = await json(await viewer.request('GET', `/api/missions?q=${name}`));
      return (await json(await operator.request('POST', `/api/missions/${missions.find((m: { name: string }) => m.name === name).id}/execute`, {}))).workflowId as string;
    };
    // Leads first (the sample data), scored: drafting writes to the A and B ones.
    for (const name of ['lead_research', 'enrichment_scoring']) expect((await result(t, await runNow(name))).status).toBe('Completed');
    const workflowId = await runNow('outreach_drafting_qa');
    const { waitFor } = await import('../helpers/missions');
    const waiting = await waitFor(t, workflowId, (p) => p.status === 'NeedsApproval');
    expect(waiting.pendingApprovals[0]!.output).toMatchObject({ drafts: expect.arrayContaining([expect.objectContaining({ to: 'dana@northside-motors.example' })]) });
    const decided = await admin.request('POST', `/api/runs/${workflowId}/decisions`, { taskId: waiting.tasks[0]!.id, action: 'approve' });
    expect(decided.status).toBe(200);
    const final = await result(t, workflowId);
    expect(final.tasks[1]!.output).toEqual({ queued: 4, results: Array(4).fill({ dryRun: true, channel: 'email' }) });
  });
});

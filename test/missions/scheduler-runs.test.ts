// Scheduler records (seed 002 §5, §8): every firing of a mission's schedule is one record with its outcome
// (started, completed, failed, skipped with its reason) and one scheduler.job.* event per step, however often
// an activity is retried or replicas reconcile; the jobs API lists the scheduled missions with their next and
// last firing, changes them through the schedule's own code, and fires one now through Temporal's trigger.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { nextRuns } from '../../core/schedules/cron';
import { reconcileOnce } from '../../core/schedules/reconcile';
import { recordFiringEnded, recordFiringStarted, sweepSkippedFirings, type Firing } from '../../core/schedules/scheduler-runs';
import { json, signIn, userWithRole, type ApiClient, type Browser, type TestApp } from '../helpers/app';
import { reconcileDeps } from '../helpers/temporal-down';
import { secondWorkspace } from '../helpers/workspaces';
import { type MissionEnv, eventually, makeContainer, makeMission, makePattern, missionEnv, result, waitFor } from '../helpers/missions';

let t: TestApp;
let env: MissionEnv;
let admin: ApiClient;
let operator: ApiClient;
let viewer: ApiClient;
let browser: Browser;
let quick: string;
let failing: string;

beforeAll(async () => {
  env = await missionEnv();
  ({ t, admin, operator, viewer } = env);
  quick = await makePattern(admin, env.containerId, 'async () => ({ done: true })');
  failing = await makePattern(admin, env.containerId, 'async () => { throw new Error("the lead list is gone") }', { failureAction: 'abort' });
  const op = await userWithRole(t, 'OPERATOR');
  browser = await signIn(t, op.username, op.password);
});
afterAll(async () => env?.close());

/** A running schedule that fires on its own only on 1 January: only "run now" fires it here. */
const job = (tasks: Record<string, unknown>[], overlap = 'skip') => makeMission(operator, {
  containerId: env.containerId, type: 'scheduled', tasks, schedule: { cron: '0 3 1 1 *', timezone: 'UTC', overlap },
});
/** A task whose output waits for a decision: it holds its run open for as long as the test needs. */
const gated = () => ({ name: 'review', order: 0, patternId: quick, requiresApproval: true });

const runNow = async (id: string, api = operator) => {
  const res = await api.request('POST', `/api/scheduler/jobs/${id}/run-now`, {});
  expect(res.status, JSON.stringify(await res.clone().json())).toBe(202);
  return json(res);
};
const firingsOf = async (id: string): Promise<Firing[]> => (await json(await viewer.request('GET', `/api/scheduler/runs?jobId=${id}`))).runs;
const firingsUntil = (id: string, ok: (f: Firing[]) => boolean) => eventually(() => firingsOf(id), ok);
const jobEvents = async (id: string) => (await t.db.sql<{ type: string; entityType: string; entityId: string; payload: Record<string, unknown> }[]>`
  select type, entity_type as "entityType", entity_id as "entityId", payload from events where mission_id = ${id} and type like 'scheduler.job.%' order by id`);
const approve = async (workflowId: string) => {
  const waiting = await waitFor(t, workflowId, (p) => p.status === 'NeedsApproval');
  const res = await admin.request('POST', `/api/runs/${workflowId}/decisions`, { taskId: waiting.tasks[0]!.id, action: 'approve' });
  expect(res.status).toBe(200);
  return result(t, workflowId);
};
const scheduleOf = (id: string) => t.deps.temporal.client.schedule.getHandle(`mission-${id}`);

describe('a firing of a scheduled job', () => {
  it('run now fires the schedule through Temporal: one record, started and then completed, with one scheduler.job.started and one scheduler.job.completed', async () => {
    const m = await job([gated()]);
    const answer = await runNow(m);
    expect(answer).toMatchObject({ triggered: true, jobId: m, scheduleId: `mission-${m}`, overlap: 'skip' });

    // The run waits for a decision: its firing is started, and stays so.
    const [started] = await firingsUntil(m, (f) => f.length > 0);
    expect(started).toMatchObject({ jobId: m, scheduleId: `mission-${m}`, status: 'started', skipReason: null, finishedAt: null });
    expect(started!.workflowId).toMatch(new RegExp(`^mission-${m}-scheduled-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`));
    expect(new Date(started!.scheduledAt!).toISOString().replace('.000Z', 'Z')).toBe(started!.workflowId!.slice(`mission-${m}-scheduled-`.length));
    expect(started!.startedAt).not.toBeNull();
    const workflowId = started!.workflowId!;
    await waitFor(t, workflowId, (p) => p.status === 'NeedsApproval');
    expect((await firingsOf(m)).map((f) => f.status)).toEqual(['started']);
    expect((await jobEvents(m)).map((e) => e.type)).toEqual(['scheduler.job.started']);

    expect(await approve(workflowId)).toMatchObject({ status: 'Completed', trigger: 'scheduled' });
    const [done] = await firingsUntil(m, (f) => f[0]?.status === 'completed');
    expect(done).toMatchObject({ id: started!.id, workflowId, status: 'completed', error: null });
    expect(done!.finishedAt).not.toBeNull();
    expect(await firingsOf(m)).toHaveLength(1);
    expect((await jobEvents(m)).map((e) => [e.type, e.entityId])).toEqual([['scheduler.job.started', workflowId], ['scheduler.job.completed', workflowId]]);

    // Written once, whatever repeats: a retried start or end changes nothing, and an end never moves an ended firing.
    const ws = (await t.db.sql<{ id: string }[]>`select workspace_id as id from missions where id = ${m}`)[0]!.id;
    expect(await recordFiringStarted(t.db.sql, { workflowId, missionId: m, workspaceId: ws })).toBe(false);
    expect(await recordFiringEnded(t.db.sql, { workflowId, missionId: m }, 'failed', 'late')).toBe(false);
    expect((await firingsOf(m)).map((f) => f.status)).toEqual(['completed']);

    const audited = await listAudit(t.db.sql, { action: 'schedule.triggered', entityId: `mission-${m}`, limit: 5 });
    expect(audited).toEqual([expect.objectContaining({ actor: env.operatorName, details: { missionId: m, overlap: 'skip' } })]);
    const { job: detail, firings } = await json(await viewer.request('GET', `/api/scheduler/jobs/${m}`));
    expect(detail).toMatchObject({ id: m, cron: '0 3 1 1 *', timezone: 'UTC', paused: false, lastOutcome: { status: 'completed', workflowId }, temporalError: null });
    expect(firings.map((f: Firing) => f.workflowId)).toEqual([workflowId]);
  });

  it('a job whose run fails records failed, with the error, and one scheduler.job.failed', async () => {
    const m = await job([{ name: 'research', order: 0, patternId: failing }]);
    await runNow(m);
    const [failed] = await firingsUntil(m, (f) => f[0]?.status === 'failed');
    expect(failed).toMatchObject({ status: 'failed', skipReason: null });
    expect(failed!.error).toMatch(/the lead list is gone/);
    expect(await firingsOf(m)).toHaveLength(1);
    const events = await eventually(() => jobEvents(m), (e) => e.length >= 2);
    expect(events.map((e) => e.type)).toEqual(['scheduler.job.started', 'scheduler.job.failed']);
    expect((await json(await viewer.request('GET', `/api/scheduler/jobs/${m}`))).job.lastOutcome).toMatchObject({ status: 'failed' });
  });

  it('a firing skipped because a run is still open (overlap skip) is recorded once as skipped (overlap), however often and wherever the reconciler runs', async () => {
    const m = await job([gated()]);
    await runNow(m);
    const [open] = await firingsUntil(m, (f) => f[0]?.status === 'started');
    await waitFor(t, open!.workflowId!, (p) => p.status === 'NeedsApproval');
    await runNow(m); // while the first run is open: Temporal skips it, and only counts it
    expect((await eventually(() => scheduleOf(m).describe(), (d) => d.info.numActionsSkippedOverlap >= 1)).info.numActionsSkippedOverlap).toBe(1);

    const report = await reconcileOnce(reconcileDeps(t));
    expect(report.error).toBeNull();
    expect(report.skipsRecorded).toBeGreaterThanOrEqual(1);
    // Again, and two replicas at once: nothing more.
    await reconcileOnce(reconcileDeps(t));
    await Promise.all([sweepSkippedFirings(t.db.sql, t.deps.temporal), sweepSkippedFirings(t.db.sql, t.deps.temporal, { all: true })]);
    const firings = await firingsOf(m);
    expect(firings.map((f) => [f.status, f.skipReason])).toEqual([['skipped', 'overlap'], ['started', null]]);
    expect(firings[0]).toMatchObject({ workflowId: null, scheduledAt: null, error: expect.stringMatching(/still open/) });
    const events = await jobEvents(m);
    expect(events.map((e) => e.type)).toEqual(['scheduler.job.started', 'scheduler.job.skipped']);
    expect(events[1]).toMatchObject({ entityType: 'schedule', entityId: `mission-${m}`, payload: { reason: 'overlap', counter: 'overlap_skipped' } });
    expect((await json(await viewer.request('GET', `/api/scheduler/runs?jobId=${m}&status=skipped`))).runs).toHaveLength(1);

    // The schedules page lists the firings with their outcome, and operators can fire it from there.
    const row = await (await browser.get(`/schedules/${m}/row`)).text();
    expect(row).toMatch(/<h3 id="firings-[^"]+">Firings<\/h3>[\s\S]*Skipped \(overlap\)[\s\S]*Started/);
    expect(row).toContain(`action="/schedules/${m}/trigger"`);
    const fired = await browser.post(`/schedules/${m}/trigger`, {}, { headers: { 'HX-Request': 'true' } });
    expect(fired.status).toBe(200);
    expect(JSON.parse(fired.headers.get('hx-trigger')!)).toMatchObject({ flash: { kind: 'ok', text: expect.stringMatching(/^Triggered the schedule of/) } });
    await eventually(() => scheduleOf(m).describe(), (d) => d.info.numActionsSkippedOverlap >= 2);
    await sweepSkippedFirings(t.db.sql, t.deps.temporal);
    expect((await firingsOf(m)).map((f) => f.skipReason)).toEqual(['overlap', 'overlap', null]);

    expect(await approve(open!.workflowId!)).toMatchObject({ status: 'Completed' });
    expect((await firingsUntil(m, (f) => f.at(-1)?.status === 'completed')).map((f) => f.status)).toEqual(['skipped', 'skipped', 'completed']);
  });

  it('a firing that reaches a paused mission (a trigger from outside the app) is recorded as skipped (paused); run now refuses it with a 409', async () => {
    const m = await job([{ name: 'only', order: 0, patternId: quick }]);
    expect((await operator.request('POST', `/api/missions/${m}/pause`, { reason: 'quiet week' })).status).toBe(200);
    const refused = await operator.request('POST', `/api/scheduler/jobs/${m}/run-now`, {});
    expect(refused.status).toBe(409);
    expect((await json(refused)).error.message).toMatch(/is paused, so a firing of its schedule would stop at once/);

    await scheduleOf(m).trigger(); // as `temporal schedule trigger` would
    const [skipped] = await firingsUntil(m, (f) => f.length > 0);
    expect(skipped).toMatchObject({ status: 'skipped', skipReason: 'paused', workflowId: expect.stringMatching(`^mission-${m}-scheduled-`) });
    expect(skipped!.error).toMatch(/is paused; resume it before running it/);
    await expect(result(t, skipped!.workflowId!)).rejects.toThrow();
    await eventually(() => jobEvents(m), (e) => e.some((x) => x.type === 'scheduler.job.failed'));
    expect((await firingsOf(m)).map((f) => [f.status, f.skipReason])).toEqual([['skipped', 'paused']]);
    expect((await jobEvents(m)).filter((e) => e.type === 'scheduler.job.skipped')).toHaveLength(1);
  });
});

describe('the scheduler jobs API', () => {
  it('lists the scheduled jobs with their cron, time zone, paused state and next firing; changes them through the schedule; answers mistakes with a 4xx', async () => {
    const m = await job([{ name: 'only', order: 0, patternId: quick }]);
    const { jobs } = await json(await viewer.request('GET', '/api/scheduler/jobs?limit=100'));
    expect(jobs.find((j: { id: string }) => j.id === m)).toMatchObject({
      scheduleId: `mission-${m}`, cron: '0 3 1 1 *', timezone: 'UTC', paused: false, lastFiring: null, lastOutcome: null,
      nextFiringAt: nextRuns('0 3 1 1 *', 'UTC', 1)[0]!.toISOString(),
    });

    const changed = await operator.request('PATCH', `/api/scheduler/jobs/${m}`, { cron: '30 16 * * *', timezone: 'America/Toronto' });
    expect(changed.status).toBe(200);
    expect((await json(changed)).job).toMatchObject({ cron: '30 16 * * *', timezone: 'America/Toronto', nextFiringAt: nextRuns('30 16 * * *', 'America/Toronto', 1)[0]!.toISOString() });
    expect((await json(await viewer.request('GET', `/api/missions/${m}/schedule`))).schedule).toMatchObject({ cron: '30 16 * * *', timezone: 'America/Toronto' });
    const paused = await json(await operator.request('PATCH', `/api/scheduler/jobs/${m}`, { paused: true, note: 'holiday' }));
    expect(paused.job).toMatchObject({ paused: true, note: 'holiday', nextFiringAt: null });
    expect((await listAudit(t.db.sql, { action: 'schedule.paused', entityId: `mission-${m}`, limit: 5 }))[0]?.details).toMatchObject({ note: 'holiday' });
    expect((await json(await operator.request('PATCH', `/api/scheduler/jobs/${m}`, { paused: false }))).job.paused).toBe(false);

    const cases: [ApiClient, string, string, unknown, number, RegExp][] = [
      [viewer, 'POST', `/api/scheduler/jobs/${m}/run-now`, {}, 403, /needs the OPERATOR role/],
      [viewer, 'PATCH', `/api/scheduler/jobs/${m}`, { paused: true }, 403, /needs the OPERATOR role/],
      [operator, 'PATCH', `/api/scheduler/jobs/${m}`, {}, 400, /Name what to change/],
      [operator, 'PATCH', `/api/scheduler/jobs/${m}`, { note: 'why' }, 400, /send paused too/],
      [operator, 'PATCH', `/api/scheduler/jobs/${m}`, { cron: '61 * * * *' }, 400, /^cron: /],
      [operator, 'PATCH', `/api/scheduler/jobs/${m}`, { timezone: 'america/toronto' }, 400, /^timezone: /],
      [operator, 'PATCH', `/api/scheduler/jobs/${m}`, { paused: 'yes' }, 400, /^paused: /],
      [operator, 'POST', `/api/scheduler/jobs/${m}/run-now`, { overlap: 'allow_all' }, 400, /overlap/],
      [operator, 'GET', '/api/scheduler/jobs/not-a-job', undefined, 400, /Not a valid job id/],
      [operator, 'GET', '/api/scheduler/jobs/00000000-0000-4000-8000-000000000000', undefined, 404, /Mission was not found/],
      [operator, 'GET', `/api/scheduler/jobs/${await makeMission(operator, { containerId: env.containerId })}`, undefined, 404, /Scheduled job was not found/],
      [viewer, 'GET', '/api/scheduler/runs?status=done', undefined, 400, /^status: /],
      [viewer, 'GET', '/api/scheduler/runs?before=-1', undefined, 400, /^before: /],
    ];
    for (const [api, method, path, body, status, message] of cases) {
      const res = await api.request(method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(status);
      expect((await json(res)).error.message, `${method} ${path}`).toMatch(message);
    }
  });

  it('pages the firings newest first: next is the before of the next page', async () => {
    const { runs: all } = await json(await viewer.request('GET', '/api/scheduler/runs?limit=200'));
    expect(all.length).toBeGreaterThanOrEqual(4);
    const first = await json(await viewer.request('GET', '/api/scheduler/runs?limit=2'));
    expect(first.runs.map((r: Firing) => r.id)).toEqual(all.slice(0, 2).map((r: Firing) => r.id));
    const second = await json(await viewer.request('GET', `/api/scheduler/runs?limit=2&before=${first.next}`));
    expect(second.runs.map((r: Firing) => r.id)).toEqual(all.slice(2, 4).map((r: Firing) => r.id));
  });

  it('keeps each workspace to its own jobs and firings: another workspace\'s job is not found, and its firings are not listed', async () => {
    const b = await secondWorkspace(t, 'Scheduler B');
    const containerB = await makeContainer(b.admin);
    const patternB = await makePattern(b.admin, containerB, 'async () => ({ b: true })');
    const jobB = await makeMission(b.admin, {
      name: 'B nightly', containerId: containerB, type: 'scheduled', tasks: [{ name: 'only', order: 0, patternId: patternB }], schedule: { cron: '0 3 1 1 *', timezone: 'UTC' },
    });
    await runNow(jobB, b.admin);
    const listB = (q: string) => b.admin.request('GET', `/api/scheduler/runs?jobId=${jobB}${q}`);
    const [doneB] = await eventually(async () => (await json(await listB(''))).runs as Firing[], (f) => f[0]?.status === 'completed');
    const [row] = await t.db.sql<{ ws: string }[]>`select workspace_id::text as ws from scheduler_runs where workflow_id = ${doneB!.workflowId}`;
    expect(row!.ws).toBe(b.id);

    for (const [method, path, body] of [['GET', `/api/scheduler/jobs/${jobB}`], ['PATCH', `/api/scheduler/jobs/${jobB}`, { paused: true }], ['POST', `/api/scheduler/jobs/${jobB}/run-now`, {}]] as const) {
      expect((await operator.request(method, path, body)).status, `${method} ${path}`).toBe(404);
    }
    expect((await json(await operator.request('GET', `/api/scheduler/runs?jobId=${jobB}`))).runs).toEqual([]);
    const seen = JSON.stringify([await json(await operator.request('GET', '/api/scheduler/jobs?limit=100')), await json(await operator.request('GET', '/api/scheduler/runs?limit=200'))]);
    expect(seen).not.toContain(jobB);
    expect(seen).not.toContain(doneB!.workflowId);
    expect((await browser.get(`/schedules/${jobB}/row`)).status).toBe(404);
    expect((await json(await b.admin.request('GET', `/api/scheduler/jobs/${jobB}`))).job.lastOutcome).toMatchObject({ status: 'completed' });
  });
});

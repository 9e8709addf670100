// Global pause (issue 12): one admin switch per workspace holds every open run at its
// next task boundary, every schedule and every agent dispatch; resume restores exactly
// what it held (a run or a schedule someone paused before stays paused); each switch is
// audited once; anyone but an admin is refused and changes nothing.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { dispatchAgentTask } from '../../core/agents/tasks';
import { syncMissionSchedule } from '../../core/schedules/sync';
import { GLOBAL_PAUSE_KEY } from '../../core/safety/global-pause-state';
import { missionScheduleId } from '../../lib/names';
import { ADMIN_PASSWORD, json, signIn, type ApiClient, type TestApp } from '../helpers/app';
import { AGENT_DEFINITION } from '../helpers/agent-fixtures';
import { type MissionEnv, BUSY_PATTERN, eventually, execute, makeMission, makePattern, missionEnv, progress, result, waitFor } from '../helpers/missions';

let t: TestApp;
let env: MissionEnv;
let admin: ApiClient;
let operator: ApiClient;
let viewer: ApiClient;
let containerId: string;
let slow: string;
let quick: string;
let adminName: string;

beforeAll(async () => {
  env = await missionEnv();
  ({ t, admin, operator, viewer, containerId } = env);
  slow = await makePattern(admin, containerId, BUSY_PATTERN, { timeout: 60_000 });
  quick = await makePattern(admin, containerId, 'async () => ({ quick: true })');
  adminName = (await json(await admin.request('GET', '/api/me'))).user.username;
});
afterAll(async () => env?.close());
// Each test leaves the switch off, whatever it asserted.
afterEach(async () => void (await admin.request('POST', '/api/settings/safety/global-resume', {})));

const pauseAll = async (reason: string, as = admin) => as.request('POST', '/api/settings/safety/global-pause', { reason });
const resumeAll = async (as = admin) => as.request('POST', '/api/settings/safety/global-resume', {});
const switchState = async () => (await json(await viewer.request('GET', '/api/settings/safety'))).globalPause;
const audits = async (action: string) => listAudit(t.db.sql, { action, limit: 50 });
const schedule = async (missionId: string) => (await t.deps.temporal.client.schedule.getHandle(missionScheduleId(missionId)).describe()).state;
const twoTasks = (first: string, input: Record<string, unknown> = {}) => [
  { name: 'first', order: 0, patternId: first, input }, { name: 'second', order: 1, patternId: quick },
];

describe('global pause of runs', () => {
  it('holds a running run at its next task boundary, and resume lets it go on', async () => {
    const m = await makeMission(operator, { containerId, tasks: twoTasks(slow, { ms: 1500 }) });
    const workflowId = await execute(operator, m);
    await waitFor(t, workflowId, (p) => p.tasks[0]!.status === 'running');

    const on = await pauseAll('incident 12');
    expect(on.status).toBe(200);
    const body = await json(on);
    expect(body.globalPause).toMatchObject({ enabled: true, by: adminName, reason: 'incident 12' });
    expect(body.paused).toEqual({ runs: 1, schedules: 0 });
    expect(await switchState()).toMatchObject({ enabled: true, by: adminName, reason: 'incident 12' });

    // The running task finishes; the next one waits.
    const held = await waitFor(t, workflowId, (p) => p.tasks[0]!.status === 'completed' && p.status === 'Paused');
    expect(held).toMatchObject({ paused: true, pauseReason: `global pause by ${adminName}: incident 12` });
    expect(held.tasks[1]!.status).toBe('pending');
    // No one resumes it on their own while the switch is on: the refusal says who paused and how it ends.
    const early = await operator.request('POST', `/api/runs/${workflowId}/resume`, {});
    expect(early.status).toBe(409);
    expect((await json(early)).error.message).toMatch(new RegExp(`globally paused \\(by ${adminName}: incident 12\\); an admin ends the global pause`));
    expect((await waitFor(t, workflowId, (p) => p.status === 'Paused')).tasks[1]!.status).toBe('pending');

    const resumedAt = Date.now();
    const off = await resumeAll();
    expect(off.status).toBe(200);
    expect(await json(off)).toMatchObject({ globalPause: { enabled: false, reason: null }, resumed: { runs: 1, schedules: 0 } });
    const final = await result(t, workflowId);
    expect(final.tasks.map((x) => x.status)).toEqual(['completed', 'completed']);
    // The second task started only after the resume.
    expect(Date.parse(final.tasks[1]!.startedAt!)).toBeGreaterThanOrEqual(resumedAt - 50);
    const [paused] = await listAudit(t.db.sql, { action: 'run.paused', entityId: workflowId, limit: 5 });
    expect(paused).toMatchObject({ actor: adminName, details: expect.objectContaining({ reason: `global pause by ${adminName}: incident 12` }) });
  });

  it('leaves a run an operator paused before paused after the resume', async () => {
    const mine = await execute(operator, await makeMission(operator, { containerId, tasks: twoTasks(slow, { ms: 300 }) }));
    await waitFor(t, mine, (p) => p.tasks[0]!.status === 'running');
    expect((await operator.request('POST', `/api/runs/${mine}/pause`, { reason: 'checking numbers' })).status).toBe(200);
    const other = await execute(operator, await makeMission(operator, { containerId, tasks: twoTasks(slow, { ms: 300 }) }));
    await waitFor(t, other, (p) => p.tasks[0]!.status === 'running');

    const body = await json(await pauseAll('incident 13'));
    expect(body).toMatchObject({ paused: { runs: 1 }, pausedBefore: 1 });
    await waitFor(t, other, (p) => p.status === 'Paused');
    expect(await json(await resumeAll())).toMatchObject({ resumed: { runs: 1 } });

    expect((await result(t, other)).status).toBe('Completed');
    const still = await progress(t, mine);
    expect(still).toMatchObject({ paused: true, pauseReason: 'checking numbers' });
    expect(still.tasks[1]!.status).toBe('pending');
    expect((await operator.request('POST', `/api/runs/${mine}/resume`, {})).status).toBe(200);
    expect((await result(t, mine)).status).toBe('Completed');
  });

  it('holds a run started during the pause before its first task, until resume', async () => {
    await pauseAll('incident 14');
    const m = await makeMission(operator, { containerId, tasks: twoTasks(quick) });
    const workflowId = await execute(operator, m);
    // The pause travels with the start (signal-with-start): no task has started, whenever we look.
    const held = await waitFor(t, workflowId, (p) => p.paused);
    expect(held.pauseReason).toBe(`global pause by ${adminName}: incident 14`);
    expect(held.tasks.map((x) => x.status)).toEqual(['pending', 'pending']);
    expect(held.tasks.every((x) => x.startedAt === null)).toBe(true);

    const resumedAt = Date.now();
    expect(await json(await resumeAll())).toMatchObject({ resumed: { runs: 1 } });
    const final = await result(t, workflowId);
    expect(final.tasks.map((x) => x.status)).toEqual(['completed', 'completed']);
    expect(Date.parse(final.tasks[0]!.startedAt!)).toBeGreaterThanOrEqual(resumedAt - 50);
  });
});

describe('a run Temporal starts by itself', () => {
  it('is held from its start too: a schedule triggered from the CLI while on starts a run that waits before its first task', async () => {
    const m = await makeMission(operator, { containerId, type: 'scheduled', tasks: twoTasks(quick), schedule: { cron: '0 9 * * *', timezone: 'UTC' } });
    await pauseAll('incident 16');
    // As `temporal schedule trigger` does: the schedule starts the run (no plan in its input; loadPlan finds the switch on).
    await t.deps.temporal.client.schedule.getHandle(missionScheduleId(m)).trigger();
    const runs = await eventually(
      async () => t.db.sql<{ workflowId: string }[]>`select target_id as "workflowId" from global_pause_holds where kind = 'run' and target_id like ${`mission-${m}-%`}`,
      (rows) => rows.length === 1,
    );
    expect(runs).toHaveLength(1);
    const held = await waitFor(t, runs[0]!.workflowId, (p) => p.paused);
    expect(held.pauseReason).toBe(`global pause by ${adminName}: incident 16`);
    expect(held.tasks.every((x) => x.startedAt === null)).toBe(true);
    expect(await json(await resumeAll())).toMatchObject({ resumed: { runs: 1 } });
    expect((await result(t, runs[0]!.workflowId)).tasks.map((x) => x.status)).toEqual(['completed', 'completed']);
    // The other tests count the workspace's schedules: this one goes.
    expect((await operator.request('DELETE', `/api/missions/${m}/schedule`)).status).toBeLessThan(300);
  });
});

describe('an interrupted switch', () => {
  it('is completed by the next enable and the next disable, with no second audit entry', async () => {
    const workflowId = await execute(operator, await makeMission(operator, { containerId, tasks: twoTasks(slow, { ms: 800 }) }));
    await waitFor(t, workflowId, (p) => p.tasks[0]!.status === 'running');
    const entries = async () => (await audits('safety.global_pause.')).length;
    const before = await entries();
    // As if the process died right after committing the switch (and its entry), before any run was paused.
    const put = (value: Record<string, unknown>) => t.db.sql`
      insert into workspace_settings (workspace_id, key, value) values (${t.ws}, ${GLOBAL_PAUSE_KEY}, ${t.db.sql.json(value as never)})
      on conflict (workspace_id, key) do update set value = excluded.value`;
    await put({ enabled: true, by: adminName, byId: null, at: new Date().toISOString(), reason: 'crashed', hold: `global pause by ${adminName}: crashed` });
    const retried = await json(await pauseAll('retry'));
    expect(retried).toMatchObject({ globalPause: { enabled: true, reason: 'crashed' }, paused: { runs: 1 } });
    await waitFor(t, workflowId, (p) => p.status === 'Paused' && p.pauseReason === `global pause by ${adminName}: crashed`);
    // As if the process died right after committing the resume, before any run was resumed.
    await put({ enabled: false, by: adminName, byId: null, at: new Date().toISOString(), reason: null, hold: null });
    expect(await json(await resumeAll())).toMatchObject({ resumed: { runs: 1 } });
    expect((await result(t, workflowId)).status).toBe('Completed');
    expect(await entries()).toBe(before);
  });
});

describe('global pause of schedules', () => {
  it('pauses the schedules that ran, and the resume restores exactly those', async () => {
    const sched = () => ({ containerId, type: 'scheduled', tasks: [{ name: 'only', order: 0, patternId: quick }], schedule: { cron: '0 9 * * *', timezone: 'UTC' } });
    const running = await makeMission(operator, sched());
    const pausedInApp = await makeMission(operator, sched());
    const pausedInTemporal = await makeMission(operator, sched());
    expect((await operator.request('POST', `/api/schedules/${pausedInApp}/pause`, { note: 'maintenance' })).status).toBe(200);
    // Paused behind the app's back (the CLI): the sync takes it over as the schedule's own pause.
    await t.deps.temporal.client.schedule.getHandle(missionScheduleId(pausedInTemporal)).pause('from the cli');

    const body = await json(await pauseAll('incident 15'));
    expect(body.paused).toEqual({ runs: 0, schedules: 1 });
    expect(await schedule(running)).toMatchObject({ paused: true, note: `global pause by ${adminName}: incident 15` });
    expect(await schedule(pausedInApp)).toMatchObject({ paused: true, note: 'maintenance' });
    expect(await schedule(pausedInTemporal)).toMatchObject({ paused: true, note: 'from the cli' });
    // Unpaused behind the app's back while held: the next sync (the reconciler's) holds it again.
    await t.deps.temporal.client.schedule.getHandle(missionScheduleId(running)).unpause('from the cli');
    await syncMissionSchedule(t.db.sql, t.deps.temporal, running, { observe: true });
    expect(await schedule(running)).toMatchObject({ paused: true, note: `global pause by ${adminName}: incident 15` });
    // Enabling again changes nothing.
    expect(await json(await pauseAll('again'))).toMatchObject({ globalPause: { reason: 'incident 15' }, paused: { runs: 0, schedules: 0 } });

    expect(await json(await resumeAll())).toMatchObject({ resumed: { schedules: 1 } });
    expect((await schedule(running)).paused).toBe(false);
    expect(await schedule(pausedInApp)).toMatchObject({ paused: true, note: 'maintenance' });
    expect(await schedule(pausedInTemporal)).toMatchObject({ paused: true, note: 'from the cli' });
    const listed = (await json(await viewer.request('GET', '/api/schedules'))).schedules as { missionId: string; paused: boolean }[];
    expect(Object.fromEntries(listed.filter((s) => [running, pausedInApp, pausedInTemporal].includes(s.missionId)).map((s) => [s.missionId, s.paused])))
      .toEqual({ [running]: false, [pausedInApp]: true, [pausedInTemporal]: true });
  });
});

describe('global pause of agents', () => {
  it('dispatches no task to the workspace\'s agents while on, without touching their own paused flag', async () => {
    const res = await admin.request('POST', '/api/agent-definitions', { ...AGENT_DEFINITION, name: `gp-${Date.now()}` });
    expect(res.status).toBe(201);
    const definitionId = (await json(res)).definition.id;
    const agent = await admin.request('POST', '/api/agents', { definitionId, name: `gp-agent-${Date.now()}`, capabilities: ['diagnostics'] });
    expect(agent.status, await agent.clone().text()).toBe(201);
    const pausedBefore = (await json(agent)).agent.paused;
    await pauseAll('incident 16');
    const outcome = await dispatchAgentTask(t.db.sql, {
      workflowId: 'mission-x-gp', runId: 'r', attempt: 1, missionId: '00000000-0000-4000-8000-000000000001', missionName: 'm', trigger: 'manual',
      taskId: 't', taskName: 'task', order: 0, execSeq: 1, requiresApproval: false, maxAttempts: 1, startedBy: null,
      agent: { definitionId, definitionVersion: 1, definitionName: 'Test agent', selection: 'capability', capability: 'diagnostics', config: { timeout: 1000, retryCount: 0, failureAction: 'retry' }, heartbeatTimeoutMs: 10_000 },
      input: {}, context: { previous: {}, notes: null, runInput: null } as never, taskToken: new Uint8Array([1]),
    }, t.ws, 'instance-key');
    expect(outcome).toEqual({ noAgent: 'the workspace is on global pause', held: true }); // held: the attempt waits it out, never giving up
    const [{ paused }] = (await json(await admin.request('GET', '/api/agents'))).agents.filter((a: { definitionId: string }) => a.definitionId === definitionId);
    expect(paused).toBe(pausedBefore);
  });
});

describe('who may switch it', () => {
  it('refuses anyone but an admin (403) and changes nothing; a missing reason is a 400', async () => {
    const before = (await audits('safety.global_pause.')).length;
    for (const who of [operator, viewer]) expect((await pauseAll('nope', who)).status).toBe(403);
    expect((await admin.request('POST', '/api/settings/safety/global-pause', {})).status).toBe(400);
    expect((await pauseAll('   ')).status).toBe(400);
    expect(await switchState()).toMatchObject({ enabled: false });

    await pauseAll('incident 17');
    for (const who of [operator, viewer]) expect((await resumeAll(who)).status).toBe(403);
    expect(await switchState()).toMatchObject({ enabled: true, reason: 'incident 17' });
    const op = await signIn(t, env.operatorName, 'operator-password-123');
    expect((await op.post('/settings/safety/global-resume', {})).status).toBe(403);
    expect(await switchState()).toMatchObject({ enabled: true });
    expect((await audits('safety.global_pause.')).length).toBe(before + 1);
  });

  it('audits exactly one entry per enable and per disable, with who and why', async () => {
    const count = async () => ({ on: (await audits('safety.global_pause.enabled')).length, off: (await audits('safety.global_pause.disabled')).length });
    const before = await count();
    await pauseAll('incident 18');
    await pauseAll('incident 18 again');
    await resumeAll();
    await resumeAll();
    expect(await count()).toEqual({ on: before.on + 1, off: before.off + 1 });
    const [on] = await audits('safety.global_pause.enabled');
    const [off] = await audits('safety.global_pause.disabled');
    expect(on).toMatchObject({ actor: adminName, details: { reason: 'incident 18' } });
    expect(off).toMatchObject({ actor: adminName, details: expect.objectContaining({ reason: 'incident 18' }) });
  });
});

describe('the pages', () => {
  it('show a banner on every page while on, switched from the settings form', async () => {
    const browser = await signIn(t, adminName, ADMIN_PASSWORD);
    expect((await browser.post('/settings/safety/global-pause', { reason: 'incident 19' })).status).toBe(303);
    const banner = async (path: string) => (await (await browser.get(path)).text()).includes('Global pause is on');
    // The layout's copy is cached for a moment and dropped on the safety event: read until it shows.
    expect(await eventually(() => banner('/runs'), (b) => b)).toBe(true);
    for (const path of ['/', '/missions', '/schedules', '/settings']) expect(await banner(path), path).toBe(true);
    expect(await (await browser.get('/settings')).text()).toContain('Resume everything');
    expect((await browser.post('/settings/safety/global-resume', {})).status).toBe(303);
    expect(await eventually(() => banner('/runs'), (b) => !b)).toBe(false);
  });
});

// Missions and their schedules belong to one workspace: from workspace A,
// workspace B's ids answer every mission and schedule route exactly like ids
// that do not exist and change nothing (B's rows nor its Temporal schedule);
// A's lists never show B's missions; names are unique per workspace only; and a
// mission of A can use neither B's container nor B's pattern.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { missionScheduleId } from '../../lib/names';
import { ADMIN_PASSWORD, ADMIN_TOKEN } from '../helpers/env';
import { apiClient, createTestApp, json, signIn, type ApiClient, type Browser, type TestApp } from '../helpers/app';
import { expectNoLeaks, maskedAnswer, secondWorkspace } from '../helpers/workspaces';

let t: TestApp;
let wsB: string;
/** Workspace A is the default one: its admin's token and session. */
let adminA: ApiClient;
let browserA: Browser;
/** B's own admin, who made B's records through the API. */
let adminB: ApiClient;
/** Every name and description in B carries it, so a page that leaks B's records shows it. */
const MARK = `zzb-${randomUUID().slice(0, 8)}`;
const NAME = `Weekly ${MARK}`;
const B = { mission: '', container: '', pattern: '', task: '' };
const A = { mission: '', container: '', pattern: '' };
const CODE = 'async (input) => ({ ok: true })';
/** Once a year: B's schedule, paused, never starts anything during the test. */
const SCHEDULE = { cron: '0 3 1 1 *', timezone: 'UTC', paused: true, note: `held ${MARK}` };

beforeAll(async () => {
  t = await createTestApp();
  adminA = apiClient(t, ADMIN_TOKEN);
  browserA = await signIn(t, 'admin', ADMIN_PASSWORD);
  ({ id: wsB, admin: adminB } = await secondWorkspace(t, `Team ${MARK}`));
  B.container = (await json(await adminB.request('POST', '/api/containers', { name: 'Outreach', category: 'messaging', description: MARK }))).container.id;
  B.pattern = (await json(await adminB.request('POST', '/api/patterns', { containerId: B.container, name: `p-${MARK}`, code: CODE }))).pattern.id;
  const created = await adminB.request('POST', '/api/missions', {
    name: NAME, description: MARK, type: 'scheduled', status: 'active', containerId: B.container, schedule: SCHEDULE,
    tasks: [{ name: `task-${MARK}`, order: 0, patternId: B.pattern }],
  });
  expect(created.status).toBe(201);
  const mission = (await json(created)).mission;
  B.mission = mission.id;
  B.task = mission.tasks[0].id;
  // A's own mission, container and pattern: the routes that take B's ids in a body use them.
  A.container = (await json(await adminA.request('POST', '/api/containers', { name: 'Home', category: 'custom' }))).container.id;
  A.pattern = (await json(await adminA.request('POST', '/api/patterns', { containerId: A.container, name: 'home', code: CODE }))).pattern.id;
  A.mission = (await json(await adminA.request('POST', '/api/missions', {
    name: 'Home mission', type: 'manual', containerId: A.container, tasks: [{ name: 'one', order: 0, patternId: A.pattern }],
  }))).mission.id;
});
afterAll(async () => {
  await t?.close();
});

/** What B holds, as one fingerprint per table, and its schedule as Temporal has it: any change to them changes it. */
async function snapshotB() {
  const o = t.db.owner;
  const md5 = async (rows: Promise<{ h: string | null }[]>) => (await rows)[0]!.h;
  const d = await t.deps.temporal.client.schedule.getHandle(missionScheduleId(B.mission)).describe();
  return {
    missions: await md5(o`select md5(string_agg(to_jsonb(x)::text, ',' order by x.id)) as h from missions x where workspace_id = ${wsB}`),
    tasks: await md5(o`
      select md5(string_agg(to_jsonb(t)::text, ',' order by t.id)) as h
      from mission_tasks t join missions m on m.id = t.mission_id where m.workspace_id = ${wsB}`),
    sync: await md5(o`select md5(string_agg(to_jsonb(x)::text, ',' order by x.mission_id)) as h from mission_sync x where mission_id = ${B.mission}`),
    deliveries: (await o`select count(*)::int as n from trigger_deliveries where mission_id = ${B.mission}`)[0],
    audit: (await o`select count(*)::int as n, max(id)::text as last from audit_log where workspace_id = ${wsB}`)[0],
    schedule: { paused: d.state.paused, note: d.state.note, token: Buffer.from(d.raw.conflictToken ?? new Uint8Array()).toString('hex'), actions: d.info.numActionsTaken },
  };
}

type Ids = { mission: string; container: string; pattern: string; task: string };
// A new task row's key is made of the time and a random number: masked too.
const answer = (res: Response, ids: Ids) => maskedAnswer(res, ids, (body) => body.replace(/\bn(?=[0-9a-z]*\d)[0-9a-z]{8,}\b/g, ':key'));

const htmx = { headers: { 'HX-Request': 'true' } };
const range = { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' };
const plannerForm = (containerId: string, patternId: string) => ({
  name: 'taken over', description: '', type: 'manual', priority: 'medium', containerId, maxConcurrency: '1', retryPolicy: 'none', retryDelayMs: '1000',
  onApprovalTimeout: 'reject', cron: '0 9 * * 1-5', timezone: 'UTC', overlap: 'skip', intent: 'active',
  'tasks[t0][name]': 'one', 'tasks[t0][order]': '0', 'tasks[t0][source]': `pattern:${patternId}`, 'tasks[t0][input]': '{}',
});

/** Every mission and schedule route that takes an id, in its path, its query or its body. */
const routes: [string, (ids: Ids) => Promise<Response>][] = [
  ['GET /api/missions/:id', (i) => adminA.request('GET', `/api/missions/${i.mission}`)],
  ['GET /api/missions?containerId', (i) => adminA.request('GET', `/api/missions?containerId=${i.container}`)],
  ['PUT /api/missions/:id', (i) => adminA.request('PUT', `/api/missions/${i.mission}`, { description: 'taken over' })],
  ['PATCH /api/missions/:id', (i) => adminA.request('PATCH', `/api/missions/${i.mission}`, { schedule: { cron: '* * * * *' } })],
  ['POST /api/missions/:id/tasks', (i) => adminA.request('POST', `/api/missions/${i.mission}/tasks`, { name: 'extra', order: 5 })],
  ['PUT /api/missions/:id/tasks/:taskId', (i) => adminA.request('PUT', `/api/missions/${i.mission}/tasks/${i.task}`, { name: 'renamed', order: 0 })],
  ['POST /api/missions/:id/execute', (i) => adminA.request('POST', `/api/missions/${i.mission}/execute`, {})],
  ['POST /api/missions/:id/pause', (i) => adminA.request('POST', `/api/missions/${i.mission}/pause`, { reason: 'taken over' })],
  ['POST /api/missions/:id/resume', (i) => adminA.request('POST', `/api/missions/${i.mission}/resume`)],
  ['GET /api/missions/:id/runs', (i) => adminA.request('GET', `/api/missions/${i.mission}/runs`)],
  ['GET /api/missions/:id/logs', (i) => adminA.request('GET', `/api/missions/${i.mission}/logs`)],
  ['GET /api/missions/:id/schedule', (i) => adminA.request('GET', `/api/missions/${i.mission}/schedule`)],
  ['PUT /api/missions/:id/schedule', (i) => adminA.request('PUT', `/api/missions/${i.mission}/schedule`, { cron: '* * * * *' })],
  ['POST /api/missions/:id/trigger-secret', (i) => adminA.request('POST', `/api/missions/${i.mission}/trigger-secret`)],
  ['POST /api/missions/:id/trigger (unsigned)', async (i) =>
    t.app.request(`/api/missions/${i.mission}/trigger`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })],
  ['POST /api/missions (containerId)', (i) => adminA.request('POST', '/api/missions', { name: 'taken over', type: 'manual', containerId: i.container })],
  ['POST /api/missions (patternId)', (i) => adminA.request('POST', '/api/missions', {
    name: 'taken over', type: 'manual', containerId: A.container, tasks: [{ name: 'one', order: 0, patternId: i.pattern }],
  })],
  ['PATCH /api/missions/:A (containerId)', (i) => adminA.request('PATCH', `/api/missions/${A.mission}`, { containerId: i.container })],
  ['POST /api/missions/:A/tasks (patternId)', (i) => adminA.request('POST', `/api/missions/${A.mission}/tasks`, { name: 'extra', order: 1, patternId: i.pattern })],
  ['POST /api/schedules/:id/pause', (i) => adminA.request('POST', `/api/schedules/${i.mission}/pause`, { note: 'taken over' })],
  ['POST /api/schedules/:id/unpause', (i) => adminA.request('POST', `/api/schedules/${i.mission}/unpause`, {})],
  ['POST /api/schedules/:id/run', (i) => adminA.request('POST', `/api/schedules/${i.mission}/run`)],
  ['POST /api/schedules/:id/backfill', (i) => adminA.request('POST', `/api/schedules/${i.mission}/backfill`, range)],
  ['GET /missions/:id', (i) => browserA.get(`/missions/${i.mission}`)],
  ['GET /missions/:id/edit', (i) => browserA.get(`/missions/${i.mission}/edit`)],
  ['GET /missions?containerId', (i) => browserA.get(`/missions?containerId=${i.container}`)],
  ['GET /missions/new?containerId', (i) => browserA.get(`/missions/new?containerId=${i.container}`)],
  ['GET /missions/planner/task-row?containerId', (i) => browserA.get(`/missions/planner/task-row?containerId=${i.container}`)],
  ['POST /missions (containerId)', (i) => browserA.post('/missions', plannerForm(i.container, A.pattern))],
  ['POST /missions (patternId)', (i) => browserA.post('/missions', plannerForm(A.container, i.pattern))],
  ['POST /missions/:id', (i) => browserA.post(`/missions/${i.mission}`, plannerForm(A.container, A.pattern))],
  ['POST /missions/:id/execute', (i) => browserA.post(`/missions/${i.mission}/execute`, {})],
  ['POST /missions/:id/pause', (i) => browserA.post(`/missions/${i.mission}/pause`, { reason: 'taken over' })],
  ['POST /missions/:id/resume', (i) => browserA.post(`/missions/${i.mission}/resume`, {})],
  ['POST /missions/:id/trigger-secret', (i) => browserA.post(`/missions/${i.mission}/trigger-secret`, {})],
  ['GET /schedules/:id/row', (i) => browserA.get(`/schedules/${i.mission}/row`)],
  ['GET /schedules/:id/row (live)', (i) => browserA.get(`/schedules/${i.mission}/row`, { headers: { 'X-Live-Refresh': '1' } })],
  ['POST /schedules/:id/pause', (i) => browserA.post(`/schedules/${i.mission}/pause`, { note: 'taken over' })],
  ['POST /schedules/:id/pause (htmx)', (i) => browserA.post(`/schedules/${i.mission}/pause`, { note: 'taken over' }, htmx)],
  ['POST /schedules/:id/unpause', (i) => browserA.post(`/schedules/${i.mission}/unpause`, {})],
  ['POST /schedules/:id/run', (i) => browserA.post(`/schedules/${i.mission}/run`, {})],
  ['POST /schedules/:id/run (htmx)', (i) => browserA.post(`/schedules/${i.mission}/run`, {}, htmx)],
  ['POST /schedules/:id/backfill', (i) => browserA.post(`/schedules/${i.mission}/backfill`, { start: '2026-01-01T00:00', end: '2026-01-02T00:00' })],
  // Deletes last: one that went through would hide what the others do.
  ['DELETE /api/missions/:id/tasks/:taskId', (i) => adminA.request('DELETE', `/api/missions/${i.mission}/tasks/${i.task}`)],
  ['DELETE /api/missions/:id/schedule', (i) => adminA.request('DELETE', `/api/missions/${i.mission}/schedule`)],
  ['DELETE /api/missions/:id', (i) => adminA.request('DELETE', `/api/missions/${i.mission}`)],
  ['POST /missions/:id/delete', (i) => browserA.post(`/missions/${i.mission}/delete`, {})],
];

/** Answers that are not a 404: a filter finds nothing, an unsigned trigger is refused alike, an id in a body is a 400. */
const expectedStatus = (name: string) =>
  name.includes('?') ? 200 : name.includes('(unsigned)') ? 401 : /\((containerId|patternId)\)$/.test(name) ? 400 : 404;

describe("another workspace's missions and schedules", () => {
  it('answer every route exactly like ids that do not exist, and nothing of them changes', async () => {
    const before = await snapshotB();
    const differences: string[] = [];
    const statuses = new Map<string, number>();
    for (const [name, send] of routes) {
      const missing = { mission: randomUUID(), container: randomUUID(), pattern: randomUUID(), task: randomUUID() };
      const theirs = await answer(await send(B), B);
      const none = await answer(await send(missing), missing);
      statuses.set(name, theirs.status);
      if (JSON.stringify(theirs) !== JSON.stringify(none)) differences.push(name);
      expect.soft(theirs, name).toEqual(none);
    }
    expect(differences).toEqual([]);
    for (const [name, status] of statuses) expect.soft(status, name).toBe(expectedStatus(name));
    expect(await snapshotB()).toEqual(before);
    // B's own admin still sees B's mission and its paused schedule as they were.
    const mine = await json(await adminB.request('GET', `/api/missions/${B.mission}`));
    expect(mine.mission).toMatchObject({ id: B.mission, workspaceId: wsB, description: MARK, schedule: { paused: true, note: SCHEDULE.note } });
    expect(mine.mission.tasks.map((x: { id: string }) => x.id)).toEqual([B.task]);
    // And A's mission kept its own container and task.
    const home = await json(await adminA.request('GET', `/api/missions/${A.mission}`));
    expect(home.mission).toMatchObject({ containerId: A.container, tasks: [{ name: 'one', patternId: A.pattern }] });
  });

  it('never show in the lists and pages of this workspace', async () => {
    const pages = [
      adminA.request('GET', '/api/missions?limit=100'),
      adminA.request('GET', '/api/missions?q=weekly'),
      adminA.request('GET', '/api/schedules?limit=100'),
      browserA.get('/missions'),
      browserA.get('/missions?q=weekly'),
      browserA.get('/missions/new'),
      browserA.get('/schedules'),
    ];
    await expectNoLeaks(pages, [MARK, B.mission, B.container]);
    const theirs = await json(await adminB.request('GET', '/api/missions'));
    expect(theirs.missions.map((m: { id: string }) => m.id)).toEqual([B.mission]);
    const schedules = await json(await adminB.request('GET', '/api/schedules'));
    expect(schedules.schedules).toMatchObject([{ missionId: B.mission, paused: true, note: SCHEDULE.note }]);
  });

  it('may have the same name as a mission of this workspace, in each', async () => {
    const res = await adminA.request('POST', '/api/missions', { name: NAME, type: 'manual', containerId: A.container });
    expect(res.status).toBe(201);
    const mine = (await json(res)).mission;
    expect(mine.workspaceId).toBe(t.ws);
    expect((await adminA.request('POST', '/api/missions', { name: NAME.toUpperCase(), type: 'manual', containerId: A.container })).status).toBe(409);
    const rows = await t.db.owner<{ id: string; workspace_id: string }[]>`
      select id, workspace_id from missions where lower(name) = lower(${NAME}) order by workspace_id = ${wsB}`;
    expect(rows).toEqual([{ id: mine.id, workspace_id: t.ws }, { id: B.mission, workspace_id: wsB }]);
    // Each creation is audited in its own workspace.
    const [entry] = await listAudit(t.db.sql, { action: 'mission.created', entityId: B.mission, limit: 1 }, { id: wsB });
    expect(entry).toMatchObject({ workspaceId: wsB });
    expect(await listAudit(t.db.sql, { action: 'mission.created', entityId: B.mission, limit: 1 }, { id: t.ws })).toEqual([]);
  });

  it("are changed by their own workspace's operators, audited there", async () => {
    const res = await adminB.request('POST', `/api/schedules/${B.mission}/unpause`, { note: 'go' });
    expect(res.status).toBe(200);
    expect((await json(res)).schedule).toMatchObject({ missionId: B.mission, paused: false, note: 'go' });
    expect((await json(await adminB.request('POST', `/api/schedules/${B.mission}/pause`, {}))).schedule.paused).toBe(true);
    const entries = await listAudit(t.db.sql, { action: 'schedule.', limit: 5 }, { id: wsB });
    expect(entries.map((e) => e.action)).toEqual(['schedule.paused', 'schedule.unpaused']);
    expect(await listAudit(t.db.sql, { action: 'schedule.', limit: 5 }, { id: t.ws })).toEqual([]);
    expect((await t.deps.temporal.client.schedule.getHandle(missionScheduleId(B.mission)).describe()).state.paused).toBe(true);
  });
});

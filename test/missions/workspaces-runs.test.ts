// Runs and the board belong to one workspace: from workspace A, a run of
// workspace B answers every run route exactly like a run that does not exist
// and nothing reaches its history; A's board, runs list, approvals inbox and
// navigation count never show it; and the shared caches (run view, board,
// inbox, count) never serve one workspace's answer to another.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlan } from '../../core/missions/missions';
import { startOptions } from '../../core/runs/start';
import { countRuns } from '../../core/runs/visibility';
import { MISSION_WORKFLOW_TYPE, missionWorkflowId } from '../../lib/names';
import { newMissionInput } from '../../workflows/messages';
import { ADMIN_PASSWORD } from '../helpers/env';
import { json, signIn, type ApiClient, type Browser, type TestApp } from '../helpers/app';
import { maskedAnswer, secondWorkspace } from '../helpers/workspaces';
import { type MissionEnv, eventually, makeMission, makePattern, missionEnv, progress, waitFor } from '../helpers/missions';

let t: TestApp;
let env: MissionEnv;
let adminA: ApiClient;
let browserA: Browser;
let adminB: ApiClient;
let browserB: Browser;
let wsB: string;
/** A's mission: B's run is started from its plan, so A's mission filter is tried against B's run too. */
let missionA: string;
/** B's run, waiting for a decision on its one task. */
let runB: string;
let taskId: string;

beforeAll(async () => {
  env = await missionEnv();
  t = env.t;
  adminA = env.admin;
  browserA = await signIn(t, 'admin', ADMIN_PASSWORD);
  ({ id: wsB, admin: adminB, browser: browserB } = await secondWorkspace(t, `Team ${randomUUID().slice(0, 8)}`));
  const pattern = await makePattern(adminA, env.containerId, 'async () => ({ draft: "hello" })', { failureAction: 'skip' });
  missionA = await makeMission(adminA, { containerId: env.containerId, tasks: [{ name: 'draft', order: 0, patternId: pattern, requiresApproval: true }] });
  // A run that carries B's WorkspaceId, started as the app starts runs.
  const plan = await buildPlan(t.db.sql, missionA);
  taskId = plan.tasks[0]!.id;
  runB = missionWorkflowId(missionA, `b-${randomUUID().slice(0, 8)}`);
  await t.deps.temporal.client.workflow.start(MISSION_WORKFLOW_TYPE, {
    taskQueue: t.config.TEMPORAL_TASK_QUEUE, workflowId: runB, ...startOptions({ ...plan, workspaceId: wsB }, 'manual'),
    args: [newMissionInput({ missionId: missionA, trigger: 'manual', plan, startedBy: { id: null, name: 'admin' } })],
  });
  await waitFor(t, runB, (p) => p.status === 'NeedsApproval');
  await eventually(() => countRuns(t.deps.temporal, { workspace: { id: wsB, isDefault: false }, status: 'NeedsApproval' }), (n) => n === 1);
}, 120_000);
afterAll(async () => {
  await t?.deps.temporal.client.workflow.getHandle(runB).terminate('the test file is done').catch(() => undefined);
  await env?.close();
});

/** What B's run has been through: every history event's type, and its state. */
async function historyOfB() {
  const history = await t.deps.temporal.client.workflow.getHandle(runB).fetchHistory();
  const p = await progress(t, runB);
  return { events: (history.events ?? []).map((e) => e.eventType), status: p.status, paused: p.paused, decisions: p.tasks[0]!.decisions.length };
}

/** One answer with the run's id masked, so that two answers compare whatever run they were about. */
const answer = (res: Response, workflowId: string) => maskedAnswer(res, [['run', workflowId], ['run', encodeURIComponent(workflowId)]]);

const htmx = { headers: { 'HX-Request': 'true' } };
const live = { headers: { 'HX-Request': 'true', 'X-Live-Refresh': '1' } };
/** The runs list comes back narrowed to a mission with no run in A, so the page is the same whatever else runs. */
const listFilter = () => ({ missionId: missionA });

/** Every run route that takes a run's id, in its path or its body. */
const routes: [string, (id: string) => Promise<Response>][] = [
  ['GET /api/runs/:id', (id) => adminA.request('GET', `/api/runs/${id}`)],
  ['GET /api/runs/:id/tasks/:taskId/output', (id) => adminA.request('GET', `/api/runs/${id}/tasks/${taskId}/output`)],
  ['GET /api/runs/:id/logs', (id) => adminA.request('GET', `/api/runs/${id}/logs`)],
  ['POST /api/runs/:id/pause', (id) => adminA.request('POST', `/api/runs/${id}/pause`, { reason: 'taken over' })],
  ['POST /api/runs/:id/resume', (id) => adminA.request('POST', `/api/runs/${id}/resume`, {})],
  ['POST /api/runs/:id/decisions', (id) => adminA.request('POST', `/api/runs/${id}/decisions`, { taskId, action: 'approve' })],
  ['POST /api/runs/:id/decisions (reject)', (id) => adminA.request('POST', `/api/runs/${id}/decisions`, { taskId, action: 'reject', notes: 'no' })],
  ['POST /api/runs/cancel', (id) => adminA.request('POST', '/api/runs/cancel', { workflowIds: [id], reason: 'taken over' })],
  ['GET /runs/:id', (id) => browserA.get(`/runs/${id}`)],
  ['GET /runs/:id (htmx)', (id) => browserA.get(`/runs/${id}`, htmx)],
  ['GET /runs/:id/tasks/:taskId/output', (id) => browserA.get(`/runs/${id}/tasks/${taskId}/output`)],
  ['GET /runs/:id/timeline', (id) => browserA.get(`/runs/${id}/timeline`, htmx)],
  ['POST /runs/:id/pause', (id) => browserA.post(`/runs/${id}/pause`, { reason: 'taken over' })],
  ['POST /runs/:id/pause (htmx)', (id) => browserA.post(`/runs/${id}/pause`, { reason: 'taken over' }, htmx)],
  ['POST /runs/:id/resume', (id) => browserA.post(`/runs/${id}/resume`, {})],
  ['POST /runs/:id/decide', (id) => browserA.post(`/runs/${id}/decide`, { taskId, action: 'approve' })],
  ['POST /runs/:id/decide (htmx)', (id) => browserA.post(`/runs/${id}/decide`, { taskId, action: 'approve' }, htmx)],
  ['POST /runs/:id/decide (inbox)', (id) => browserA.post(`/runs/${id}/decide`, { taskId, action: 'approve', from: 'inbox', missionId: missionA }, htmx)],
  ['POST /runs/cancel', (id) => browserA.post('/runs/cancel', { workflowIds: id, ...listFilter() })],
  // Cancels last: one that went through would hide what the others do.
  ['POST /api/runs/:id/cancel', (id) => adminA.request('POST', `/api/runs/${id}/cancel`, { reason: 'taken over' })],
  ['POST /runs/:id/cancel', (id) => browserA.post(`/runs/${id}/cancel`, {})],
  ['POST /runs/:id/cancel (htmx)', (id) => browserA.post(`/runs/${id}/cancel`, {}, htmx)],
];

describe("another workspace's run", () => {
  it('answers every run route exactly like a run that does not exist, and nothing reaches its history', async () => {
    const before = await historyOfB();
    expect(before.status).toBe('NeedsApproval');
    const audited = () => t.db.owner<{ id: string }[]>`select id::text from audit_log where entity_id = ${runB} order by id`;
    const auditedBefore = await audited();
    const differences: string[] = [];
    for (const [name, send] of routes) {
      const missing = missionWorkflowId(randomUUID(), `b-${randomUUID().slice(0, 8)}`);
      const theirs = await answer(await send(runB), runB);
      const none = await answer(await send(missing), missing);
      if (JSON.stringify(theirs) !== JSON.stringify(none)) differences.push(name);
      expect.soft(theirs, name).toEqual(none);
      expect.soft(theirs.status, name).not.toBe(500);
    }
    expect(differences).toEqual([]);
    // The batch cancels answer `not_found` for it, as for any unknown run.
    const batch = await json(await adminA.request('POST', '/api/runs/cancel', { workflowIds: [runB] }));
    expect(batch).toMatchObject({ results: [{ workflowId: runB, outcome: 'not_found', message: 'No such run.' }], requested: 0, notFound: 1 });
    expect(await historyOfB()).toEqual(before);
    expect(await audited()).toEqual(auditedBefore);
    // B's own admin still reads it, waiting as it was.
    const mine = await json(await adminB.request('GET', `/api/runs/${runB}`));
    expect(mine.summary).toMatchObject({ workflowId: runB, workspaceId: wsB, status: 'NeedsApproval' });
  });

  it("is a 404 from A even right after B's viewers loaded it into the shared run view", async () => {
    const missing = missionWorkflowId(randomUUID(), `b-${randomUUID().slice(0, 8)}`);
    for (const init of [{}, live]) {
      const theirs = await browserB.get(`/runs/${runB}`, init);
      expect(theirs.status).toBe(200);
      expect(await theirs.text()).toContain(runB);
      // A live refresh shares the cached view: it must still pass A's gate.
      const fromA = await answer(await browserA.get(`/runs/${runB}`, live), runB);
      expect(fromA).toEqual(await answer(await browserA.get(`/runs/${missing}`, live), missing));
      expect(fromA.status).toBe(404);
    }
  });

  it("never shows in A's board, runs list, approvals inbox or navigation count, whichever workspace loaded them first", async () => {
    const inB = await eventually(async () => json(await adminB.request('GET', '/api/runs')), (l) => l.runs.length === 1);
    expect(inB.runs.map((r: { workflowId: string }) => r.workflowId)).toEqual([runB]);
    expect((await json(await adminB.request('GET', '/api/approvals'))).approvals.map((a: { run: { workflowId: string } }) => a.run.workflowId)).toEqual([runB]);
    // B loads each shared page first, then A (a live refresh, which shares a cached load), then the other way round.
    const pages = ['/', '/board', '/runs', `/runs?missionId=${missionA}`, '/approvals', `/approvals?missionId=${missionA}`];
    for (const path of pages) {
      for (const [first, second] of [[browserB, browserA], [browserA, browserB]] as const) {
        const one = await first.get(path, path === '/runs' ? {} : live);
        const two = await second.get(path, path === '/runs' ? {} : live);
        const [a, b] = first === browserA ? [one, two] : [two, one];
        expect(a.status, path).toBe(200);
        expect(await a.text(), path).not.toContain(runB);
        if (!path.includes('missionId')) expect(await b.text(), path).toContain(runB);
      }
    }
    for (const path of ['/api/runs?limit=100', `/api/runs?missionId=${missionA}`, '/api/approvals', `/api/approvals?missionId=${missionA}`]) {
      const res = await adminA.request('GET', path);
      expect(res.status, path).toBe(200);
      expect(await res.text(), path).not.toContain(runB);
    }
    // The navigation's count: B's one waiting run counts in B's, never in A's.
    const count = async (b: Browser) => /<\/span>(\d+)<span/.exec(await (await b.get('/live/nav/approvals', htmx)).text())?.[1] ?? '0';
    expect(await count(browserB)).toBe('1');
    const home = { id: t.ws, isDefault: true };
    const [navA, inA] = await eventually(async () => [await count(browserA), String(await countRuns(t.deps.temporal, { workspace: home, status: 'NeedsApproval' }))], ([x, y]) => x === y);
    expect(navA).toBe(inA);
    expect(await count(browserB)).toBe('1');
  });
});

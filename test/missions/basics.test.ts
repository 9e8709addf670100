// A mission runs its tasks in order, later tasks see earlier outputs, and
// the run is listed from Temporal's search attributes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { json, type ApiClient, type TestApp } from '../helpers/app';
import { type MissionEnv, execute, makeContainer, makeMission, makePattern, missionEnv, result, eventually } from '../helpers/missions';

let t: TestApp;
let env: MissionEnv;
let admin: ApiClient;
let operator: ApiClient;
let viewer: ApiClient;
let containerId: string;

beforeAll(async () => {
  env = await missionEnv();
  ({ t, admin, operator, viewer, containerId } = env);
});
afterAll(async () => env?.close());

describe('a multi-task mission', () => {
  it('runs to completion, passing earlier outputs to later tasks, counting each pattern run once', async () => {
    const fetch = await makePattern(admin, containerId, 'async (input) => ({ leads: input.names.map((n) => ({ name: n })) })');
    const score = await makePattern(admin, containerId, 'async (input, ctx) => ({ scored: ctx.previous.fetch.leads.map((l) => ({ ...l, score: l.name.length * input.weight })) })');
    const brief = await makePattern(admin, containerId, 'async (input, ctx) => ({ top: [...ctx.previous.score.scored].sort((a, b) => b.score - a.score)[0].name, run: ctx.mission.input })');
    const missionId = await makeMission(operator, {
      containerId,
      tasks: [
        { name: 'fetch', order: 0, patternId: fetch, input: { names: ['ann', 'bartholomew', 'cy'] } },
        { name: 'score', order: 1, patternId: score, input: { weight: 2 } },
        { name: 'brief', order: 2, patternId: brief },
      ],
    });
    const workflowId = await execute(operator, missionId, { campaign: 'spring' });
    expect(workflowId).toMatch(new RegExp(`^mission-${missionId}-`));

    const final = await result(t, workflowId);
    expect(final.status).toBe('Completed');
    expect(final.percent).toBe(100);
    expect(final.tasks.map((x) => [x.name, x.status, x.attempts])).toEqual([['fetch', 'completed', 1], ['score', 'completed', 1], ['brief', 'completed', 1]]);
    expect(final.tasks[2]!.output).toEqual({ top: 'bartholomew', run: { campaign: 'spring' } });

    // Visibility lists lag the run a moment.
    const listed = await eventually(async () => json(await viewer.request('GET', `/api/runs?missionId=${missionId}&status=Completed`)), (l) => l.runs.length > 0);
    expect(listed.runs.map((r: { workflowId: string }) => r.workflowId)).toEqual([workflowId]);
    expect(listed.runs[0]).toMatchObject({ status: 'Completed', trigger: 'manual', missionId });

    const detail = await json(await viewer.request('GET', `/api/runs/${workflowId}`));
    expect(detail.progress.tasks).toHaveLength(3);
    for (const id of [fetch, score, brief]) {
      const { pattern } = await json(await viewer.request('GET', `/api/patterns/${id}`));
      expect(pattern.stats).toMatchObject({ totalExecutions: 1, successCount: 1 });
    }
    const executed = await listAudit(t.db.sql, { action: 'mission.executed', entityId: missionId, limit: 10 });
    expect(executed).toHaveLength(1);
    expect(executed[0]).toMatchObject({ actor: expect.stringMatching(/^operator_/), details: { workflowId } });
  });

  it('finds the app ready once a worker polls its task queue', async () => {
    const res = await t.app.request('/health/ready');
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: 'ready', checks: { postgres: { ok: true }, temporal: { ok: true }, worker: { ok: true } } });
  });

  it('is refused to viewers, and a mission without tasks cannot run', async () => {
    const p = await makePattern(admin, containerId, 'async () => 1');
    const missionId = await makeMission(operator, { containerId, tasks: [{ name: 'only', order: 0, patternId: p }] });
    expect((await viewer.request('POST', `/api/missions/${missionId}/execute`, {})).status).toBe(403);
    const empty = await makeMission(operator, { containerId });
    const res = await operator.request('POST', `/api/missions/${empty}/execute`, {});
    expect(res.status).toBe(409);
    expect((await json(res)).error.message).toMatch(/no tasks/);
  });

  it("validates a mission's tasks: the pattern must exist, be active and belong to the container", async () => {
    const other = await makeContainer(admin);
    const foreign = await makePattern(admin, other, 'async () => 1');
    const inactive = await makePattern(admin, containerId, 'async () => 1', {}, { isActive: false });
    const cases: [unknown, string, RegExp][] = [
      [{ name: 't', order: 0, patternId: foreign }, 'tasks.0.patternId', /another container/],
      [{ name: 't', order: 0, patternId: inactive }, 'tasks.0.patternId', /inactive/],
      [{ name: 't', order: 0, patternId: '00000000-0000-4000-8000-000000000000' }, 'tasks.0.patternId', /does not exist/],
      [{ name: 't', order: 0, patternId: foreign, selection: 'random' }, 'tasks.0.patternId', /either a fixed pattern/],
      [{ name: 't', order: -1 }, 'tasks.0.order', /./],
    ];
    for (const [task, path, message] of cases) {
      const res = await operator.request('POST', '/api/missions', { name: `bad-${Math.random()}`, type: 'manual', containerId, tasks: [task] });
      expect(res.status, JSON.stringify(task)).toBe(400);
      const { error } = await json(res);
      expect(error.details[0]).toMatchObject({ path, message: expect.stringMatching(message) });
    }
    const listed = await json(await viewer.request('GET', '/api/missions?q=bad-'));
    expect(listed.total).toBe(0); // nothing half-written
  });

  it('refuses to delete a pattern a mission uses, naming the mission', async () => {
    const p = await makePattern(admin, containerId, 'async () => 1');
    await makeMission(operator, { name: 'keeps-its-pattern', containerId, tasks: [{ name: 'only', order: 0, patternId: p }] });
    const res = await admin.request('DELETE', `/api/patterns/${p}`);
    expect(res.status).toBe(409);
    expect((await json(res)).error.message).toMatch(/keeps-its-pattern/);
    expect((await viewer.request('GET', `/api/patterns/${p}`)).status).toBe(200);
  });

  it("serves a run's logs: the timeline from Temporal's history with each task's pattern log", async () => {
    const p = await makePattern(admin, containerId, 'async (input, ctx) => { ctx.log("working on", input.n); return input.n }');
    const m = await makeMission(operator, { containerId, tasks: [{ name: 'a', order: 0, patternId: p, input: { n: 1 } }, { name: 'b', order: 1, patternId: p, input: { n: 2 } }] });
    const workflowId = await execute(operator, m);
    await result(t, workflowId);
    const logs = await json(await viewer.request('GET', `/api/missions/${m}/logs`));
    expect(logs.workflowId).toBe(workflowId);
    const kinds = logs.entries.map((e: { kind: string; taskName?: string }) => `${e.kind}${e.taskName ? `:${e.taskName}` : ''}`);
    expect(kinds).toEqual(expect.arrayContaining(['run.started', 'task.scheduled:a', 'task.started:a', 'task.completed:a', 'task.completed:b', 'run.completed']));
    expect(kinds.indexOf('task.completed:a')).toBeLessThan(kinds.indexOf('task.scheduled:b'));
    expect(logs.patternRuns.map((r: { logs: string[] }) => r.logs)).toEqual([['working on 1'], ['working on 2']]);
    expect(logs.entries[0]).toMatchObject({ kind: 'run.started', actor: expect.stringMatching(/^operator_/) });
  });
});

// A mission runs its tasks in order, later tasks see earlier outputs, and
// the run is listed from Temporal's search attributes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit';
import { json, type ApiClient, type TestApp } from '../helpers/app';
import { type MissionEnv, execute, makeMission, makePattern, missionEnv, result } from '../helpers/missions';

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

    const listed = await json(await viewer.request('GET', `/api/runs?missionId=${missionId}&status=Completed`));
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

  it('is refused to viewers, and a mission without tasks cannot run', async () => {
    const p = await makePattern(admin, containerId, 'async () => 1');
    const missionId = await makeMission(operator, { containerId, tasks: [{ name: 'only', order: 0, patternId: p }] });
    expect((await viewer.request('POST', `/api/missions/${missionId}/execute`, {})).status).toBe(403);
    const empty = await makeMission(operator, { containerId });
    const res = await operator.request('POST', `/api/missions/${empty}/execute`, {});
    expect(res.status).toBe(409);
    expect((await json(res)).error.message).toMatch(/no tasks/);
  });
});

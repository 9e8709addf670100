// POST /api/runs/cancel: up to 100 runs in one request, one answer per run;
// each cancel audited once; a run that had ended or does not exist is that
// run's answer; bad bodies are 400s and viewers are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { json, type TestApp } from '../helpers/app';
import { eventually, execute, makeMission, makePattern, missionEnv, result, waitFor, type MissionEnv } from '../helpers/missions';

let env: MissionEnv;
let t: TestApp;
let gatedMission: string;
let quickMission: string;

const waiting = async (workflowId: string) => (await waitFor(t, workflowId, (p) => p.status === 'NeedsApproval'), workflowId);
const audits = async (action: string, entityId: string) => (await listAudit(t.db.sql, { action, entityId, limit: 20 })).length;
const statusOf = async (workflowId: string) => (await t.deps.temporal.client.workflow.getHandle(workflowId).describe()).status.name;
const cancel = (body: unknown, who = env.operator) => who.request('POST', '/api/runs/cancel', body);

beforeAll(async () => {
  env = await missionEnv();
  t = env.t;
  const quick = await makePattern(env.admin, env.containerId, 'async () => ({ ok: true })');
  gatedMission = await makeMission(env.operator, { containerId: env.containerId, tasks: [{ name: 'gate', order: 0, patternId: quick, requiresApproval: true }] });
  quickMission = await makeMission(env.operator, { containerId: env.containerId, tasks: [{ name: 'only', order: 0, patternId: quick }] });
});
afterAll(async () => env?.close());

describe('POST /api/runs/cancel', () => {
  it('cancels the open runs it is given, once each, and answers for every run', async () => {
    const [a, b, keep] = await Promise.all([0, 1, 2].map(async () => waiting(await execute(env.operator, gatedMission))));
    const ended = await execute(env.operator, quickMission);
    await result(t, ended);
    const unknown = `mission-${gatedMission}-no-such-run`;
    const res = await cancel({ workflowIds: [a, b, a, ended, unknown], reason: 'campaign stopped' });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      results: [
        { workflowId: a, outcome: 'cancel_requested' },
        { workflowId: b, outcome: 'cancel_requested' },
        { workflowId: ended, outcome: 'already_ended', message: 'This run has already ended (Completed).' },
        { workflowId: unknown, outcome: 'not_found', message: 'No such run.' },
      ],
      requested: 2, alreadyEnded: 1, notFound: 1,
    });
    await Promise.all([a, b].map((wf) => expect(result(t, wf!)).rejects.toThrow(/cancel/i)));
    expect(await statusOf(keep!)).toBe('RUNNING');
    for (const wf of [a!, b!]) {
      expect(await audits('run.cancel_requested', wf)).toBe(1); // listed twice, cancelled once
      expect(await eventually(() => audits('run.cancelled', wf), (n) => n === 1)).toBe(1);
    }
    const [entry] = await listAudit(t.db.sql, { action: 'run.cancel_requested', entityId: b!, limit: 1 });
    expect(entry).toMatchObject({ actor: env.operatorName, details: { reason: 'campaign stopped', missionId: gatedMission } });
    for (const wf of [keep!, ended, unknown]) expect(await audits('run.cancel_requested', wf)).toBe(0);
    expect((await json(await cancel({ workflowIds: [keep] }))).requested).toBe(1); // nothing left open
    // The run's own history names who asked.
    const history = await t.deps.temporal.client.workflow.getHandle(a!).fetchHistory();
    const requested = history.events!.find((e) => e.workflowExecutionCancelRequestedEventAttributes)!;
    expect(requested.workflowExecutionCancelRequestedEventAttributes!.identity).toBe(`mission-control:${env.operatorName}`);
  });

  it('refuses what is not a list of 1 to 100 run ids with a 400 that names it', async () => {
    const run = `mission-${gatedMission}-x`;
    const cases: [unknown, RegExp][] = [
      [{}, /^workflowIds: /],
      [{ workflowIds: [] }, /^workflowIds: List at least one run/],
      [{ workflowIds: Array.from({ length: 101 }, (_, i) => `${run}${i}`) }, /^workflowIds: At most 100 runs/],
      [{ workflowIds: ['abc'] }, /^workflowIds\.0: Not a mission run id/],
      [{ workflowIds: run }, /^workflowIds: /],
      [{ workflowIds: [run], reason: 'x'.repeat(501) }, /^reason: A reason is at most 500 characters/],
      [{ workflowIds: [run], force: true }, /force/],
    ];
    for (const [body, message] of cases) {
      const res = await cancel(body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      const { error } = await json(res);
      expect(error.code).toBe('validation_failed');
      expect(error.message).toMatch(message);
    }
  });

  it('refuses a viewer with 403 and cancels nothing', async () => {
    const wf = await waiting(await execute(env.operator, gatedMission));
    const res = await cancel({ workflowIds: [wf] }, env.viewer);
    expect(res.status).toBe(403);
    expect((await json(res)).error.code).toBe('forbidden');
    expect(await statusOf(wf)).toBe('RUNNING');
    expect(await audits('run.cancel_requested', wf)).toBe(0);
    expect((await cancel({ workflowIds: [wf] })).status).toBe(200); // an operator may: the file leaves nothing open
    await expect(result(t, wf)).rejects.toThrow(/cancel/i);
  });
});

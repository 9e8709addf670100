// Pause, resume and cancel, for one run and for a whole mission, each
// audited exactly once; triggers with HMAC signatures and idempotency keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { sign } from '../../core/missions/triggers';
import { json, type ApiClient, type TestApp } from '../helpers/app';
import { type MissionEnv, execute, makeMission, makePattern, missionEnv, progress, result, waitFor, BUSY_PATTERN, eventually } from '../helpers/missions';

let t: TestApp;
let env: MissionEnv;
let admin: ApiClient;
let operator: ApiClient;
let containerId: string;
let slow: string;
let quick: string;

beforeAll(async () => {
  env = await missionEnv();
  ({ t, admin, operator, containerId } = env);
  slow = await makePattern(admin, containerId, BUSY_PATTERN, { timeout: 60_000 });
  quick = await makePattern(admin, containerId, 'async () => ({ quick: true })');
});
afterAll(async () => env?.close());

const count = async (action: string, entityId: string) => (await listAudit(t.db.sql, { action, entityId, limit: 50 })).length;

describe('pause and resume', () => {
  it('pause lets the running task finish but starts no new one; resume goes on', async () => {
    const m = await makeMission(operator, { containerId, tasks: [{ name: 'first', order: 0, patternId: slow, input: { ms: 4000 } }, { name: 'second', order: 1, patternId: quick }] });
    const workflowId = await execute(operator, m);
    await waitFor(t, workflowId, (p) => p.tasks[0]!.status === 'running');
    // An Update: the answer is the run's state once the pause has applied.
    const pausedNow = await operator.request('POST', `/api/runs/${workflowId}/pause`, { reason: 'checking numbers' });
    expect(pausedNow.status).toBe(200);
    expect((await json(pausedNow)).state).toEqual({ status: 'Paused', paused: true, pauseReason: 'checking numbers', changed: true });
    const again = await json(await operator.request('POST', `/api/runs/${workflowId}/pause`, { reason: 'twice' }));
    expect(again.state).toMatchObject({ paused: true, pauseReason: 'checking numbers', changed: false });
    const paused = await waitFor(t, workflowId, (p) => p.tasks[0]!.status === 'completed' && p.status === 'Paused');
    expect(paused).toMatchObject({ paused: true, pauseReason: 'checking numbers' });
    await new Promise((r) => setTimeout(r, 700));
    expect((await progress(t, workflowId)).tasks[1]!.status).toBe('pending');
    const listed = await eventually(async () => json(await operator.request('GET', `/api/runs?missionId=${m}&status=Paused`)), (l) => l.runs.length > 0);
    expect(listed.runs).toHaveLength(1);

    const resumed = await operator.request('POST', `/api/runs/${workflowId}/resume`, {});
    expect(resumed.status).toBe(200);
    expect((await json(resumed)).state).toMatchObject({ paused: false, changed: true });
    const final = await result(t, workflowId);
    expect(final.tasks.map((x) => x.status)).toEqual(['completed', 'completed']);
    expect(await count('run.paused', workflowId)).toBe(1);
    expect(await count('run.resumed', workflowId)).toBe(1);
    const [entry] = await listAudit(t.db.sql, { action: 'run.paused', entityId: workflowId, limit: 1 });
    expect(entry!.actor).toMatch(/^operator_/);
    expect(entry!.details).toMatchObject({ reason: 'checking numbers', missionId: m });
  });

  it('at mission level, pauses its open runs and refuses new ones until resumed', async () => {
    const m = await makeMission(operator, { containerId, tasks: [{ name: 'first', order: 0, patternId: slow, input: { ms: 3000 } }, { name: 'second', order: 1, patternId: quick }] });
    const workflowId = await execute(operator, m);
    await waitFor(t, workflowId, (p) => p.tasks[0]!.status === 'running');
    const res = await operator.request('POST', `/api/missions/${m}/pause`, { reason: 'holiday' });
    expect(await json(res)).toMatchObject({ paused: true, runs: 1 });
    await waitFor(t, workflowId, (p) => p.status === 'Paused');
    expect((await operator.request('POST', `/api/missions/${m}/execute`, {})).status).toBe(409);
    expect((await operator.request('POST', `/api/missions/${m}/resume`, {})).status).toBe(200);
    expect((await result(t, workflowId)).status).toBe('Completed');
    expect(await count('mission.paused', m)).toBe(1);
    expect(await count('mission.resumed', m)).toBe(1);
  });
});

describe('cancel', () => {
  it('stops a long task promptly, terminating its sandbox thread, and records nothing half-done', async () => {
    const m = await makeMission(operator, { containerId, tasks: [{ name: 'forever', order: 0, patternId: slow, input: { ms: 50_000 } }, { name: 'after', order: 1, patternId: quick }] });
    const workflowId = await execute(operator, m);
    await waitFor(t, workflowId, (p) => p.tasks[0]!.status === 'running');
    // The pattern is in a sandbox thread (a 50 s loop): cancelling must terminate that thread.
    for (let i = 0; i < 200 && t.deps.sandbox.stats().busy === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(t.deps.sandbox.stats().busy).toBeGreaterThan(0);
    const replacedBefore = t.deps.sandbox.stats().replaced;
    expect((await operator.request('POST', `/api/runs/${workflowId}/cancel`, { reason: 'wrong list' })).status).toBe(202);
    await expect(result(t, workflowId)).rejects.toThrow(/cancel/i);
    expect(t.deps.sandbox.stats().replaced).toBeGreaterThan(replacedBefore);
    const run = await json(await operator.request('GET', `/api/runs/${workflowId}`));
    expect(run.summary.status).toBe('Cancelled');
    expect(run.progress.tasks.map((x: { status: string }) => x.status)).toEqual(['cancelled', 'cancelled']);
    const runs = await t.db.sql`select 1 from pattern_runs where workflow_id = ${workflowId}`;
    expect(runs).toHaveLength(0);
    expect(await count('run.cancel_requested', workflowId)).toBe(1);
    expect(await count('run.cancelled', workflowId)).toBe(1);
    // The run's own record names who cancelled it and why (it reads them from its history).
    const [cancelled] = await listAudit(t.db.sql, { action: 'run.cancelled', entityId: workflowId, limit: 1 });
    expect(cancelled!.actor).toMatch(/^operator_/);
    expect(cancelled!.details).toMatchObject({ reason: 'wrong list' });
    expect((await operator.request('POST', `/api/runs/${workflowId}/cancel`, {})).status).toBe(409);
  });
});

describe('deleting a mission', () => {
  it('is refused while a run is in progress, then removes the mission and its schedule, audited once', async () => {
    const m = await makeMission(operator, {
      containerId, type: 'scheduled', schedule: { cron: '0 3 1 1 *', timezone: 'UTC' },
      tasks: [{ name: 'forever', order: 0, patternId: slow, input: { ms: 50_000 } }],
    });
    const workflowId = await execute(operator, m);
    await waitFor(t, workflowId, (p) => p.tasks[0]!.status === 'running');
    const refused = await operator.request('DELETE', `/api/missions/${m}`);
    expect(refused.status).toBe(409);
    expect((await json(refused)).error.details).toEqual({ workflowId });
    expect((await operator.request('GET', `/api/missions/${m}`)).status).toBe(200);

    await operator.request('POST', `/api/runs/${workflowId}/cancel`, {});
    await expect(result(t, workflowId)).rejects.toThrow(/cancel/i);
    for (let i = 0; i < 30 && (await operator.request('DELETE', `/api/missions/${m}`)).status === 409; i++) {
      await new Promise((r) => setTimeout(r, 200)); // visibility catches up with the cancellation
    }
    expect((await operator.request('GET', `/api/missions/${m}`)).status).toBe(404);
    const schedule = await t.deps.temporal.client.schedule.getHandle(`mission-${m}`).describe().catch((err: Error) => err);
    expect(schedule).toBeInstanceOf(Error);
    expect(await count('mission.deleted', m)).toBe(1);
  });
});

describe('triggers', () => {
  it('start a run with the body as input when the HMAC signature is right, once per idempotency key', async () => {
    const echo = await makePattern(admin, containerId, 'async (input, ctx) => ({ got: ctx.mission.input })');
    const created = await json(await operator.request('POST', '/api/missions', { name: 'hooked', type: 'triggered', containerId, tasks: [{ name: 'echo', order: 0, patternId: echo }] }));
    const { mission, triggerSecret } = created;
    expect(triggerSecret).toMatch(/^[\w-]{40,}$/);
    const body = JSON.stringify({ lead: 'acme' });
    const post = (b: string, signature: string, key?: string) =>
      t.app.request(`/api/missions/${mission.id}/trigger`, {
        method: 'POST', body: b,
        headers: { 'Content-Type': 'application/json', 'X-MC-Signature': signature, ...(key ? { 'Idempotency-Key': key } : {}) },
      });

    expect((await post(body, sign('wrong-secret', body))).status).toBe(401);
    expect((await post(body, 'sha256=00')).status).toBe(401);
    const first = await post(body, sign(triggerSecret, body), 'delivery-1');
    expect(first.status).toBe(201);
    const run = await json(first);
    expect(run).toMatchObject({ duplicate: false, workflowId: expect.stringMatching(new RegExp(`^mission-${mission.id}-`)) });
    const again = await post(body, sign(triggerSecret, body), 'delivery-1');
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ duplicate: true, workflowId: run.workflowId });

    const final = await result(t, run.workflowId);
    expect(final.trigger).toBe('triggered');
    expect(final.tasks[0]!.output).toEqual({ got: { lead: 'acme' } });
    const listed = await eventually(async () => json(await operator.request('GET', `/api/runs?missionId=${mission.id}&trigger=triggered`)), (l) => l.runs.length > 0);
    expect(listed.runs).toHaveLength(1);
  });
});

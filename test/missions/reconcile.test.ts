// PostgreSQL first, then Temporal, for a mission's runs: a mission paused while
// Temporal is down is paused at once (no new run) and its open runs follow once
// Temporal is back; pausing while runs complete does not fail; and a trigger
// delivery starts exactly one run per idempotency key, whatever fails between
// recording it and starting its run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setMissionPaused } from '../../core/missions/actions';
import { readSync } from '../../core/missions/mission-sync';
import { retryPendingDeliveries, sign } from '../../core/missions/triggers';
import { executeMission } from '../../core/runs/start';
import { reconcileOnce } from '../../core/schedules/reconcile';
import { listAudit } from '../../core/audit/audit-log';
import { json, type ApiClient, type TestApp } from '../helpers/app';
import { type MissionEnv, execute, makeMission, makePattern, missionEnv, result, waitFor, BUSY_PATTERN } from '../helpers/missions';
import { appWithTemporalDown, laggingVisibility, reconcileDeps } from '../helpers/temporal-down';

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
  slow = await makePattern(admin, containerId, BUSY_PATTERN, { timeout: 30_000 });
  quick = await makePattern(admin, containerId, 'async (input, ctx) => ({ got: ctx.mission.input ?? null })');
});
afterAll(async () => env?.close());

/** A first task long enough for a pause to land while it runs, then a second one. */
const twoSteps = () => makeMission(operator, {
  containerId, tasks: [{ name: 'first', order: 0, patternId: slow, input: { ms: 4000 } }, { name: 'second', order: 1, patternId: quick }],
});

/** Reconcile passes until one does something (a failed apply is retried after a short back-off); returns that pass. */
async function reconcileUntilDone(opts: { deliveryMinAgeMs?: number } = {}) {
  for (let i = 0; i < 40; i++) {
    const report = await reconcileOnce(reconcileDeps(t), opts);
    if (report.runsSignalled + report.deliveriesStarted > 0) return report;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the reconciler did nothing in 10 s');
}

/** Every execution Temporal has under one workflow id (closed ones included). */
async function executionsOf(workflowId: string): Promise<string[]> {
  const runIds: string[] = [];
  for await (const info of t.deps.temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runIds.push(info.runId);
  return runIds;
}

describe('pausing a mission', () => {
  it('while Temporal is down: a 503 saying the mission is paused, no new run starts, and the reconciler pauses its open runs once Temporal is back', async () => {
    const m = await twoSteps();
    const workflowId = await execute(operator, m);
    await waitFor(t, workflowId, (p) => p.tasks[0]!.status === 'running');
    const down = await appWithTemporalDown(t);
    try {
      const res = await down.as(operator).request('POST', `/api/missions/${m}/pause`, { reason: 'outage drill' });
      expect(res.status).toBe(503);
      const { error } = await json(res);
      expect(error).toMatchObject({ code: 'temporal_unavailable', details: { saved: true, missionId: m } });
      expect(error.message).toMatch(/is paused in Mission Control and starts no new run\. Temporal is not reachable right now, so its open runs and its schedule will be paused automatically/);
    } finally {
      await down.close();
    }
    expect((await json(await operator.request('GET', `/api/missions/${m}`))).mission.status).toBe('paused');
    expect((await operator.request('POST', `/api/missions/${m}/execute`, {})).status).toBe(409);

    expect((await reconcileUntilDone()).runsSignalled).toBe(1);
    const paused = await waitFor(t, workflowId, (p) => p.status === 'Paused');
    expect(paused.pauseReason).toBe('outage drill');
    expect((await reconcileOnce(reconcileDeps(t))).runsSignalled).toBe(0); // once per pause: done

    expect((await operator.request('POST', `/api/missions/${m}/resume`, {})).status).toBe(200);
    expect((await result(t, workflowId)).status).toBe('Completed');
    expect(await listAudit(t.db.sql, { action: 'mission.paused', entityId: m, limit: 5 })).toHaveLength(1);
  });

  it('asked again while the last pause is still pending, it applies that pause instead of answering "already paused"', async () => {
    const m = await twoSteps();
    const workflowId = await execute(operator, m);
    await waitFor(t, workflowId, (p) => p.tasks[0]!.status === 'running');
    const down = await appWithTemporalDown(t);
    try {
      expect((await down.as(operator).request('POST', `/api/missions/${m}/pause`, {})).status).toBe(503);
    } finally {
      await down.close();
    }
    expect(await json(await operator.request('POST', `/api/missions/${m}/pause`, {}))).toMatchObject({ paused: true, runs: 1 });
    await waitFor(t, workflowId, (p) => p.status === 'Paused');
    expect((await operator.request('POST', `/api/missions/${m}/pause`, {})).status).toBe(409);
    expect(await listAudit(t.db.sql, { action: 'mission.paused', entityId: m, limit: 5 })).toHaveLength(1);
    await operator.request('POST', `/api/missions/${m}/resume`, {});
    expect((await result(t, workflowId)).status).toBe('Completed');
  });

  it('whose runs complete meanwhile does not fail: a run that ended before its signal counts as done', async () => {
    const m = await makeMission(operator, { containerId, tasks: [{ name: 'only', order: 0, patternId: quick }] });
    const ended = [await execute(operator, m), await execute(operator, m)];
    for (const id of ended) expect((await result(t, id)).status).toBe('Completed');
    // Visibility still lists both as open: each signal meets "workflow execution already completed".
    const outcome = await setMissionPaused(t.db.sql, laggingVisibility(t), m, true, { id: null, name: 'tester' });
    expect(outcome).toEqual({ runs: 0, schedule: false });
    const sync = await readSync(t.db.sql, m);
    expect(sync!.runsSyncedVersion).toBe(sync!.runsVersion);

    // And through the API, with runs finishing while the pause goes out.
    const m2 = await makeMission(operator, { containerId, tasks: [{ name: 'only', order: 0, patternId: quick }] });
    const runs = await Promise.all([1, 2, 3, 4].map(() => execute(operator, m2)));
    expect((await operator.request('POST', `/api/missions/${m2}/pause`, {})).status).toBe(200);
    await operator.request('POST', `/api/missions/${m2}/resume`, {});
    for (const id of runs) expect((await result(t, id)).status).toBe('Completed');
  });
});

describe('a trigger delivery', () => {
  const triggered = async () => {
    const echo = await json(await operator.request('POST', '/api/missions', {
      name: `hook-${Math.random().toString(36).slice(2, 8)}`, type: 'triggered', containerId, tasks: [{ name: 'echo', order: 0, patternId: quick }],
    }));
    return { id: echo.mission.id as string, secret: echo.triggerSecret as string };
  };
  const deliver = (app: TestApp['app'], mission: { id: string; secret: string }, body: string, key: string) =>
    app.request(`/api/missions/${mission.id}/trigger`, {
      method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-MC-Signature': sign(mission.secret, body), 'Idempotency-Key': key },
    });

  it('recorded while Temporal is down is started once, by the reconciler, with its workflow id; repeats start nothing more', async () => {
    const mission = await triggered();
    const body = JSON.stringify({ lead: 'acme' });
    const down = await appWithTemporalDown(t);
    let workflowId: string;
    try {
      const res = await deliver(down.app, mission, body, 'delivery-1');
      expect(res.status).toBe(503);
      const { error } = await json(res);
      expect(error.message).toMatch(/The delivery is recorded\. Temporal is not reachable right now, so its run \(mission-.*\) will be started automatically, once/);
      workflowId = error.details.workflowId;
    } finally {
      await down.close();
    }
    expect(await retryPendingDeliveries(t.db.sql, t.deps.temporal, { minAgeMs: 60_000 })).toEqual({ started: 0, failed: 0 }); // too fresh: its request may be starting it
    expect((await reconcileUntilDone({ deliveryMinAgeMs: 0 })).deliveriesStarted).toBe(1);
    expect((await result(t, workflowId)).tasks[0]!.output).toEqual({ got: { lead: 'acme' } });

    const again = await deliver(t.app, mission, body, 'delivery-1');
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ duplicate: true, workflowId });
    expect((await reconcileOnce(reconcileDeps(t), { deliveryMinAgeMs: 0 })).deliveriesStarted).toBe(0);
    expect(await executionsOf(workflowId)).toHaveLength(1);
  });

  it('sent five times at once with one key starts one run, and every answer names it', async () => {
    const mission = await triggered();
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => deliver(t.app, mission, '{"n":1}', 'burst')));
    const bodies = await Promise.all(answers.map((a) => json(a)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 201]);
    const ids = new Set(bodies.map((b) => b.workflowId));
    expect(ids.size).toBe(1);
    const [workflowId] = [...ids] as string[];
    await result(t, workflowId!);
    expect(await executionsOf(workflowId!)).toHaveLength(1);
  });

  it('whose run started but was never recorded (a crash between the two) is not started again, even after that run completed', async () => {
    const mission = await triggered();
    const suffix = 't-crashed0000000000000';
    const run = await executeMission(t.db.sql, t.deps.temporal, { missionId: mission.id, trigger: 'triggered', actor: { id: null, name: 'trigger' }, input: {}, workflowSuffix: suffix });
    await result(t, run.workflowId);
    await t.db.sql`
      insert into trigger_deliveries (mission_id, idempotency_key, workflow_id, input, created_at)
      values (${mission.id}, 'lost', ${run.workflowId}, ${t.db.sql.json({})}, now() - interval '1 hour')`;
    expect(await retryPendingDeliveries(t.db.sql, t.deps.temporal)).toEqual({ started: 0, failed: 0 });
    const [row] = await t.db.sql`select run_id from trigger_deliveries where mission_id = ${mission.id} and idempotency_key = 'lost'`;
    expect(row!.run_id).toBe(run.runId);
    expect(await executionsOf(run.workflowId)).toEqual([run.runId]);
  });
});

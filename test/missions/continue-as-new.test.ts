// A long mission continues as new when Temporal suggests it (here, on a dev
// server told to suggest it after 40 events): the run goes on under the same
// workflow id with its state carried over, later tasks still get earlier
// outputs, and nothing is run, audited or counted twice.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { freePort } from '../../lib/ports';
import { startTemporalDevServer, type DevServer } from '../../scripts/temporal-dev-server';
import { json } from '../helpers/app';
import { execute, makeMission, makePattern, missionEnv, result, waitFor, type MissionEnv } from '../helpers/missions';

let server: DevServer;
let env: MissionEnv;

beforeAll(async () => {
  server = await startTemporalDevServer({
    cli: inject('temporalCli'), port: await freePort(), dynamicConfig: ['limit.historyCount.suggestContinueAsNew=40'],
  });
  env = await missionEnv({ TEMPORAL_ADDRESS: server.address });
});
afterAll(async () => {
  await env?.close();
  await server?.stop();
});

describe('a long mission', () => {
  it('continues as new between task groups, carrying its state, outputs and decisions', async () => {
    const { admin, operator, containerId, t } = env;
    const step = await makePattern(admin, containerId, 'async (i, ctx) => ({ n: i.n, seen: Object.keys(ctx.previous).sort(), first: ctx.previous.t1 ?? null })');
    const tasks = Array.from({ length: 8 }, (_, k) => ({ name: `t${k + 1}`, order: k, patternId: step, input: { n: k + 1 }, requiresApproval: k === 7 }));
    const missionId = await makeMission(operator, { containerId, tasks });
    const workflowId = await execute(operator, missionId);
    // The gate on t8 (the last task) comes after at least one continue-as-new; it is decided through the API.
    const waiting = await waitFor(t, workflowId, (p) => p.status === 'NeedsApproval');
    expect(waiting.continuedFrom?.length).toBeGreaterThanOrEqual(1);
    const gate = waiting.tasks.find((x) => x.name === 't8')!;
    expect((await admin.request('POST', `/api/runs/${workflowId}/decisions`, { taskId: gate.id, action: 'approve' })).status).toBe(200);

    const final = await result(t, workflowId);
    expect(final.status).toBe('Completed');
    expect(final.continuedFrom?.length).toBeGreaterThanOrEqual(1);
    expect(final.tasks.map((x) => [x.name, x.status, x.runs])).toEqual(tasks.map((x) => [x.name, 'completed', 1]));
    expect(final.tasks[7]!.output).toEqual({ n: 8, seen: ['t1', 't2', 't3', 't4', 't5', 't6', 't7'], first: { n: 1, seen: [], first: null } });
    expect(final.tasks[7]!.decisions).toEqual([expect.objectContaining({ action: 'approve', actor: 'admin' })]);
    // Each task ran once and was counted once, whichever run of the chain ran it.
    const runs = await t.db.sql`select task_id from pattern_runs where workflow_id = ${workflowId}`;
    expect(runs).toHaveLength(8);
    expect(await listAudit(t.db.sql, { action: 'approval.approved', entityId: workflowId, limit: 10 })).toHaveLength(1);
    // The API describes the latest run of the chain.
    const described = await json(await operator.request('GET', `/api/runs/${workflowId}`));
    expect(described.summary.status).toBe('Completed');
  });
});

// A run of workspace B's mission lives in B (issue 10 point 3): its plan and
// patterns are read there, every record it leaves (attempts, outputs, sends,
// audit entries, events, alerts) is kept there, B's audit chain verifies, and
// only an admin of B may decide its approvals (an admin of another workspace,
// by the CLI's signal, is refused and that refusal is audited in B).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionSignal } from '../../workflows/messages';
import { json, type ApiClient, type TestApp } from '../helpers/app';
import { secondWorkspace } from '../helpers/workspaces';
import { execute, makeContainer, makeMission, makePattern, missionEnv, progress, result, waitFor, type MissionEnv } from '../helpers/missions';

let env: MissionEnv;
let t: TestApp;
let adminB: ApiClient;
let wsB: string;

beforeAll(async () => {
  env = await missionEnv();
  t = env.t;
  ({ id: wsB, admin: adminB } = await secondWorkspace(t, `Team ${randomUUID().slice(0, 8)}`));
}, 120_000);
afterAll(async () => env?.close());

/** Rows of `table` left by the run, by workspace. */
async function byWorkspace(table: string, column: string, workflowId: string): Promise<Record<string, number>> {
  const rows = await t.db.sql<{ ws: string; n: number }[]>`
    select workspace_id::text as ws, count(*)::int as n from ${t.db.sql(table)} where ${t.db.sql(column)} = ${workflowId} group by 1`;
  return Object.fromEntries(rows.map((r) => [r.ws === wsB ? 'B' : r.ws === t.ws ? 'A' : r.ws, r.n]));
}

describe("a run of another workspace's mission", () => {
  it('reads and records only in its workspace, and takes decisions only from its admins', async () => {
    const containerId = await makeContainer(adminB);
    const draft = await makePattern(adminB, containerId, `async (input, ctx) => {
      await ctx.outbound.send('email', { to: 'lead@example.com' });
      return { draft: 'hello' };
    }`, {}, { isDefault: true });
    const fails = await makePattern(adminB, containerId, 'async () => { throw new Error("no luck") }', { failureAction: 'skip' });
    const missionId = await makeMission(adminB, {
      containerId,
      tasks: [
        { name: 'draft', order: 0, patternId: draft, requiresApproval: true },
        { name: 'chosen', order: 1, selection: 'default_first' },
        { name: 'skipped', order: 2, patternId: fails },
      ],
    });
    // A's admin does not see B's mission, so cannot run it.
    expect((await env.admin.request('POST', `/api/missions/${missionId}/execute`, {})).status).toBe(404);
    const workflowId = await execute(adminB, missionId);
    const waiting = await waitFor(t, workflowId, (p) => p.status === 'NeedsApproval');
    const taskId = waiting.tasks[0]!.id;

    // The default workspace's admin, through the CLI's signal: not a member of B, refused.
    await t.deps.temporal.client.workflow.getHandle(workflowId).signal(decisionSignal, { taskId, action: 'approve', actor: 'admin' });
    const refused = await waitFor(t, workflowId, (p) => p.refusedDecisions.length === 1);
    expect(refused.refusedDecisions[0]!.reason).toMatch(/admin is not a member of this run's workspace/);
    expect(refused.status).toBe('NeedsApproval');

    const decided = await adminB.request('POST', `/api/runs/${workflowId}/decisions`, { taskId, action: 'approve' });
    expect(decided.status, JSON.stringify(await json(decided.clone()))).toBe(200);
    const done = await result(t, workflowId);
    expect(done.status).toBe('Completed');
    expect(done.tasks.map((x) => x.status)).toEqual(['completed', 'completed', 'skipped']);

    // Every record of the run is B's, none A's.
    expect(await byWorkspace('pattern_runs', 'workflow_id', workflowId)).toEqual({ B: 3 });
    expect(await byWorkspace('task_outputs', 'workflow_id', workflowId)).toEqual({ B: 2 });
    expect(await byWorkspace('events', 'run_id', workflowId)).toMatchObject({ B: expect.any(Number) });
    expect(Object.keys(await byWorkspace('events', 'run_id', workflowId))).toEqual(['B']);
    expect(await byWorkspace('audit_log', 'entity_id', workflowId)).toMatchObject({ B: expect.any(Number) });
    expect(Object.keys(await byWorkspace('audit_log', 'entity_id', workflowId))).toEqual(['B']);
    const [sends] = await t.db.sql<{ b: number; all: number }[]>`
      select count(*) filter (where o.workspace_id = ${wsB})::int as b, count(*)::int as all
      from outbound_messages o join pattern_runs r on r.execution_key = o.execution_key where r.workflow_id = ${workflowId}`;
    expect(sends).toEqual({ b: 2, all: 2 }); // the draft's, and the chosen (default) pattern's
    const actions = await t.db.sql<{ action: string; actor: string }[]>`
      select action, actor from audit_log where entity_id = ${workflowId} and action like 'approval.%' order by id`;
    expect(actions).toEqual([
      { action: 'approval.requested', actor: 'temporal' }, { action: 'approval.refused', actor: 'admin' }, { action: 'approval.approved', actor: expect.stringMatching(/^admin_/) },
    ]);

    // B's admin reads and verifies B's chain, with this run in it; A's admin never sees the run's entries.
    const verified = await json(await adminB.request('GET', '/api/audit/verify'));
    expect(verified).toMatchObject({ ok: true });
    const inA = await json(await env.admin.request('GET', `/api/audit?entityId=${encodeURIComponent(workflowId)}`));
    expect(inA.entries).toEqual([]);
    expect((await progress(t, workflowId)).status).toBe('Completed');
  });

});

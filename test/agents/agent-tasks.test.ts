// Mission tasks on agents (issue 11 point 6): a task routed by capability to a
// connected agent (the shipped client, over real HTTP) runs there with its input
// and the run's context, passes the approval gate and completes the run; its
// output is checked against the definition's outputs; an agent killed mid-task
// stops its relayed heartbeats, and Temporal gives the attempt to another agent.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AgentClient } from '../../client/agent/http-agent';
import { json } from '../helpers/app';
import { useAgentFixture, type RegisteredAgent } from '../helpers/agent-fixtures';
import { eventually, execute, makeMission, result, waitFor } from '../helpers/missions';

const fx = useAgentFixture();

/** A kind of agent with one capability, its task input and outputs, and `n` agents of it. */
async function kindWithAgents(capability: string, n: number): Promise<{ definitionId: string; agents: RegisteredAgent[] }> {
  const definitionId = await fx.definition({
    name: `Writer ${randomUUID().slice(0, 8)}`, status: 'active', capabilities: [capability],
    inputsSchema: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] },
    outputsConfig: [{ key: 'summary', type: 'md', required: true }],
  });
  const agents = [];
  for (let i = 0; i < n; i++) agents.push(await fx.register(definitionId, { name: `writer-${randomUUID().slice(0, 8)}`, heartbeatIntervalMs: 1000 }));
  return { definitionId, agents };
}

const connect = (a: RegisteredAgent, onTask: Parameters<AgentClient['onTask']>[0]) => fx.connect(a, (c) => c.onTask(onTask));

describe('a mission task on an agent', () => {
  it('runs on a connected agent with the capability, with its input and context, through the approval gate', async () => {
    const capability = `write-${randomUUID().slice(0, 6)}`;
    const { definitionId, agents } = await kindWithAgents(capability, 1);
    const seen: { input: unknown; runInput: unknown }[] = [];
    const { client } = connect(agents[0]!, async (input, ctx) => {
      seen.push({ input, runInput: ctx.context.runInput });
      return { summary: `# ${(input as { topic: string }).topic}` };
    });
    await client.start();
    const missionId = await makeMission(fx.admin, {
      containerId: fx.env.containerId, status: 'active',
      tasks: [{ name: 'write', order: 0, input: { topic: 'agents' }, requiresApproval: true, agent: { selection: 'capability', capability, definitionId, timeoutSeconds: 30 } }],
    });
    const workflowId = await execute(fx.admin, missionId, { campaign: 'spring' });
    const waiting = await waitFor(fx.env.t, workflowId, (p) => p.status === 'NeedsApproval');
    expect(seen).toEqual([{ input: { topic: 'agents' }, runInput: { campaign: 'spring' } }]);
    const decided = await fx.admin.request('POST', `/api/runs/${workflowId}/decisions`, { taskId: waiting.tasks[0]!.id, action: 'approve' });
    expect(decided.status, await decided.clone().text()).toBe(200);
    const done = await result(fx.env.t, workflowId);
    expect(done.status).toBe('Completed');
    const [out] = await fx.env.t.db.sql<{ output: unknown }[]>`select output from task_outputs where workflow_id = ${workflowId}`;
    expect(out!.output).toEqual({ summary: '# agents' });
    const log = await json(await fx.admin.request('GET', `/api/agents/${agents[0]!.id}/runs`));
    expect(log.runs.map((r: { triggerType: string; status: string }) => `${r.triggerType}:${r.status}`)).toEqual(['manual:success']);
  });

  it('refuses an output off its definition with a 422, and the attempt stays open for a right one', async () => {
    const capability = `write-${randomUUID().slice(0, 6)}`;
    const { definitionId, agents } = await kindWithAgents(capability, 1);
    let answers = 0;
    const { client } = connect(agents[0]!, async () => (++answers === 1 ? { wrong: true } : { summary: 'ok' }));
    await client.start();
    const missionId = await makeMission(fx.admin, {
      containerId: fx.env.containerId, status: 'active',
      tasks: [{ name: 'write', order: 0, input: { topic: 'x' }, agent: { selection: 'capability', capability, definitionId, timeoutSeconds: 30 } }],
    });
    const workflowId = await execute(fx.admin, missionId);
    // The client's first answer is refused (422, not retried by it); the server's row stays open.
    await eventually(async () => answers, (n) => n >= 1, 10_000);
    const [row] = await eventually(() => fx.env.t.db.sql<{ id: string; status: string }[]>`select id, status from agent_tasks where workflow_id = ${workflowId}`, (r) => r.length > 0 && r[0]!.status !== 'queued', 10_000);
    const agentApi = { request: (path: string, body: unknown) => fetch(`${fx.web.url}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${agents[0]!.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) }) };
    const wrong = await agentApi.request(`/api/agent/tasks/${row!.id}/result`, { ok: true, output: { summary: 42 } });
    expect(wrong.status).toBe(422);
    expect((await wrong.json()).error.message).toMatch(/"summary" must be of type md/);
    expect((await agentApi.request(`/api/agent/tasks/${row!.id}/result`, { ok: true, output: { summary: 'fine' } })).status).toBe(200);
    expect((await result(fx.env.t, workflowId)).status).toBe('Completed');
    expect((await agentApi.request(`/api/agent/tasks/${row!.id}/result`, { ok: true, output: { summary: 'again' } })).status).toBe(409);
  });

  it('is given to another agent when the one running it dies (its relayed heartbeats stop)', async () => {
    const capability = `write-${randomUUID().slice(0, 6)}`;
    const { definitionId, agents } = await kindWithAgents(capability, 2);
    const ran: string[] = [];
    const first = connect(agents[0]!, () => new Promise(() => void ran.push('first'))); // never answers
    await first.client.start();
    const missionId = await makeMission(fx.admin, {
      containerId: fx.env.containerId, status: 'active',
      tasks: [{ name: 'write', order: 0, input: { topic: 'x' }, agent: { selection: 'capability', capability, definitionId, timeoutSeconds: 60, heartbeatTimeoutSeconds: 3 } }],
    });
    const workflowId = await execute(fx.admin, missionId);
    await eventually(async () => ran.length, (n) => n === 1, 15_000);
    const second = connect(agents[1]!, () => (ran.push('second'), { summary: 'from the second' }));
    await second.client.start();
    first.kill();
    const done = await result(fx.env.t, workflowId);
    expect(done.status).toBe('Completed');
    expect(ran).toEqual(['first', 'second']);
    const rows = await fx.env.t.db.sql<{ agentId: string; status: string }[]>`select agent_id as "agentId", status from agent_tasks where workflow_id = ${workflowId} order by created_at`;
    expect(rows).toEqual([{ agentId: agents[0]!.id, status: 'lost' }, { agentId: agents[1]!.id, status: 'succeeded' }]);
  });
});

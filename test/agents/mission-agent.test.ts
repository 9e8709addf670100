// A mission assigned to an agent (seed 004's agentId): its tasks set to run on
// "the mission's agent" run there and nowhere else, pinned when the run starts;
// a mission without one, or with another workspace's agent, is refused with a
// clear 400; the planner shows an agent task as it is and saves it unchanged.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePlanner, valuesOf } from '../../api/ui/missions/mission-form';
import { getMission } from '../../core/missions/missions';
import { ADMIN_PASSWORD } from '../helpers/env';
import { json, signIn } from '../helpers/app';
import { execute, makeMission, result } from '../helpers/missions';
import { useAgentFixture } from '../helpers/agent-fixtures';
import { secondWorkspace } from '../helpers/workspaces';

const fx = useAgentFixture();

const WRITER = {
  capabilities: ['write'], commands: [],
  inputsSchema: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] },
  outputsConfig: [{ key: 'summary', type: 'md', required: true }],
};

describe('a mission assigned to an agent', () => {
  it('runs its "mission agent" tasks on that agent, not on another of the same kind', async () => {
    const definitionId = await fx.definition(WRITER);
    const [mine, other] = [await fx.register(definitionId), await fx.register(definitionId)];
    const ran: string[] = [];
    for (const [a, label] of [[mine, 'mine'], [other, 'other']] as const) {
      await fx.connect(a, (c) => c.onTask((input) => (ran.push(label), { summary: `by ${label}: ${(input as { topic: string }).topic}` }))).client.start();
    }
    const missionId = await makeMission(fx.admin, {
      containerId: fx.env.containerId, status: 'active', agentId: mine.id,
      tasks: [
        { name: 'first', order: 0, input: { topic: 'a' }, agent: { selection: 'mission', timeoutSeconds: 30 } },
        { name: 'second', order: 1, input: { topic: 'b' }, agent: { selection: 'mission', timeoutSeconds: 30 } },
      ],
    });
    const { mission } = await json(await fx.admin.request('GET', `/api/missions/${missionId}`));
    expect(mission).toMatchObject({ agentId: mine.id, agentName: expect.any(String) });
    const progress = await result(fx.env.t, await execute(fx.admin, missionId));
    expect(progress.status).toBe('Completed');
    expect(ran).toEqual(['mine', 'mine']);
    // Its page names the agent.
    const page = await (await (await signIn(fx.env.t, 'admin', ADMIN_PASSWORD)).get(`/missions/${missionId}`)).text();
    expect(page).toContain(`href="/agents/${mine.id}"`);
    expect(page).toContain('on the mission&#39;s agent');
  });

  it('is refused without an agent for such a task, or with an agent that is not in its workspace', async () => {
    const definitionId = await fx.definition(WRITER);
    const none = await fx.admin.request('POST', '/api/missions', {
      name: `m-${randomUUID().slice(0, 6)}`, type: 'manual', containerId: fx.env.containerId,
      tasks: [{ name: 't', order: 0, agent: { selection: 'mission' } }],
    });
    expect(none.status).toBe(400);
    expect((await json(none)).error.message).toMatch(/tasks\.0\.agent: the task runs on the mission's agent, and the mission has none/);

    const b = await secondWorkspace(fx.env.t, `B ${randomUUID().slice(0, 6)}`);
    const elsewhere = await json(await b.admin.request('POST', '/api/agent-definitions', { name: `Elsewhere ${randomUUID().slice(0, 6)}`, ...WRITER }));
    const foreign = await json(await b.admin.request('POST', '/api/agents', { name: `b-${randomUUID().slice(0, 6)}`, definitionId: elsewhere.definition.id }));
    const refused = await fx.admin.request('POST', '/api/missions', {
      name: `m-${randomUUID().slice(0, 6)}`, type: 'manual', containerId: fx.env.containerId, agentId: foreign.agent.id, tasks: [],
    });
    expect(refused.status).toBe(400);
    expect((await json(refused)).error.message).toMatch(/agentId: the agent does not exist/);
    // Unassigning is refused while a task still needs the mission's agent.
    const mine = await fx.register(definitionId);
    const missionId = await makeMission(fx.admin, { containerId: fx.env.containerId, agentId: mine.id, tasks: [{ name: 't', order: 0, agent: { selection: 'mission' } }] });
    const unassigned = await fx.admin.request('PATCH', `/api/missions/${missionId}`, { agentId: null });
    expect(unassigned.status).toBe(400);
    expect((await json(await fx.admin.request('GET', `/api/missions/${missionId}`))).mission.agentId).toBe(mine.id);
  });

  it('shows an agent task in the planner as it is, and saves it unchanged', async () => {
    const definitionId = await fx.definition(WRITER);
    const fixed = await fx.register(definitionId);
    const tasks = [
      { name: 'mission-agent', order: 0, agent: { selection: 'mission', timeoutSeconds: 45, retryCount: 2, failureAction: 'skip', heartbeatTimeoutSeconds: 12 } },
      { name: 'fixed', order: 1, agent: { selection: 'fixed', agentId: fixed.id } },
      { name: 'any', order: 2, agent: { selection: 'capability', capability: 'write', definitionId } },
    ];
    const missionId = await makeMission(fx.admin, { containerId: fx.env.containerId, agentId: fixed.id, tasks });
    const before = await getMission(fx.env.t.db.sql, missionId);
    const edit = await (await (await signIn(fx.env.t, 'admin', ADMIN_PASSWORD)).get(`/missions/${missionId}/edit`)).text();
    expect(edit).toContain('value="agent:mission" selected');
    expect(edit).toContain(`value="agent:${fixed.id}" selected`);
    expect(edit).toContain(`value="capability:${definitionId}:write" selected`);
    expect(edit).toMatch(new RegExp(`<option value="${fixed.id}" selected>`));
    const { input, errors } = parsePlanner(valuesOf(before), 'draft');
    expect(errors).toEqual({});
    expect(input!.agentId).toBe(fixed.id);
    expect(input!.tasks.map((t) => t.agent)).toEqual(before.tasks!.map((t) => t.agent));
  });
});

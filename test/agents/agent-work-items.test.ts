// An agent's share of the task board, through the shipped client: it lists the
// work items it holds, moves one to DOING and NEEDS_APPROVAL with notes on the
// timeline (as agent:<name>), is refused DONE, and finds another agent's item
// not found, with nothing written.
import { describe, expect, it } from 'vitest';
import { AgentClientError } from '../../client/agent/http-agent';
import { json } from '../helpers/app';
import { useAgentFixture } from '../helpers/agent-fixtures';

const fx = useAgentFixture();

const newItem = async (title: string, agentId: string) => {
  const res = await fx.admin.request('POST', '/api/tasks', { title, agentId });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await json(res)).task.id as string;
};
const timelineOf = async (id: string) => (await json(await fx.admin.request('GET', `/api/tasks/${id}`))).timeline as { kind: string; actor: string; toColumn: string | null; note: string | null }[];

describe('an agent on the task board', () => {
  it('works the items it holds up to NEEDS_APPROVAL, never DONE, and never another agent\'s', async () => {
    const def = await fx.definition();
    const [mine, theirs] = [await fx.register(def), await fx.register(def)];
    const { name } = (await json(await fx.admin.request('GET', `/api/agents/${mine.id}`))).agent;
    const own = await newItem('Collect the weekly diagnostics', mine.id);
    const other = await newItem('Someone else\'s', theirs.id);
    const client = fx.connect(mine).client;

    expect((await client.workItems.list()).map((w) => w.id)).toEqual([own]);
    expect((await client.workItems.move(own, 'DOING', 'started')).column).toBe('DOING');
    await client.workItems.note(own, '3 of 5 hosts done');
    expect((await client.workItems.move(own, 'NEEDS_APPROVAL')).column).toBe('NEEDS_APPROVAL');
    expect((await client.workItems.list('NEEDS_APPROVAL')).map((w) => w.id)).toEqual([own]);

    const done = await client.workItems.move(own, 'DONE' as never).catch((e: unknown) => e);
    expect(done).toBeInstanceOf(AgentClientError);
    expect((done as AgentClientError).status).toBe(403);
    const foreign = await client.workItems.move(other, 'DOING').catch((e: unknown) => e);
    expect((foreign as AgentClientError).status).toBe(404);
    expect((await client.workItems.note(other, 'hi').catch((e: unknown) => e) as AgentClientError).status).toBe(404);

    expect(await timelineOf(own)).toEqual([
      expect.objectContaining({ kind: 'created', actor: 'admin', toColumn: 'BACKLOG' }),
      expect.objectContaining({ kind: 'moved', actor: `agent:${name}`, toColumn: 'DOING', note: 'started' }),
      expect.objectContaining({ kind: 'note', actor: `agent:${name}`, note: '3 of 5 hosts done' }),
      expect.objectContaining({ kind: 'moved', actor: `agent:${name}`, toColumn: 'NEEDS_APPROVAL' }),
    ]);
    expect((await timelineOf(other)).map((e) => e.kind)).toEqual(['created']);
    // A user's token does not speak the agent protocol.
    expect((await fx.admin.request('GET', '/api/agent/work-items')).status).toBe(401);
  });
});

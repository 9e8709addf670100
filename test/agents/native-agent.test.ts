// Native agents (issue 11, point 3): a TypeScript agent that runs as a Temporal worker on its own task
// queue, `agent-<id>`, with the shipped NativeAgent, against the real Temporal dev server and PostgreSQL:
// its presence over HTTP, a command from the API answered through Temporal, and frames it must refuse.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { NativeAgent } from '../../client/agent/native-agent';
import { AGENT_COMMAND_ACTIVITY, agentTaskQueue, type SignedCommand } from '../../client/agent/protocol';
import { signFrame } from '../../client/agent/signature';
import { json } from '../helpers/app';
import { useAgentFixture, type RegisteredAgent } from '../helpers/agent-fixtures';
import { eventually } from '../helpers/missions';

const fx = useAgentFixture();
const agents: NativeAgent[] = [];
// Registered after the fixture's: runs before it closes the web server and Temporal worker.
afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop().catch(() => {})));
});

const quiet = { info: () => {}, warn: () => {} };

function nativeAgent(a: Pick<RegisteredAgent, 'token' | 'signingSecret'>, setup: (agent: NativeAgent) => void = () => {}): NativeAgent {
  const { TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE } = fx.env.t.config;
  const agent = new NativeAgent({
    url: fx.web.url, token: a.token, signingSecret: a.signingSecret, version: '2.0.0', heartbeatIntervalMs: 1000, logger: quiet,
    temporal: { address: TEMPORAL_ADDRESS!, namespace: TEMPORAL_NAMESPACE },
  });
  setup(agent);
  agents.push(agent);
  return agent;
}

const agentOf = async (id: string) => (await json(await fx.admin.request('GET', `/api/agents/${id}`))).agent;
const registerWorker = async () => fx.register(await fx.definition(), { kind: 'worker' });

async function sendCommand(agentId: string, type = 'COLLECT_DIAGNOSTICS') {
  const res = await fx.env.operator.request('POST', `/api/agents/${agentId}/commands`, { type, payload: {}, wait: 20 });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await json(res)).command;
}

async function storedStatus(commandId: string): Promise<string | undefined> {
  const [row] = await fx.env.t.db.sql<{ status: string }[]>`select status from agent_commands where id = ${commandId}`;
  return row?.status;
}

describe('a native agent', () => {
  it('says hello as a worker agent, answers a command from the API through its own task queue, and the command is recorded succeeded', async () => {
    const a = await registerWorker();
    let runs = 0;
    const agent = nativeAgent(a, (n) => n.onCommand('COLLECT_DIAGNOSTICS', (_payload, ctx) => ({ node: process.version, runs: ++runs, id: ctx.id })));
    const hello = await agent.start();
    expect(hello).toMatchObject({ agent: { id: a.id, status: 'IDLE' }, taskQueue: `agent-${a.id}` });
    expect(await agentOf(a.id)).toMatchObject({ kind: 'worker', status: 'IDLE', version: '2.0.0' });

    const command = await sendCommand(a.id);
    expect(command).toMatchObject({ status: 'succeeded', result: { node: process.version, runs: 1, id: command.id }, requestedBy: fx.env.operatorName });
    expect(runs).toBe(1);
    expect(agent.stats).toMatchObject({ commandsRun: 1, rejectedFrames: 0 });
    expect(await storedStatus(command.id)).toBe('succeeded');

    // It came as the agentCommand activity on agent-<id>, not through the HTTP stream.
    const { events } = await fx.env.t.deps.temporal.client.workflow.getHandle(command.workflowId).fetchHistory();
    const scheduled = (events ?? []).map((e) => e.activityTaskScheduledEventAttributes).filter((s) => s?.activityType?.name === AGENT_COMMAND_ACTIVITY);
    expect(scheduled.map((s) => s!.taskQueue?.name)).toEqual([agentTaskQueue(a.id)]);
  });

  it('heartbeats RUNNING while a command runs, IDLE after, and OFFLINE once stopped', async () => {
    const a = await registerWorker();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const agent = nativeAgent(a, (n) => n.onCommand('REFRESH_DATA', async () => (await released, { refreshed: true })));
    await agent.start();
    const res = await fx.env.operator.request('POST', `/api/agents/${a.id}/commands`, { type: 'REFRESH_DATA', payload: { source: 'crm' }, wait: 0 });
    expect(res.status, await res.clone().text()).toBe(202);
    const { command } = await json(res);
    expect((await eventually(() => agentOf(a.id), (x) => x.status === 'RUNNING')).status).toBe('RUNNING');
    release();
    expect(await eventually(() => storedStatus(command.id), (s) => s === 'succeeded')).toBe('succeeded');
    expect((await eventually(() => agentOf(a.id), (x) => x.status === 'IDLE')).status).toBe('IDLE');
    await agent.stop();
    expect((await agentOf(a.id)).status).toBe('OFFLINE');
  });

  it('takes a command sent while it was not running from its task queue when it starts', async () => {
    const a = await registerWorker();
    const res = await fx.env.operator.request('POST', `/api/agents/${a.id}/commands`, { type: 'COLLECT_DIAGNOSTICS', payload: {}, wait: 0 });
    expect(res.status, await res.clone().text()).toBe(202);
    const { command } = await json(res);
    expect(await storedStatus(command.id)).toBe('queued');
    const agent = nativeAgent(a, (n) => n.onCommand('COLLECT_DIAGNOSTICS', () => ({ late: true })));
    await agent.start();
    expect(await eventually(() => storedStatus(command.id), (s) => s === 'succeeded')).toBe('succeeded');
    expect(agent.stats.commandsRun).toBe(1);
  });

  it('refuses a command whose signature does not verify with its signing secret: the handler never runs, the command is recorded failed', async () => {
    const a = await registerWorker();
    let runs = 0;
    const agent = nativeAgent({ ...a, signingSecret: 'not-the-secret-mission-control-signs-with' }, (n) => n.onCommand('COLLECT_DIAGNOSTICS', () => ++runs));
    await agent.start();
    const command = await sendCommand(a.id);
    expect(command).toMatchObject({ status: 'failed', error: { code: 'frame_rejected', message: expect.stringMatching(/signature does not verify/) } });
    expect(runs).toBe(0);
    expect(agent.stats).toMatchObject({ commandsRun: 0, rejectedFrames: 1 });
    expect(await storedStatus(command.id)).toBe('failed');
  });

  it('runs its activity only for a frame signed for it and unexpired: a tampered, expired, foreign or malformed one is refused unrun', async () => {
    const a = await registerWorker();
    const ran: unknown[] = [];
    const agent = nativeAgent(a, (n) => n.onCommand('REFRESH_DATA', (payload) => (ran.push(payload), { ok: 'ran' })));
    await agent.start();
    const now = Date.now();
    const body = (over: Partial<SignedCommand> = {}): SignedCommand => ({
      v: 1, kind: 'command', id: randomUUID(), agentId: a.id, workspaceId: 'w', type: 'REFRESH_DATA', payload: { source: 'crm' },
      issuedAt: new Date(now).toISOString(), expiresAt: new Date(now + 60_000).toISOString(), ...over,
    });
    const genuine = await signFrame(a.signingSecret, body());
    const refusals = {
      signature: { ...genuine, signed: genuine.signed.replace('"crm"', '"all"') },
      expired: await signFrame(a.signingSecret, body({ issuedAt: new Date(now - 120_000).toISOString(), expiresAt: new Date(now - 60_000).toISOString() })),
      'another agent': await signFrame(a.signingSecret, body({ agentId: randomUUID() })),
      // Signed, but a task's frame: a command is no task.
      'well-formed': await signFrame(a.signingSecret, { ...body(), kind: 'task' } as never),
    };
    for (const [why, frame] of Object.entries(refusals)) {
      const answer = await agent.answer(frame);
      expect(answer, why).toMatchObject({ ok: false, error: { code: 'frame_rejected' } });
      expect(answer.ok ? '' : answer.error.message, why).toContain(why === 'signature' ? 'signature does not verify' : why);
    }
    expect(ran).toEqual([]);
    expect(agent.stats.rejectedFrames).toBe(4);
    // The same path runs the genuine frame's handler, once.
    expect(await agent.answer(genuine)).toEqual({ ok: true, result: { ok: 'ran' } });
    expect(ran).toEqual([{ source: 'crm' }]);
  });
});

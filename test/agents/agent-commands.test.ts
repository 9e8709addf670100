// Commands and the agent's absence (issue 11): a command sent while its agent is
// away waits in Temporal and is run once when the agent (re)connects, and so is one
// sent while the agent's web server restarts; the caller reads the result. A forged
// command (not signed with the agent's secret) is refused by the shipped client itself.
import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import type { AgentClient } from '../../client/agent/http-agent';
import type { SignedFrame } from '../../client/agent/protocol';
import { signFrame } from '../../client/agent/signature';
import { json } from '../helpers/app';
import { useAgentFixture, type RegisteredAgent } from '../helpers/agent-fixtures';
import { eventually } from '../helpers/missions';

const fx = useAgentFixture();

const agentOf = async (id: string) => (await json(await fx.admin.request('GET', `/api/agents/${id}`))).agent;
const commandOf = async (agentId: string, id: string) => (await json(await fx.env.operator.request('GET', `/api/agents/${agentId}/commands/${id}`))).command;

/** Sends a command that cannot be answered within `wait`: the caller is told 202 and where to read it. */
async function sendUnanswered(agentId: string, body: Record<string, unknown>, statuses = ['queued']) {
  const res = await fx.env.operator.request('POST', `/api/agents/${agentId}/commands`, { payload: {}, wait: 1, ...body });
  expect(res.status, await res.clone().text()).toBe(202);
  const { command } = await json(res);
  expect(res.headers.get('location')).toBe(`/api/agents/${agentId}/commands/${command.id}`);
  expect(statuses).toContain(command.status);
  return command as { id: string; workflowId: string };
}

/** Reads the command until it is settled (or the time is up) and returns it. */
const settled = (agentId: string, id: string, timeoutMs = 30_000) =>
  eventually(() => commandOf(agentId, id), (c) => !['queued', 'delivered'].includes(c.status), timeoutMs);

/** Counts the runs of COLLECT_DIAGNOSTICS at the agent, and answers with the count. */
function diagnostics(counter: { runs: number }) {
  return (c: AgentClient) => void c.onCommand('COLLECT_DIAGNOSTICS', () => ({ runs: ++counter.runs }));
}

describe('a command sent while its agent is away', () => {
  it('waits for an agent that never connected, and is run once when it connects; the caller reads the result', async () => {
    const a = await fx.register(await fx.definition());
    const command = await sendUnanswered(a.id, { type: 'COLLECT_DIAGNOSTICS' });
    const counter = { runs: 0 };
    const { client } = fx.connect(a, diagnostics(counter));
    await client.start();
    const done = await settled(a.id, command.id);
    expect(done).toMatchObject({ status: 'succeeded', result: { runs: 1 } });
    expect(done.deliveredAt).not.toBeNull();
    expect(await fx.env.t.deps.temporal.client.workflow.getHandle(command.workflowId).result()).toMatchObject({ status: 'succeeded', result: { runs: 1 } });
    expect(counter.runs).toBe(1);
    expect(client.stats).toMatchObject({ commandsRun: 1, rejectedFrames: 0 });
  });

  it('waits while a connected agent is cut off and OFFLINE, and is run once by the same client when it is back', async () => {
    const a = await fx.register(await fx.definition(), { heartbeatIntervalMs: 1000 });
    const counter = { runs: 0 };
    const agent = fx.connect(a, diagnostics(counter));
    await agent.client.start();
    agent.kill();
    await eventually(() => agentOf(a.id), (x) => x.status === 'OFFLINE', 15_000);
    expect((await agentOf(a.id)).status).toBe('OFFLINE');
    const command = await sendUnanswered(a.id, { type: 'COLLECT_DIAGNOSTICS', timeoutMs: 80_000 });
    expect(counter.runs).toBe(0);
    agent.revive(); // it says hello again (its session was ended), reopens its stream and gets the command
    const done = await settled(a.id, command.id, 60_000);
    expect(done).toMatchObject({ status: 'succeeded', result: { runs: 1 } });
    expect(counter.runs).toBe(1);
    expect((await agentOf(a.id)).status).not.toBe('OFFLINE');
  }, 90_000);

  it('waits while a disconnected agent is away, and a new process of it runs it once', async () => {
    const a = await fx.register(await fx.definition());
    const before = { runs: 0 };
    const first = fx.connect(a, diagnostics(before));
    await first.client.start();
    await first.client.stop(); // says goodbye: OFFLINE at once
    expect((await agentOf(a.id)).status).toBe('OFFLINE');
    const command = await sendUnanswered(a.id, { type: 'COLLECT_DIAGNOSTICS' });
    const after = { runs: 0 };
    const second = fx.connect(a, diagnostics(after));
    await second.client.start();
    expect(await settled(a.id, command.id)).toMatchObject({ status: 'succeeded', result: { runs: 1 } });
    // A later command goes the same way: by then any second delivery of the first would have been run.
    const next = await fx.env.operator.request('POST', `/api/agents/${a.id}/commands`, { type: 'COLLECT_DIAGNOSTICS', payload: {}, wait: 20 });
    expect((await json(next)).command).toMatchObject({ status: 'succeeded', result: { runs: 2 } });
    expect([before.runs, after.runs]).toEqual([0, 2]);
  });

  it('is delivered once after the web server the agent speaks to restarts, when it was sent while the server was down', async () => {
    const a = await fx.register(await fx.definition());
    const counter = { runs: 0 };
    const said: string[] = [];
    const { client } = fx.connect(a, diagnostics(counter), { logger: { info: (msg) => void said.push(msg), warn: () => {} } });
    await client.start();
    await eventually(async () => said, (s) => s.includes('stream open'), 10_000);
    await fx.stopWeb();
    try {
      // Sent through another replica (the tests' in-process app) while the agent's server is down: nobody can run it.
      const command = await sendUnanswered(a.id, { type: 'COLLECT_DIAGNOSTICS', timeoutMs: 60_000 }, ['queued', 'delivered']);
      expect(client.stats.commandsRun).toBe(0);
      await fx.startWeb();
      expect(await settled(a.id, command.id)).toMatchObject({ status: 'succeeded', result: { runs: 1 } });
      expect(counter.runs).toBe(1);
      expect(client.stats).toMatchObject({ commandsRun: 1, rejectedFrames: 0 });
    } finally {
      if (!fx.running) await fx.startWeb(); // for the tests after this one, whatever happened
    }
  });
});

/**
 * A network between the real server and the client that forges the command frames of one type, as a
 * man in the middle (or an impostor server) would: `forge` gets the genuine frame and returns another.
 */
function forging(type: string, forge: (frame: SignedFrame) => Promise<SignedFrame>) {
  const seen = { forged: 0, answers: [] as string[] };
  const network: typeof fetch = async (url, init) => {
    const path = new URL(String(url)).pathname;
    if (path.includes('/commands/')) seen.answers.push(path);
    const response = await fetch(url, init);
    if (!path.endsWith('/stream') || !response.body) return response;
    const encoder = new TextEncoder();
    let out!: TransformStreamDefaultController<Uint8Array>;
    let queue = Promise.resolve();
    const parser = createParser({
      onEvent: (message) => {
        queue = queue.then(async () => {
          let data = message.data;
          if (message.event === 'command' && (JSON.parse(JSON.parse(data).signed) as { type: string }).type === type) {
            data = JSON.stringify(await forge(JSON.parse(data) as SignedFrame));
            seen.forged++;
          }
          out.enqueue(encoder.encode(`${message.event ? `event: ${message.event}\n` : ''}${message.id ? `id: ${message.id}\n` : ''}data: ${data}\n\n`));
        });
      },
    });
    const decoder = new TextDecoder();
    const body = response.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
      start: (controller) => void (out = controller),
      transform: (chunk) => {
        parser.feed(decoder.decode(chunk, { stream: true }));
        return queue;
      },
      flush: () => queue,
    }));
    return new Response(body, { status: response.status, headers: response.headers });
  };
  return { network, seen };
}

const FORGERIES: [string, (frame: SignedFrame) => Promise<SignedFrame>][] = [
  ['signed with another key', async (f) => signFrame('not-the-agent-secret', JSON.parse(f.signed))],
  ['its text changed under the genuine signature', async (f) => ({ ...f, signed: f.signed.replace('"payload":{}', '"payload":{"all":true}') })],
];

describe('a forged command', () => {
  it.each(FORGERIES)('(%s) is refused by the shipped client: its handler never runs and it is not answered', async (_, forge) => {
    const a: RegisteredAgent = await fx.register(await fx.definition());
    const runs = { forged: 0, genuine: 0 };
    const warnings: string[] = [];
    const { network, seen } = forging('COLLECT_DIAGNOSTICS', forge);
    const { client } = fx.connect(a, (c) => {
      c.onCommand('COLLECT_DIAGNOSTICS', () => ({ runs: ++runs.forged }));
      c.onCommand('REFRESH_DATA', () => ({ runs: ++runs.genuine }));
    }, { fetch: network, logger: { info: () => {}, warn: (msg) => void warnings.push(msg) } });
    await client.start();
    const forged = await sendUnanswered(a.id, { type: 'COLLECT_DIAGNOSTICS', timeoutMs: 10_000 }, ['queued', 'delivered']);
    await eventually(async () => client.stats.rejectedFrames, (n) => n >= 1, 10_000);
    expect(seen.forged).toBeGreaterThanOrEqual(1);
    expect(client.stats.rejectedFrames).toBe(seen.forged);
    expect(warnings).toEqual(Array(seen.forged).fill('command frame rejected (signature); not answered'));
    // The same network carries a genuine command, which runs: the refusal was the signature's.
    const genuine = await fx.env.operator.request('POST', `/api/agents/${a.id}/commands`, { type: 'REFRESH_DATA', payload: { source: 'crm' }, wait: 20 });
    expect((await json(genuine)).command).toMatchObject({ status: 'succeeded', result: { runs: 1 } });
    // Nobody answered the forged one: Mission Control times it out.
    expect(await fx.env.t.deps.temporal.client.workflow.getHandle(forged.workflowId).result()).toMatchObject({ status: 'timed_out' });
    expect(await commandOf(a.id, forged.id)).toMatchObject({ status: 'timed_out', error: { code: 'timeout' } });
    expect(runs).toEqual({ forged: 0, genuine: 1 });
    expect(seen.answers.filter((p) => p.includes(forged.id))).toEqual([]);
    expect(client.stats).toMatchObject({ commandsRun: 1, rejectedFrames: seen.forged });
  });
});

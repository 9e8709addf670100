// What agents cost (issue 11), side by side in one run:
//   1. a command's round trip API -> agent -> result, against a bare Temporal
//      activity round trip on the same server (goal <= 1.3x);
//   2. a mission task on an agent, against the same task as a sandboxed pattern;
//   3. 1,000 connected agents heartbeating every 10 s on one web process
//      (goals: <= 10 % of one core, <= 300 MB, heartbeat-to-status p99 <= 1 s);
//   4. 100 commands/s sustained with 0 lost.
//
//   node --import tsx bench/agents.ts
//   BENCH_SECONDS=10 BENCH_ITERATIONS=10 node --import tsx bench/agents.ts     (a quick run)
//
// Environment: BENCH_SECONDS (60) is the length of the timed windows of 3 and
// 4; BENCH_ITERATIONS (40) the timed round trips per subject in 1 (half as
// many, at least 5, in 2); BENCH_AGENTS (1000) the fleet of 3;
// BENCH_COMMAND_RATE (100) the commands/s of 4; BENCH_WEB_PROFILE=<dir> has the web
// process write a CPU profile there when it stops.
//
// Setup (bench/stack.ts; all throwaway, removed at the end even on failure):
// an embedded PostgreSQL (fsync off) and an in-memory `temporal server
// start-dev`; in this process the worker (as startMissionWorker builds it, on
// a bundle of the product's workflows plus the bare one, bench/agents-workflows.ts),
// the bench's Temporal client, the callers and the agents of 1, 2 and 4 (the
// shipped AgentClient, client/agent/http-agent.ts); and the web server in a
// process of its own (bench/agents-web.ts: api/server.ts run alone, as
// docker-compose runs it), so that 3 reads its CPU and memory alone, with the
// agent rate limits raised (MC_AGENT_COMMAND_RATE_LIMIT, MC_AGENT_REQUEST_RATE_LIMIT):
// the bench measures the work, not the limiter. The fleet of 3 runs in another
// process (bench/agents-fleet.ts, one AgentClient per agent: the real protocol).
//
// How to read it:
//   ratios      p50 and p99 of a subject over its baseline's, measured in
//               rotating order after a warm-up, so drift weighs on both alike.
//   CPU         "of one core": CPU time over wall time of that process (all its
//               threads), from /proc; 100 % is one core of the machine's few.
//   lost        a command whose caller got no succeeded result echoing its
//               payload; "at the agents" counts handler calls per command, and
//               frames delivered again are the ones the client dropped as seen.
// Missing a goal is reported, not fatal: the exit code is non-zero only when
// something fails outright. A 2-core machine shared by Temporal, PostgreSQL,
// the web process, the worker and the load is noisy: compare ratios within a
// run, not absolute times across runs.
import { randomUUID } from 'node:crypto';
import { AgentClient } from '../client/agent/http-agent';
import { sustainedCommands, type Receiver } from './agents-load';
import { commandRoundTrip, taskOnAgent, type Api, type Ctx } from './agents-measures';
import { GOALS, fleetOnOneWebProcess } from './agents-scale';
import { startWebProcess, summarizeLog } from './agents-web';
import { elapsed, fmt, log, runBench, table } from './lib';
import { benchContainer, connectClient, describeStack, startStack, startWorker, untilDone } from './stack';

const WORKFLOWS = new URL('./agents-workflows.ts', import.meta.url).pathname;
const ADMIN_TOKEN = `mc_bench_${randomUUID().replace(/-/g, '')}`;
const RATE_LIMITS = { MC_AGENT_COMMAND_RATE_LIMIT: '1000000', MC_AGENT_REQUEST_RATE_LIMIT: '1000' };
const DEADLINE_MS = 20 * 60_000;
const RECEIVERS = 10;
const ROUND_TRIP_GOAL = 1.3;

const whole = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`${name} is a whole number of at least 1`);
  return Number(v);
};
const SECONDS = whole('BENCH_SECONDS', 60);
const ITERATIONS = whole('BENCH_ITERATIONS', 40);
const AGENTS = whole('BENCH_AGENTS', 1000);
const RATE = whole('BENCH_COMMAND_RATE', 100);

/** A kind of agent for 1, 2 and 4: PING and ECHO commands, a task input and its output. */
const BENCH_DEFINITION = {
  category: 'bench', status: 'active', capabilities: ['summarize'],
  commands: [
    { type: 'PING', payloadSchema: { type: 'object', additionalProperties: false }, role: 'OPERATOR', timeoutMs: 30_000 },
    { type: 'ECHO', payloadSchema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] }, role: 'OPERATOR', timeoutMs: 120_000 },
  ],
  inputsSchema: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] },
  outputsConfig: [{ key: 'summary', type: 'md', required: true }],
};
const PATTERN = 'async (input) => ({ summary: `# ${input.topic}` })';
const quiet = { info: () => {}, warn: () => {} };

runBench(async (cleanup) => {
  const t0 = performance.now();
  const stack = await startStack(cleanup, { tmpPrefix: 'mc-bench-agents-', workflowsPath: WORKFLOWS, env: { MC_ADMIN_TOKEN: ADMIN_TOKEN, MC_SANDBOX_THREADS: '2', ...RATE_LIMITS } });
  const worker = await startWorker(stack, cleanup, { benchNoop: async () => ({ ok: true as const }) });
  const bench = await connectClient(stack, cleanup);
  const web = await startWebProcess(stack, cleanup, { MC_ADMIN_TOKEN: ADMIN_TOKEN, ...RATE_LIMITS });
  const api: Api = async (method, path, body, expect) => {
    const res = await fetch(`${web.url}${path}`, {
      method, headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (expect !== undefined && res.status !== expect) throw new Error(`${method} ${path} answered ${res.status}, not ${expect}: ${text.slice(0, 300)}`);
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const ctx: Ctx = { stack, bench, web, api };
  const clients: AgentClient[] = [];
  cleanup.add('stop the agents', () => Promise.all(clients.map((c) => c.stop())));

  /** Registers an agent through the API and connects the shipped client to it. */
  const agent = async (definitionId: string, name: string, setup: (c: AgentClient) => void) => {
    const { body } = await api('POST', '/api/agents', { name, definitionId }, 201);
    const client = new AgentClient({ url: web.url, token: body.token, signingSecret: body.signingSecret, version: '1.0.0', logger: quiet });
    setup(client);
    clients.push(client);
    await client.start();
    return { id: body.agent.id as string, client };
  };

  const measure = async (): Promise<void> => {
    log(`${describeStack(stack)}; web process pid ${web.pid} at ${web.url}; ready after ${elapsed(t0)}`);
    log(`BENCH_SECONDS=${SECONDS} BENCH_ITERATIONS=${ITERATIONS} BENCH_AGENTS=${AGENTS} BENCH_COMMAND_RATE=${RATE}`);
    const suffix = randomUUID().slice(0, 8);
    const { body: def } = await api('POST', '/api/agent-definitions', { ...BENCH_DEFINITION, name: `Bench agent ${suffix}` }, 201);
    const rt = await agent(def.definition.id, `bench-rt-${suffix}`, (c) => c
      .onCommand('PING', () => ({ pong: true }))
      .onTask((input) => ({ summary: `# ${(input as { topic: string }).topic}` })));
    const container = await benchContainer(stack);
    const pattern = await container.pattern('summary', PATTERN);

    log(`\n1. A command's round trip, API -> agent -> result, against a bare Temporal activity round trip (${ITERATIONS} each)`);
    let since = performance.now();
    const command = await commandRoundTrip(ctx, rt.id, ITERATIONS, 5);
    log(`  measured in ${elapsed(since)}`);

    const taskIterations = Math.max(5, Math.round(ITERATIONS / 2));
    log(`\n2. A mission task on an agent against the same task as a sandboxed pattern (${taskIterations} runs each)`);
    since = performance.now();
    const task = await taskOnAgent(ctx, { agentId: rt.id, containerId: container.id, patternId: pattern.id }, taskIterations, 2);
    log(`  measured in ${elapsed(since)}`);

    log(`\n3. ${AGENTS} agents heartbeating every 10 s on one web process (${SECONDS} s window; the shipped AgentClient, in a process of its own)`);
    since = performance.now();
    const scale = await fleetOnOneWebProcess({ stack, cleanup, web, adminToken: ADMIN_TOKEN, post: async (p, b, e) => (await api('POST', p, b, e)).body, agents: AGENTS, seconds: SECONDS, flipEvery: 10 });
    log(`  measured in ${elapsed(since)}`);

    log(`\n4. ${RATE} commands/s for ${SECONDS} s, over ${RECEIVERS} agents, each caller waiting for its result; then bare workflows at the same rate`);
    since = performance.now();
    const receivers: Receiver[] = [];
    for (let i = 0; i < RECEIVERS; i++) {
      const received = new Map<number, number>();
      const a = await agent(def.definition.id, `bench-load-${i}-${suffix}`, (c) => c.onCommand('ECHO', (payload) => {
        const n = (payload as { n: number }).n;
        received.set(n, (received.get(n) ?? 0) + 1);
        return { n };
      }));
      receivers.push({ id: a.id, client: a.client, received });
    }
    const load = await sustainedCommands(ctx, receivers, RATE, SECONDS);
    log(`  measured in ${elapsed(since)}`);

    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    log('\nGoals');
    log(table(['measure', 'value', 'goal', ''], [
      ['1. API command / bare activity, p50; p99', `${fmt(command.p50, 2)}x; ${fmt(command.p99, 2)}x`, `<= ${ROUND_TRIP_GOAL}x`, verdict(command.p50 <= ROUND_TRIP_GOAL)],
      ['2. agent task / pattern task, p50; p99', `${fmt(task.p50, 2)}x; ${fmt(task.p99, 2)}x`, '(compared)', ''],
      [`3. web CPU with ${AGENTS} agents`, `${fmt(scale.cpuFraction * 100)} %`, `<= ${GOALS.cpuFraction * 100} %`, verdict(scale.cpuFraction <= GOALS.cpuFraction)],
      ['3. web RSS (peak)', `${fmt(scale.rssMb, 0)} MB`, `<= ${GOALS.rssMb} MB`, verdict(scale.rssMb <= GOALS.rssMb)],
      ['3. heartbeat-to-status p99', `${fmt(scale.statusP99Ms)} ms`, `<= ${GOALS.statusP99Ms} ms`, verdict(scale.statusP99Ms <= GOALS.statusP99Ms)],
      [`4. commands lost at ${fmt(load.rate)}/s`, `${load.lost} of ${load.total}`, `0 at ${RATE}/s`, verdict(load.lost === 0 && load.once === load.total && load.rate >= RATE * 0.95)],
    ]));
    const notes = summarizeLog(web.logged);
    if (notes.length) log(`\nThe web process logged (warn and above):\n${notes.map((n) => `  ${n}`).join('\n')}`);
    log(`\ntotal time ${elapsed(t0)} (cleanup follows)`);
  };

  await untilDone(cleanup, measure(), worker.done, DEADLINE_MS);
});

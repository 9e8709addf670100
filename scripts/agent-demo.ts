// `npm run agent:demo`: a demo agent on the shipped client (client/agent). With MC_TOKEN (an admin's
// API token) it sets up the "Demo agent" definition and the "demo-agent" agent by name, then connects
// as that agent; with MC_AGENT_TOKEN and MC_AGENT_SECRET it connects as an existing agent.
// With --native it runs as a Temporal worker agent (kind `worker`, client/agent/native-agent.ts):
// the same commands, taken from its task queue on the Temporal service the product uses.
import os from 'node:os';
import { setTimeout as wait } from 'node:timers/promises';
import { AgentClient, AgentClientError, NativeAgent, agentTaskQueue, type StreamFrames } from '../client/agent';
import { loadConfig } from '../lib/config';

const MC_URL = (process.env.MC_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
const DEFINITION_NAME = 'Demo agent';
const AGENT_NAME = 'demo-agent';
const METRICS_EVERY_MS = 5_000;
const NATIVE = process.argv.slice(2).includes('--native');
const KIND = NATIVE ? 'worker' : 'http';

const DEMO_DEFINITION = {
  name: DEFINITION_NAME,
  category: 'demo',
  status: 'active',
  description: 'A demo agent (npm run agent:demo): collects diagnostics, refreshes data, pauses its workflow.',
  capabilities: ['diagnostics', 'refresh', 'summarize'],
  commands: [
    {
      type: 'COLLECT_DIAGNOSTICS',
      description: 'Node version, pid, uptime, memory, load average and the current configuration.',
      payloadSchema: { type: 'object', properties: {}, additionalProperties: false },
      role: 'OPERATOR',
      timeoutMs: 30_000,
    },
    {
      type: 'REFRESH_DATA',
      description: 'Refreshes a data source (simulated, about two seconds).',
      payloadSchema: { type: 'object', properties: { source: { type: 'string', maxLength: 100 } }, additionalProperties: false },
      role: 'OPERATOR',
      timeoutMs: 60_000,
    },
    {
      type: 'PAUSE_WORKFLOW',
      description: 'Reports BLOCKED for some seconds (10 unless said), then IDLE.',
      payloadSchema: { type: 'object', properties: { seconds: { type: 'integer', minimum: 1, maximum: 600 } }, additionalProperties: false },
      role: 'ADMIN',
      timeoutMs: 30_000,
    },
  ],
};

const say = (msg: string) => console.log(`${new Date().toISOString().slice(11, 19)}  ${msg}`);

/** Calls the management API as the admin whose token is MC_TOKEN. */
async function api<T>(adminToken: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${MC_URL}${path}`, {
    method,
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = (await response.json().catch(() => null)) as (T & { error?: { code?: string; message?: string } }) | null;
  if (response.ok && answer) return answer;
  throw new AgentClientError(response.status, answer?.error?.code ?? `http_${response.status}`, answer?.error?.message ?? `${method} ${path}: HTTP ${response.status}`);
}

/** Finds or creates the demo definition and agent by name; an existing agent gets a new token. */
async function setUpDemoAgent(adminToken: string): Promise<{ token: string; signingSecret: string }> {
  const { definitions } = await api<{ definitions: { id: string; name: string }[] }>(adminToken, 'GET', '/api/agent-definitions');
  const found = definitions.find((d) => d.name === DEFINITION_NAME);
  const definition = found ?? (await api<{ definition: { id: string } }>(adminToken, 'POST', '/api/agent-definitions', DEMO_DEFINITION)).definition;
  say(`${found ? 'Using' : 'Created'} the definition "${DEFINITION_NAME}" (${definition.id}).`);
  const { agents } = await api<{ agents: { id: string; name: string }[] }>(adminToken, 'GET', '/api/agents');
  const existing = agents.find((a) => a.name === AGENT_NAME);
  if (!existing) {
    const created = await api<{ agent: { id: string }; token: string; signingSecret: string }>(adminToken, 'POST', '/api/agents', {
      name: AGENT_NAME,
      definitionId: definition.id,
      kind: KIND,
    });
    say(`Created the agent "${AGENT_NAME}" (${created.agent.id}, kind ${KIND}).`);
    return created;
  }
  const rotated = await api<{ token: string; signingSecret: string }>(adminToken, 'POST', `/api/agents/${existing.id}/token`, {});
  say(`Rotated the token of the agent "${AGENT_NAME}" (${existing.id}): its previous token no longer works.`);
  // Its kind follows the client: hello says `worker` or `http`, and commands are routed by it.
  return rotated;
}

async function credentialsFromEnv(): Promise<{ token: string; signingSecret: string } | null> {
  const { MC_AGENT_TOKEN, MC_AGENT_SECRET, MC_TOKEN } = process.env;
  if (MC_AGENT_TOKEN && MC_AGENT_SECRET) return { token: MC_AGENT_TOKEN, signingSecret: MC_AGENT_SECRET };
  if (MC_TOKEN) return setUpDemoAgent(MC_TOKEN);
  return null;
}

/** CPU use since the last call, as a percentage of one core. */
function cpuSampler(): () => number {
  let last = { usage: process.cpuUsage(), at: performance.now() };
  return () => {
    const now = { usage: process.cpuUsage(), at: performance.now() };
    const busyMs = (now.usage.user - last.usage.user + now.usage.system - last.usage.system) / 1000;
    const percent = (100 * busyMs) / Math.max(1, now.at - last.at);
    last = now;
    return Math.round(percent * 10) / 10;
  };
}

/** The HTTP client, or with --native the Temporal worker agent on the product's Temporal service (TEMPORAL_ADDRESS, else `npm start`'s dev server). */
async function newClient(credentials: { token: string; signingSecret: string }): Promise<AgentClient> {
  const options = { url: MC_URL, ...credentials, version: '1.0.0', capabilities: DEMO_DEFINITION.capabilities, metadata: { host: os.hostname() } };
  if (!NATIVE) return new AgentClient(options);
  const config = loadConfig();
  const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.MC_TEMPORAL_PORT}`;
  // The SDK's own warnings only, less the expected one: this worker runs the command activity and no workflows.
  const { DefaultLogger, Runtime } = await import('@temporalio/worker');
  Runtime.install({ logger: new DefaultLogger('WARN', ({ message }) => /no workflows registered/i.test(message) || say(`Temporal: ${message}`)) });
  say(`Temporal at ${address}, namespace ${config.TEMPORAL_NAMESPACE} (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE).`);
  return new NativeAgent({ ...options, temporal: { address, namespace: config.TEMPORAL_NAMESPACE } });
}

function buildAgent(client: AgentClient): AgentClient {
  let configuration: StreamFrames['configuration'] | null = null;
  let unpause: ReturnType<typeof setTimeout> | undefined;

  client.onCommand('COLLECT_DIAGNOSTICS', () => ({
    node: process.version,
    pid: process.pid,
    uptimeSeconds: Math.round(process.uptime()),
    memoryUsage: process.memoryUsage(),
    loadAverage: os.loadavg(),
    configuration: configuration && { name: configuration.name, version: configuration.version, effective: configuration.effective },
  }));

  client.onCommand('REFRESH_DATA', async (payload, { signal }) => {
    const source = (payload as { source?: string } | null)?.source ?? 'default';
    say(`Refreshing "${source}"…`);
    for (let step = 1; step <= 4; step++) {
      await wait(500, undefined, { signal });
      say(`  "${source}": ${step * 25}%`);
    }
    return { source, rows: Math.floor(Math.random() * 1000), refreshedAt: new Date().toISOString() };
  });

  client.onCommand('PAUSE_WORKFLOW', (payload) => {
    const seconds = (payload as { seconds?: number } | null)?.seconds ?? 10;
    clearTimeout(unpause);
    client.setStatus('BLOCKED', `workflow paused for ${seconds} s`);
    say(`Workflow paused for ${seconds} s: status BLOCKED.`);
    unpause = setTimeout(() => {
      client.setStatus('IDLE', null);
      say('Workflow resumed: status IDLE.');
    }, seconds * 1000);
    return { pausedForSeconds: seconds };
  });

  // Mission tasks routed to the "summarize" capability: the first sentences of the text it is given.
  client.onTask((input, { task }) => {
    const text = String((input as { text?: unknown } | null)?.text ?? JSON.stringify(input));
    const summary = text.split(/(?<=[.!?])\s+/).slice(0, 2).join(' ');
    say(`Task "${task.name}" of ${task.missionName} (attempt ${task.attempt}): summarized ${text.length} characters.`);
    return { summary };
  });

  client.onConfiguration((cfg) => {
    configuration = cfg;
    say(`Configuration "${cfg.name}" v${cfg.version} received: ${JSON.stringify(cfg.effective)}`);
  });
  client.onControl(({ paused }) => say(paused ? 'Mission Control paused this agent.' : 'Mission Control resumed this agent.'));
  return client;
}

/** Every few seconds: metrics to Mission Control, and the same numbers with the next heartbeat. */
function reportMetricsRegularly(client: AgentClient): ReturnType<typeof setInterval> {
  const cpuPercent = cpuSampler();
  return setInterval(() => {
    const values = { cpu_percent: cpuPercent(), memory_mb: Math.round(process.memoryUsage().rss / 2 ** 20), queue_depth: Math.floor(Math.random() * 6) };
    client.setResourceUsage(values);
    client.reportMetrics(values).catch((error: unknown) => say(`Metrics not reported: ${error instanceof Error ? error.message : error}`));
  }, METRICS_EVERY_MS);
}

async function main(): Promise<void> {
  const credentials = await credentialsFromEnv();
  if (!credentials) {
    console.error('Set MC_TOKEN to an admin\'s API token (mc_…, the first `npm start` prints one) to set up and run the demo agent,');
    console.error('or MC_AGENT_TOKEN and MC_AGENT_SECRET to run as an existing agent. MC_URL defaults to http://localhost:3000.');
    console.error('With --native it runs as a Temporal worker agent on TEMPORAL_ADDRESS (default: the dev server `npm start` runs).');
    process.exit(2);
  }
  const client = buildAgent(await newClient(credentials));
  const hello = await client.start();
  const metrics = reportMetricsRegularly(client);
  say(`Connected as "${hello.agent.name}" (definition "${hello.agent.definition.name}" v${hello.agent.definition.version}).`);
  if (NATIVE) say(`Commands come from the Temporal task queue ${agentTaskQueue(hello.agent.id)}.`);
  say(`Agent page: ${MC_URL}/agents/${hello.agent.id}`);
  say('Send it a command:');
  console.log(
    `  curl -X POST ${MC_URL}/api/agents/${hello.agent.id}/commands -H "Authorization: Bearer $MC_TOKEN" ` +
      `-H 'Content-Type: application/json' -d '{"type":"COLLECT_DIAGNOSTICS","payload":{}}'`,
  );
  say('Ctrl-C stops it.');

  const shutdown = async () => {
    say('Stopping…');
    clearInterval(metrics);
    await client.stop();
    say(`Stopped (${client.stats.commandsRun} commands run).`);
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  if (error instanceof AgentClientError) console.error(`Mission Control answered: ${error.message} (${error.code}, HTTP ${error.status})`);
  else if (error instanceof TypeError && error.cause) console.error(`Cannot reach Mission Control at ${MC_URL}: ${String((error.cause as Error).message ?? error.cause)}`);
  else console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

// What agent test files start from: a mission environment and a real web server
// (agents speak HTTP to it), agent definitions and agents made through the API,
// and agents connected with the shipped client, whose network a test can cut.
// Call useAgentFixture() at the top of a file: it registers its own beforeAll/afterAll.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import { AgentClient, type AgentClientOptions } from '../../client/agent/http-agent';
import { startWebServer, type RunningWeb } from '../../api/server';
import { json, type ApiClient } from './app';
import { missionEnv, type MissionEnv } from './missions';

/** A definition with a command per role and a config schema: what most agent tests need. */
export const AGENT_DEFINITION = {
  name: 'Test agent', category: 'test', status: 'active', description: 'For tests', capabilities: ['diagnostics'],
  commands: [
    { type: 'COLLECT_DIAGNOSTICS', description: 'Report', payloadSchema: { type: 'object', properties: {}, additionalProperties: false }, role: 'OPERATOR', timeoutMs: 20_000 },
    { type: 'REFRESH_DATA', description: 'Refresh', payloadSchema: { type: 'object', properties: { source: { type: 'string', maxLength: 10 } }, required: ['source'], additionalProperties: false }, role: 'OPERATOR', timeoutMs: 20_000 },
    { type: 'SHUTDOWN', description: 'Stop', payloadSchema: { type: 'object' }, role: 'ADMIN', timeoutMs: 5_000 },
  ],
  configSchema: { type: 'object', properties: { region: { type: 'string' }, batch: { type: 'integer', minimum: 1 } }, required: ['region'], additionalProperties: false },
};

/** An agent as its admin gets it: its id, and its token and signing secret (shown once). */
export interface RegisteredAgent {
  id: string;
  token: string;
  signingSecret: string;
}

/** A shipped client over a network a test controls: `kill()` cuts it as a killed process's is (no goodbye), `revive()` mends it. */
export interface ConnectedAgent {
  client: AgentClient;
  kill(): void;
  revive(): void;
}

/** Client options a test may set; `fetch` is the network under the cut (to watch or tamper with what passes). */
export type ConnectOptions = Partial<Omit<AgentClientOptions, 'url' | 'token' | 'signingSecret'>>;

export interface AgentFixture {
  readonly env: MissionEnv;
  readonly web: RunningWeb;
  readonly admin: ApiClient;
  /** Whether the web server is up (stopWeb() takes it down until startWeb()). */
  readonly running: boolean;
  /** Creates a definition: AGENT_DEFINITION under a unique name, with `body` over it; returns its id. */
  definition(body?: Record<string, unknown>): Promise<string>;
  /** Registers an agent of a definition (a unique name unless `extra` gives one). */
  register(definitionId: string, extra?: Record<string, unknown>): Promise<RegisteredAgent>;
  /** A client for the agent, set up by `setup` (handlers), not started; stopped after the file. */
  connect(agent: Pick<RegisteredAgent, 'token' | 'signingSecret'>, setup?: (client: AgentClient) => void, options?: ConnectOptions): ConnectedAgent;
  /** Closes the web server (its streams end; connected clients keep retrying). */
  stopWeb(): Promise<void>;
  /** Starts a web server again on the same deps and port, so clients reconnect to the address they know. */
  startWeb(): Promise<RunningWeb>;
}

const quiet = { info: () => {}, warn: () => {} };

export function useAgentFixture(overrides: Record<string, string> = {}): AgentFixture {
  let env: MissionEnv | undefined;
  let web: RunningWeb | undefined;
  let port = 0;
  const clients: AgentClient[] = [];
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the agent fixture's ${what} is not there (before beforeAll, or the web server is stopped)`);
    return value;
  };

  beforeAll(async () => {
    env = await missionEnv(overrides);
    web = await startWebServer(env.t.deps, { port: 0, host: '127.0.0.1' });
    port = web.port;
  }, 120_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.stop().catch(() => {})));
    await web?.close();
    await env?.close();
  });

  const fixture: AgentFixture = {
    get env() {
      return ready(env, 'env');
    },
    get web() {
      return ready(web, 'web server');
    },
    get admin() {
      return ready(env, 'env').admin;
    },
    get running() {
      return web !== undefined;
    },
    async definition(body = {}) {
      const res = await fixture.admin.request('POST', '/api/agent-definitions', { ...AGENT_DEFINITION, name: `Test agent ${randomUUID().slice(0, 8)}`, ...body });
      expect(res.status, await res.clone().text()).toBe(201);
      return (await json(res)).definition.id;
    },
    async register(definitionId, extra = {}) {
      const res = await fixture.admin.request('POST', '/api/agents', { name: `agent-${randomUUID().slice(0, 8)}`, definitionId, ...extra });
      expect(res.status, await res.clone().text()).toBe(201);
      const body = await json(res);
      return { id: body.agent.id, token: body.token, signingSecret: body.signingSecret };
    },
    connect(agent, setup = () => {}, options = {}) {
      let cut = false;
      const network = options.fetch ?? ((url, init) => fetch(url, init));
      const client = new AgentClient({
        version: '1.2.3', heartbeatIntervalMs: 1000, logger: quiet, ...options,
        url: fixture.web.url, token: agent.token, signingSecret: agent.signingSecret,
        fetch: (url, init) => (cut ? Promise.reject(new Error('killed')) : network(url, init)),
      });
      setup(client);
      clients.push(client);
      return { client, kill: () => void (cut = true), revive: () => void (cut = false) };
    },
    async stopWeb() {
      const running = ready(web, 'web server');
      web = undefined;
      await running.close();
    },
    async startWeb() {
      if (web) throw new Error('the web server is running already');
      web = await startWebServer(ready(env, 'env').t.deps, { port, host: '127.0.0.1' });
      return web;
    },
  };
  return fixture;
}

// Agents (issue 11): definitions with immutable versions, agents registered
// with a token shown once, connected with the shipped client over real HTTP,
// commands validated, authorized, signed, answered exactly once and audited,
// from the API and from a Temporal start as the CLI makes it; OFFLINE within
// three missed intervals and back; metrics; configurations pushed and
// acknowledged; nothing of one workspace visible from another.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AgentClient } from '../../client/agent/http-agent';
import { signFrame, verifyFrame } from '../../client/agent/signature';
import { listAudit } from '../../core/audit/audit-log';
import { sweepOffline } from '../../core/agents/presence';
import { ADMIN_TOKEN } from '../helpers/env';
import { apiClient, json, userWithRole, type ApiClient } from '../helpers/app';
import { secondWorkspace } from '../helpers/workspaces';
import { AGENT_DEFINITION as DEFINITION, useAgentFixture, type RegisteredAgent } from '../helpers/agent-fixtures';
import { eventually } from '../helpers/missions';

const fx = useAgentFixture();
const { definition, register } = fx;
const connect = (a: RegisteredAgent, setup?: (c: AgentClient) => void) => fx.connect(a, setup).client;

const agentOf = async (id: string) => (await json(await fx.admin.request('GET', `/api/agents/${id}`))).agent;

describe('agent definitions', () => {
  it('are versioned immutably: a change is a new version, and an old version cannot be edited', async () => {
    const id = await definition();
    const res = await fx.admin.request('POST', `/api/agent-definitions/${id}/versions`, { ...DEFINITION, name: undefined, category: undefined, status: undefined, description: 'Second', note: 'v2' });
    expect(res.status, await res.clone().text()).toBe(201);
    const { definition: d, versions } = await json(await fx.admin.request('GET', `/api/agent-definitions/${id}`));
    expect(d).toMatchObject({ currentVersion: 2, description: 'Second' });
    expect(versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    await expect(fx.env.t.db.sql`update agent_definition_versions set description = 'edited' where definition_id = ${id}`).rejects.toThrow(/immutable/);
  });

  it('refuse a bad payload schema, a duplicate command type or a duplicate name with a clear 4xx', async () => {
    const bad = await fx.admin.request('POST', '/api/agent-definitions', { ...DEFINITION, name: 'Bad one', commands: [{ type: 'X', payloadSchema: { $ref: 'https://example.com/s.json' } }] });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.message).toMatch(/local references/);
    const dup = await fx.admin.request('POST', '/api/agent-definitions', { ...DEFINITION, name: 'Dup', commands: [DEFINITION.commands[0], DEFINITION.commands[0]] });
    expect(dup.status).toBe(400);
    const name = `Same ${randomUUID().slice(0, 6)}`;
    await definition({ name });
    expect((await fx.admin.request('POST', '/api/agent-definitions', { ...DEFINITION, name })).status).toBe(409);
    expect((await fx.env.viewer.request('POST', '/api/agent-definitions', { ...DEFINITION, name: 'By a viewer' })).status).toBe(403);
  });
});

describe('an agent', () => {
  it('gets a token shown once (hashed at rest) that speaks the agent protocol only; a user token cannot speak it', async () => {
    const a = await register(await definition());
    expect(a.token).toMatch(/^mca_/);
    const [stored] = await fx.env.t.db.sql<{ tokenHash: string }[]>`select token_hash as "tokenHash" from agent_tokens where agent_id = ${a.id}`;
    expect(stored!.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(await agentOf(a.id))).not.toContain(a.token);
    expect((await apiClient(fx.env.t, a.token).request('GET', '/api/agents')).status).toBe(401);
    expect((await apiClient(fx.env.t, ADMIN_TOKEN).request('POST', '/api/agent/hello', {})).status).toBe(401);
    expect((await apiClient(fx.env.t, a.token).request('POST', '/api/agent/hello', { version: '1' })).status).toBe(200);
    // Rotating: the old token stops at once.
    const rotated = await json(await fx.admin.request('POST', `/api/agents/${a.id}/token`));
    expect((await apiClient(fx.env.t, a.token).request('POST', '/api/agent/hello', {})).status).toBe(401);
    expect((await apiClient(fx.env.t, rotated.token).request('POST', '/api/agent/hello', {})).status).toBe(200);
    const actions = (await listAudit(fx.env.t.db.sql, { entityId: a.id, limit: 20 })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['agent.created', 'token.agent.created', 'token.agent.rotated']));
  });

  it('connects with the shipped client, answers a command with its result, exactly once, signed and audited', async () => {
    const a = await register(await definition());
    let runs = 0;
    const client = connect(a, (c) => c.onCommand('COLLECT_DIAGNOSTICS', () => ({ node: process.version, runs: ++runs })));
    const hello = await client.start();
    expect(hello.agent).toMatchObject({ id: a.id, status: 'IDLE' });
    const res = await fx.env.operator.request('POST', `/api/agents/${a.id}/commands`, { type: 'COLLECT_DIAGNOSTICS', payload: {}, wait: 20 });
    expect(res.status, await res.clone().text()).toBe(200);
    const { command } = await json(res);
    expect(command).toMatchObject({ status: 'succeeded', result: { node: process.version, runs: 1 }, requestedBy: fx.env.operatorName, source: 'api' });
    expect(runs).toBe(1);
    // Counted where they land: one sent and one succeeded entry, one run-log row, one settled workflow.
    const audit = (await listAudit(fx.env.t.db.sql, { entityId: a.id, action: 'agent.command.', limit: 20 })).map((e) => e.action);
    expect(audit.sort()).toEqual(['agent.command.sent', 'agent.command.succeeded']);
    const log = await json(await fx.admin.request('GET', `/api/agents/${a.id}/runs`));
    expect(log.runs).toHaveLength(1);
    expect(log.runs[0]).toMatchObject({ triggerType: 'command', status: 'success', commandId: command.id });
    const handle = fx.env.t.deps.temporal.client.workflow.getHandle(command.workflowId);
    expect(await handle.result()).toMatchObject({ status: 'succeeded' });
    // A second answer to a settled command is refused.
    const again = await apiClient(fx.env.t, a.token).request('POST', `/api/agent/commands/${command.id}/result`, { ok: true, result: 'late' });
    expect(again.status).toBe(409);
    expect(client.stats.rejectedFrames).toBe(0);
  });

  it('refuses a command for a role below its own, a payload off its schema and an unknown type, each audited; nothing is sent', async () => {
    const a = await register(await definition());
    const refused = async (who: ApiClient, body: Record<string, unknown>, status: number, message: RegExp) => {
      const res = await who.request('POST', `/api/agents/${a.id}/commands`, { wait: 0, ...body });
      expect(res.status, await res.clone().text()).toBe(status);
      expect((await json(res)).error.message).toMatch(message);
    };
    await refused(fx.env.viewer, { type: 'COLLECT_DIAGNOSTICS', payload: {} }, 403, /needs the OPERATOR role/);
    await refused(fx.env.operator, { type: 'SHUTDOWN', payload: {} }, 403, /needs the ADMIN role/);
    await refused(fx.env.operator, { type: 'REFRESH_DATA', payload: { source: 'far too long a source' } }, 422, /at \/source/);
    await refused(fx.env.operator, { type: 'REFRESH_DATA', payload: {} }, 422, /source/);
    await refused(fx.env.operator, { type: 'NO_SUCH_THING', payload: {} }, 409, /accepts no command NO_SUCH_THING/);
    const [count] = await fx.env.t.db.sql<{ n: number }[]>`select count(*)::int as n from agent_commands where agent_id = ${a.id}`;
    expect(count!.n).toBe(0);
    const audit = await listAudit(fx.env.t.db.sql, { entityId: a.id, action: 'agent.command.', limit: 20 });
    expect(audit.map((e) => e.action)).toEqual(Array(5).fill('agent.command.refused'));
  });

  it('waits for an agent that is not connected until the timeout, then the command is timed out', async () => {
    const a = await register(await definition());
    const res = await fx.env.operator.request('POST', `/api/agents/${a.id}/commands`, { type: 'COLLECT_DIAGNOSTICS', payload: {}, timeoutMs: 1500, wait: 0 });
    expect(res.status).toBe(202);
    const { command } = await json(res);
    expect(res.headers.get('location')).toBe(`/api/agents/${a.id}/commands/${command.id}`);
    const outcome = await fx.env.t.deps.temporal.client.workflow.getHandle(command.workflowId).result();
    expect(outcome).toMatchObject({ status: 'timed_out' });
    const after = await json(await fx.env.operator.request('GET', `/api/agents/${a.id}/commands/${command.id}`));
    expect(after.command).toMatchObject({ status: 'timed_out', error: { code: 'timeout' } });
  });

  it('takes commands started as the Temporal CLI starts them, for the user the input names, and refuses one below the role', async () => {
    const a = await register(await definition());
    const client = connect(a, (c) => c.onCommand('COLLECT_DIAGNOSTICS', () => ({ via: 'cli' })));
    await client.start();
    const start = (actor: string) => fx.env.t.deps.temporal.client.workflow.execute('agentCommandWorkflow', {
      taskQueue: fx.env.t.config.TEMPORAL_TASK_QUEUE, workflowId: `cli-${randomUUID()}`, args: [{ agentId: a.id, type: 'COLLECT_DIAGNOSTICS', payload: {}, actor }],
    });
    expect(await start('admin')).toMatchObject({ status: 'succeeded', result: { via: 'cli' } });
    const viewer = await userWithRole(fx.env.t, 'VIEWER');
    await expect(start(viewer.username)).rejects.toThrow();
    const audit = await listAudit(fx.env.t.db.sql, { entityId: a.id, action: 'agent.command.', limit: 20 });
    expect(audit.map((e) => e.action).sort()).toEqual(['agent.command.refused', 'agent.command.sent', 'agent.command.succeeded']);
    expect(audit.find((e) => e.action === 'agent.command.refused')).toMatchObject({ actor: viewer.username, details: { source: 'cli' } });
  });

  it('goes OFFLINE within three intervals of its last heartbeat, and back when it returns', async () => {
    const a = await register(await definition(), { heartbeatIntervalMs: 1000 });
    const agent = apiClient(fx.env.t, a.token);
    const { sessionId } = await json(await agent.request('POST', '/api/agent/hello', { version: '1' }));
    expect((await agent.request('POST', '/api/agent/heartbeat', { sessionId, status: 'RUNNING', currentTask: 'crunching', resourceUsage: { cpu: 12 } })).status).toBe(200);
    expect(await agentOf(a.id)).toMatchObject({ status: 'RUNNING', currentTask: 'crunching', resourceUsage: { cpu: 12 } });
    const offline = await eventually(() => agentOf(a.id), (x) => x.status === 'OFFLINE', 10_000);
    expect(offline.status).toBe('OFFLINE');
    // Never early: not before 2.25 intervals of silence (the sweep, every 500 ms, keeps it within three).
    expect(Date.parse(offline.statusChangedAt) - Date.parse(offline.lastHeartbeatAt)).toBeGreaterThanOrEqual(2250);
    // Its old session is gone: it says hello again and is back.
    expect((await agent.request('POST', '/api/agent/heartbeat', { sessionId, status: 'IDLE' })).status).toBe(409);
    await agent.request('POST', '/api/agent/hello', {});
    expect((await agentOf(a.id)).status).toBe('IDLE');
    const events = await fx.env.t.db.sql<{ payload: { from: string; to: string; reason: string } }[]>`
      select payload from events where type = 'agent.status_changed' and entity_id = ${a.id} order by id`;
    expect(events.map((e) => `${e.payload.from}>${e.payload.to}:${e.payload.reason}`)).toEqual([
      'OFFLINE>IDLE:hello', 'IDLE>RUNNING:heartbeat', 'RUNNING>OFFLINE:missed_heartbeats', 'OFFLINE>IDLE:hello',
    ]);
  });

  it('counts as OFFLINE past 2.25 intervals of silence and not before, whichever replica sweeps', async () => {
    const a = await register(await definition(), { heartbeatIntervalMs: 10_000 });
    const agent = apiClient(fx.env.t, a.token);
    await agent.request('POST', '/api/agent/hello', {});
    const silentFor = async (ms: number) => fx.env.t.db.sql`update agents set last_heartbeat_at = now() - ${ms} * interval '1 millisecond' where id = ${a.id}`;
    await silentFor(22_000);
    await Promise.all([sweepOffline(fx.env.t.db.sql), sweepOffline(fx.env.t.db.sql)]);
    expect((await agentOf(a.id)).status).toBe('IDLE');
    await silentFor(23_000);
    await Promise.all([sweepOffline(fx.env.t.db.sql), sweepOffline(fx.env.t.db.sql)]);
    expect((await agentOf(a.id)).status).toBe('OFFLINE');
    const [changes] = await fx.env.t.db.sql<{ n: number }[]>`select count(*)::int as n from events where type = 'agent.status_changed' and entity_id = ${a.id} and payload->>'to' = 'OFFLINE'`;
    expect(changes!.n).toBe(1);
  });

  it('keeps the metrics it reports as a series per minute', async () => {
    const a = await register(await definition());
    const client = connect(a);
    await client.start();
    await client.reportMetrics({ cpu_percent: 10, memory_mb: 100 });
    await client.reportMetrics({ cpu_percent: 30, memory_mb: 120 });
    const { series } = await json(await fx.admin.request('GET', `/api/agents/${a.id}/metrics?minutes=10&steps=10`));
    const cpu = series.find((s: { name: string }) => s.name === 'cpu_percent');
    expect(cpu).toMatchObject({ last: 30, min: 10, max: 30 });
    expect(cpu.points.filter((p: number | null) => p !== null)).toEqual([20]);
    const bad = await apiClient(fx.env.t, a.token).request('POST', '/api/agent/metrics', { samples: [{ values: { 'Bad Name': 1 } }] });
    expect(bad.status).toBe(400);
  });

  it('is sent the configuration assigned to it, checked against its definition, and acknowledges it', async () => {
    const definitionId = await definition();
    const a = await register(definitionId);
    const bad = await fx.admin.request('POST', '/api/agent-configurations', { definitionId, name: 'Broken', yaml: 'region: [unclosed' });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.message).toMatch(/line 1/);
    const offSchema = await fx.admin.request('POST', '/api/agent-configurations', { definitionId, name: 'Off', yaml: 'batch: 0\n' });
    expect(offSchema.status).toBe(422);
    const created = await fx.admin.request('POST', '/api/agent-configurations', { definitionId, name: `Config ${randomUUID().slice(0, 6)}`, yaml: 'region: eu\nbatch: 5\n' });
    expect(created.status, await created.clone().text()).toBe(201);
    const { configuration } = await json(created);
    const received: unknown[] = [];
    const client = connect(a, (c) => c.onConfiguration((cfg) => void received.push(cfg.effective)));
    await client.start();
    expect((await fx.admin.request('PUT', `/api/agents/${a.id}/configuration`, { configurationId: configuration.id })).status).toBe(200);
    await eventually(() => agentOf(a.id), (x) => x.configStatus === 'applied', 10_000);
    expect(received).toEqual([{ region: 'eu', batch: 5 }]);
    expect((await fx.admin.request('POST', `/api/agent-configurations/${configuration.id}/versions`, { yaml: 'region: us\n', note: 'move' })).status).toBe(201);
    await eventually(() => agentOf(a.id), (x) => x.configAppliedVersion === 2, 10_000);
    expect(received).toEqual([{ region: 'eu', batch: 5 }, { region: 'us' }]);
  });

  it('of another workspace is not found, and its commands are not there to send', async () => {
    const b = await secondWorkspace(fx.env.t, `Agents ${randomUUID().slice(0, 6)}`);
    const res = await b.admin.request('POST', '/api/agent-definitions', { ...DEFINITION, name: 'Theirs' });
    const theirs = (await json(res)).definition.id;
    const agent = await json(await b.admin.request('POST', '/api/agents', { name: 'their-agent', definitionId: theirs }));
    expect((await fx.admin.request('GET', `/api/agents/${agent.agent.id}`)).status).toBe(404);
    expect((await fx.admin.request('POST', `/api/agents/${agent.agent.id}/commands`, { type: 'COLLECT_DIAGNOSTICS', payload: {} })).status).toBe(404);
    expect((await fx.admin.request('POST', '/api/agents', { name: 'x', definitionId: theirs })).status).toBe(400);
    expect((await json(await fx.admin.request('GET', '/api/agents'))).agents.map((x: { id: string }) => x.id)).not.toContain(agent.agent.id);
  });
});

describe('command signatures', () => {
  it('verify only the exact text, for the agent named, before it expires', async () => {
    const command = { v: 1 as const, kind: 'command' as const, id: randomUUID(), agentId: 'a1', workspaceId: 'w', type: 'X', payload: {}, issuedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString() };
    const frame = await signFrame('secret', command);
    expect(await verifyFrame('secret', frame, { kind: 'command', agentId: 'a1' })).toMatchObject({ ok: true });
    expect(await verifyFrame('other', frame, { kind: 'command', agentId: 'a1' })).toEqual({ ok: false, reason: 'signature' });
    expect(await verifyFrame('secret', { ...frame, signed: frame.signed.replace('"X"', '"Y"') }, { kind: 'command', agentId: 'a1' })).toEqual({ ok: false, reason: 'signature' });
    expect(await verifyFrame('secret', frame, { kind: 'command', agentId: 'a2' })).toEqual({ ok: false, reason: 'foreign' });
    expect(await verifyFrame('secret', frame, { kind: 'command', agentId: 'a1', now: new Date(Date.now() + 120_000) })).toEqual({ ok: false, reason: 'expired' });
    expect(await verifyFrame('secret', frame, { kind: 'task', agentId: 'a1' })).toEqual({ ok: false, reason: 'malformed' }); // a command is no task
  });
});

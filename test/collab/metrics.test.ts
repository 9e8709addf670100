// GET /metrics: the workspace's numbers in Prometheus' text format, for an
// operator's token: every line parses, a completed run counts under its mission
// and outcome, agents count by status, events are a counter; a viewer is
// refused and no token is asked for one, in JSON; another workspace's runs
// never show.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../helpers/env';
import { json, type TestApp } from '../helpers/app';
import { secondWorkspace } from '../helpers/workspaces';
import { AGENT_DEFINITION } from '../helpers/agent-fixtures';
import { type MissionEnv, execute, makeMission, makePattern, missionEnv, result } from '../helpers/missions';

let env: MissionEnv;
let t: TestApp;
beforeAll(async () => {
  env = await missionEnv();
  t = env.t;
});
afterAll(async () => env?.close());

const LINE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? -?[0-9.eE+-]+$/;

describe('/metrics', () => {
  it('counts the workspace in Prometheus text, for operators', async () => {
    const quick = await makePattern(env.admin, env.containerId, 'async () => ({ ok: true })');
    const name = `Nightly "sync" ${Date.now()}`;
    const missionId = await makeMission(env.admin, { name, containerId: env.containerId, tasks: [{ name: 'one', order: 0, patternId: quick }] });
    expect((await result(t, await execute(env.operator, missionId))).status).toBe('Completed');
    const def = (await json(await env.admin.request('POST', '/api/agent-definitions', { ...AGENT_DEFINITION, name: `m-${Date.now()}` }))).definition.id;
    expect((await env.admin.request('POST', '/api/agents', { name: `m-agent-${Date.now()}`, definitionId: def })).status).toBe(201);

    const res = await t.app.request('/metrics', { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const lines = text.trim().split('\n');
    expect(lines.filter((l) => !l.startsWith('#') && !LINE.test(l))).toEqual([]);
    expect(text).toContain(`mission_control_runs_ended_total{mission="${name.replace(/"/g, '\\"')}",outcome="completed"} 1`);
    expect(text).toMatch(/^mission_control_agents\{status="OFFLINE"\} [1-9]/m);
    expect(text).toMatch(/^mission_control_events_total [1-9]\d*$/m);
    expect(text).toMatch(/^mission_control_runs_open\{status="Running"\} \d+$/m);
    expect(text).toContain('# TYPE mission_control_task_duration_milliseconds_count counter');

    expect((await env.viewer.request('GET', '/metrics')).status).toBe(403);
    const anonymous = await t.app.request('/metrics');
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).error.message).toMatch(/API token/);

    const b = await secondWorkspace(t, `metrics-b-${Date.now()}`);
    const theirs = await (await t.app.request('/metrics', { headers: { Authorization: `Bearer ${b.admin.token}` } })).text();
    expect(theirs).not.toContain(name.replace(/"/g, '\\"'));
  });
});

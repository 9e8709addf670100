// Comments (seed 004) through /api/comments: an operator comments on a run (and
// one of its tasks), a mission or an agent; a run's comment carries its mission,
// and a mission's list holds its runs' comments too, newest first, page by page.
// A comment records the members of the workspace it mentions, no one else. No one
// writes a SYSTEM comment by hand, and a comment about nothing (or too long, or
// about what is not there) is refused and writes nothing. Authors edit and delete
// their own, admins any, each change audited with its event; the global pause
// explains a run it holds with one SYSTEM comment that no one edits and only an
// admin deletes; another workspace sees none of it and cannot point at it.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { apiClient, json, userWithRole, type ApiClient, type TestApp } from '../helpers/app';
import { AGENT_DEFINITION } from '../helpers/agent-fixtures';
import { type MissionEnv, BUSY_PATTERN, eventually, execute, makeMission, makePattern, missionEnv, result, waitFor } from '../helpers/missions';
import { secondWorkspace } from '../helpers/workspaces';

let t: TestApp;
let env: MissionEnv;
let admin: ApiClient;
let operator: ApiClient;
let otherOperator: ApiClient;
let viewer: ApiClient;
let containerId: string;
let slow: string;
let quick: string;
let agentId: string;
let adminName: string;

beforeAll(async () => {
  env = await missionEnv();
  ({ t, admin, operator, viewer, containerId } = env);
  otherOperator = apiClient(t, (await userWithRole(t, 'OPERATOR')).token);
  slow = await makePattern(admin, containerId, BUSY_PATTERN, { timeout: 60_000 });
  quick = await makePattern(admin, containerId, 'async () => ({ quick: true })');
  adminName = (await json(await admin.request('GET', '/api/me'))).user.username;
  const def = await admin.request('POST', '/api/agent-definitions', { ...AGENT_DEFINITION, name: `cm-${randomUUID().slice(0, 8)}` });
  expect(def.status).toBe(201);
  const agent = await admin.request('POST', '/api/agents', { definitionId: (await json(def)).definition.id, name: `cm-agent-${randomUUID().slice(0, 8)}` });
  expect(agent.status, await agent.clone().text()).toBe(201);
  agentId = (await json(agent)).agent.id;
});
afterAll(async () => env?.close());
// Each test leaves the global pause off, whatever it asserted.
afterEach(async () => void (await admin.request('POST', '/api/settings/safety/global-resume', {})));

type Comment = { id: string; type: string; content: string; missionId: string | null; workflowId: string | null; taskId: string | null; agentId: string | null; author: string; mentions: string[] };

const post = (body: Record<string, unknown>, as = operator) => as.request('POST', '/api/comments', body);
const created = async (body: Record<string, unknown>, as = operator): Promise<Comment> => {
  const res = await post(body, as);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await json(res)).comment;
};
const list = async (query: string, as: ApiClient = viewer): Promise<{ comments: Comment[]; next: string | null }> => {
  const res = await as.request('GET', `/api/comments?${query}`);
  expect(res.status).toBe(200);
  return json(res);
};
const rows = async () => (await t.db.owner<{ comments: number; audits: number }[]>`
  select (select count(*)::int from comments) as comments, (select count(*)::int from audit_log where entity_type = 'comment') as audits`)[0]!;
/** A run of a one-task mission, run to its end: its mission, its workflow id and its task's id. */
const finishedRun = async () => {
  const missionId = await makeMission(operator, { containerId, tasks: [{ name: 'only', order: 0, patternId: quick }] });
  const workflowId = await execute(operator, missionId);
  const done = await result(t, workflowId);
  return { missionId, workflowId, taskId: done.tasks[0]!.id };
};

describe('a comment', () => {
  it('is about a run (and its task), a mission or an agent, listed newest first by what it is about, page by page', async () => {
    const run = await finishedRun();
    const onRun = await created({ content: 'the run looked slow', workflowId: run.workflowId, taskId: run.taskId });
    expect(onRun).toMatchObject({ type: 'NOTE', workflowId: run.workflowId, taskId: run.taskId, missionId: run.missionId, agentId: null, author: env.operatorName });
    const onMission = await created({ content: 'mission note', missionId: run.missionId });
    expect(onMission).toMatchObject({ missionId: run.missionId, workflowId: null, taskId: null, agentId: null });
    const onAgent = await created({ content: 'agent note', agentId });
    expect(onAgent).toMatchObject({ agentId, missionId: null, workflowId: null });

    expect((await list(`missionId=${run.missionId}`)).comments.map((c) => c.id)).toEqual([onMission.id, onRun.id]);
    expect((await list(`workflowId=${run.workflowId}`)).comments.map((c) => c.id)).toEqual([onRun.id]);
    expect((await list(`workflowId=${run.workflowId}&taskId=${run.taskId}`)).comments.map((c) => c.id)).toEqual([onRun.id]);
    expect((await list(`agentId=${agentId}`)).comments.map((c) => c.id)).toEqual([onAgent.id]);
    const read = await viewer.request('GET', `/api/comments/${onRun.id}`);
    expect(read.status).toBe(200);
    expect((await json(read)).comment).toEqual(onRun);

    const first = await list(`missionId=${run.missionId}&limit=1`);
    expect(first).toEqual({ comments: [expect.objectContaining({ id: onMission.id })], next: onMission.id });
    const second = await list(`missionId=${run.missionId}&limit=1&before=${first.next}`);
    expect(second).toEqual({ comments: [expect.objectContaining({ id: onRun.id })], next: onRun.id });
    expect(await list(`missionId=${run.missionId}&limit=1&before=${second.next}`)).toEqual({ comments: [], next: null });
  });

  it('records the workspace members it mentions, whatever their case, and no one else', async () => {
    const missionId = await makeMission(operator, { containerId, tasks: [{ name: 'only', order: 0, patternId: quick }] });
    const ws2 = await secondWorkspace(t, `comments-mentions-${randomUUID().slice(0, 8)}`);
    const outsider = await userWithRole(t, 'OPERATOR', ws2.id);
    const c = await created({ content: `ping @${env.operatorName.toUpperCase()} and @nobody-here, cc @${outsider.username}.`, missionId });
    expect(c.mentions).toEqual([env.operatorName]);
  });

  it('is of a type a person writes; a SYSTEM one, one about nothing or about what is not there, or too long is refused and writes nothing', async () => {
    const run = await finishedRun();
    for (const type of ['ERROR', 'WARNING', 'SUCCESS']) expect((await created({ content: `a ${type}`, type, missionId: run.missionId })).type).toBe(type);
    const before = await rows();
    const refusals: [Record<string, unknown>, RegExp][] = [
      [{ content: 'by hand', type: 'SYSTEM', missionId: run.missionId }, /type is NOTE, ERROR, WARNING or SUCCESS/],
      [{ content: 'about nothing' }, /missionId, workflowId or agentId/],
      [{ content: 'a task alone', missionId: run.missionId, taskId: run.taskId }, /name the run with workflowId/],
      [{ content: 'no such mission', workflowId: `mission-${randomUUID()}-manual` }, /^workflowId names no run/],
      [{ content: 'no such mission', missionId: randomUUID() }, /^missionId names no mission/],
      [{ content: 'no such task', workflowId: run.workflowId, taskId: randomUUID() }, /^taskId names no task/],
      [{ content: 'x'.repeat(10_001), missionId: run.missionId }, /at most 10000 characters/],
      [{ content: '   ', missionId: run.missionId }, /not empty/],
    ];
    for (const [body, message] of refusals) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body).slice(0, 100)).toBe(400);
      expect((await json(res)).error.message).toMatch(message);
    }
    expect((await post({ content: 'a viewer', missionId: run.missionId }, viewer)).status).toBe(403);
    expect(await rows()).toEqual(before);
  });
});

describe('editing and deleting', () => {
  it('lets its author edit it and an admin delete it, each change audited; another operator is refused', async () => {
    const missionId = await makeMission(operator, { containerId, tasks: [{ name: 'only', order: 0, patternId: quick }] });
    const c = await created({ content: 'first thought', missionId });
    const edited = await operator.request('PATCH', `/api/comments/${c.id}`, { content: `second thought @${env.operatorName}`, type: 'WARNING' });
    expect(edited.status).toBe(200);
    expect((await json(edited)).comment).toMatchObject({ id: c.id, content: `second thought @${env.operatorName}`, type: 'WARNING', mentions: [env.operatorName] });
    const [updated] = await listAudit(t.db.sql, { action: 'comment.updated', entityId: c.id, limit: 5 });
    expect(updated).toMatchObject({ actor: env.operatorName, entityType: 'comment', details: expect.objectContaining({ commentType: 'WARNING', missionId, from: expect.objectContaining({ type: 'NOTE' }) }) });

    const before = await rows();
    expect((await otherOperator.request('PATCH', `/api/comments/${c.id}`, { content: 'not mine' })).status).toBe(403);
    expect((await otherOperator.request('DELETE', `/api/comments/${c.id}`)).status).toBe(403);
    expect((await viewer.request('DELETE', `/api/comments/${c.id}`)).status).toBe(403);
    expect(await rows()).toEqual(before);
    expect((await json(await viewer.request('GET', `/api/comments/${c.id}`))).comment.content).toBe(`second thought @${env.operatorName}`);

    expect((await admin.request('DELETE', `/api/comments/${c.id}`)).status).toBe(204);
    expect((await viewer.request('GET', `/api/comments/${c.id}`)).status).toBe(404);
    expect((await admin.request('DELETE', `/api/comments/${c.id}`)).status).toBe(404);
    const deleted = await listAudit(t.db.sql, { action: 'comment.deleted', entityId: c.id, limit: 5 });
    expect(deleted).toEqual([expect.objectContaining({ actor: adminName, entityType: 'comment', details: expect.objectContaining({ missionId }) })]);
  });
});

describe('the SYSTEM comment of the global pause', () => {
  it('explains a held run once, however often the pause is switched on, and no one edits it nor an operator deletes it', async () => {
    const missionId = await makeMission(operator, { containerId, tasks: [
      { name: 'first', order: 0, patternId: slow, input: { ms: 1500 } }, { name: 'second', order: 1, patternId: quick },
    ] });
    const workflowId = await execute(operator, missionId);
    await waitFor(t, workflowId, (p) => p.tasks[0]!.status === 'running');
    expect((await admin.request('POST', '/api/settings/safety/global-pause', { reason: 'incident 42' })).status).toBe(200);
    await waitFor(t, workflowId, (p) => p.tasks[0]!.status === 'completed' && p.status === 'Paused');

    const systemOf = async () => (await list(`workflowId=${workflowId}&type=SYSTEM`)).comments;
    const [held, ...more] = await eventually(systemOf, (cs) => cs.length > 0);
    expect(more).toEqual([]);
    expect(held).toMatchObject({ type: 'SYSTEM', workflowId, missionId, author: 'system' });
    expect(held!.content).toBe(`Held by the global pause by ${adminName}: incident 42. It goes on by itself when an admin ends the global pause.`);
    // Switched on again: nothing changes, nothing more is said.
    expect((await admin.request('POST', '/api/settings/safety/global-pause', { reason: 'incident 42 again' })).status).toBe(200);
    expect((await systemOf()).map((c) => c.id)).toEqual([held!.id]);

    const before = await rows();
    expect((await admin.request('PATCH', `/api/comments/${held!.id}`, { content: 'rewritten' })).status).toBe(403);
    expect((await operator.request('PATCH', `/api/comments/${held!.id}`, { type: 'NOTE' })).status).toBe(403);
    expect((await operator.request('DELETE', `/api/comments/${held!.id}`)).status).toBe(403);
    expect(await rows()).toEqual(before);
    expect((await json(await viewer.request('GET', `/api/comments/${held!.id}`))).comment).toEqual(held);

    expect((await admin.request('POST', '/api/settings/safety/global-resume', {})).status).toBe(200);
    expect((await result(t, workflowId)).status).toBe('Completed');
    expect((await systemOf()).map((c) => c.id)).toEqual([held!.id]);
    expect((await admin.request('DELETE', `/api/comments/${held!.id}`)).status).toBe(204);
  });
});

describe('another workspace', () => {
  it('sees none of the comments and cannot comment on this workspace’s runs or agents', async () => {
    const run = await finishedRun();
    const c = await created({ content: `secret ${randomUUID()}`, workflowId: run.workflowId });
    const ws2 = await secondWorkspace(t, `comments-iso-${randomUUID().slice(0, 8)}`);
    expect((await ws2.admin.request('GET', `/api/comments/${c.id}`)).status).toBe(404);
    expect((await ws2.admin.request('PATCH', `/api/comments/${c.id}`, { content: 'theirs' })).status).toBe(404);
    expect((await ws2.admin.request('DELETE', `/api/comments/${c.id}`)).status).toBe(404);
    for (const query of ['', `workflowId=${run.workflowId}`, `missionId=${run.missionId}`, `agentId=${agentId}`, `before=${c.id}`]) {
      expect((await list(query, ws2.admin)).comments).toEqual([]);
    }
    const before = await rows();
    for (const [field, value, what] of [['workflowId', run.workflowId, 'run of a mission'], ['missionId', run.missionId, 'mission'], ['agentId', agentId, 'agent']]) {
      const res = await post({ content: 'smuggled', [field!]: value }, ws2.admin);
      expect(res.status).toBe(400);
      const { error } = await json(res);
      expect(error.message).toBe(`${field} names no ${what} of this workspace.`);
      expect(error.details).toEqual([expect.objectContaining({ path: field })]);
    }
    expect(await rows()).toEqual(before);
    expect((await json(await viewer.request('GET', `/api/comments/${c.id}`))).comment.content).toBe(c.content);
  });
});

describe('the events of comments', () => {
  it('names the comment, its run and its mission; another workspace hears none of them', async () => {
    const run = await finishedRun();
    const c = await created({ content: 'worth an event', workflowId: run.workflowId, taskId: run.taskId });
    const res = await viewer.request('GET', `/api/events?type=comment.&entityId=${c.id}`);
    expect(res.status).toBe(200);
    expect((await json(res)).events).toEqual([expect.objectContaining({
      type: 'comment.created', entityType: 'comment', entityId: c.id, runId: run.workflowId, missionId: run.missionId, taskId: run.taskId,
    })]);
    const ws2 = await secondWorkspace(t, `comments-ev-${randomUUID().slice(0, 8)}`);
    expect((await json(await ws2.admin.request('GET', `/api/events?type=comment.`))).events).toEqual([]);
  });
});

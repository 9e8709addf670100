// Playbooks (seed 003): an event of a playbook's type starts its mission with
// the event as its input, exactly once per event, even when the stream is read
// again and by two runners at once; a prefix matches a family of types, and a
// playbook's own run never starts it again; an inactive playbook starts
// nothing, and a paused mission's start is skipped and audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent } from '../../core/events/events';
import { PLAYBOOKS_CURSOR, playbookRunSuffix, runPlaybooksOnce } from '../../core/collab/playbooks';
import { missionWorkflowId } from '../../lib/names';
import { json, type TestApp } from '../helpers/app';
import { type MissionEnv, makeMission, makePattern, missionEnv, result } from '../helpers/missions';

let env: MissionEnv;
let t: TestApp;
let echo: string;
beforeAll(async () => {
  env = await missionEnv();
  t = env.t;
  echo = await makePattern(env.admin, env.containerId, 'async (input, ctx) => ({ saw: ctx.mission.input.event.type, from: ctx.mission.input.playbook.name })');
});
afterAll(async () => env?.close());

const drain = async () => {
  while ((await runPlaybooksOnce(t.db.sql, t.deps.temporal)) > 0);
};
const starts = async (missionId: string) =>
  (await t.db.owner<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'mission.executed' and entity_id = ${missionId}`)[0]!.n;
const playbook = async (body: Record<string, unknown>) => {
  const res = await env.operator.request('POST', '/api/playbooks', { name: `pb-${Math.random().toString(36).slice(2, 8)}`, ...body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await json(res)).playbook as { id: string; name: string };
};
const mission = () => makeMission(env.admin, { containerId: env.containerId, tasks: [{ name: 'react', order: 0, patternId: echo }] });

describe('a playbook', () => {
  it('starts its mission once per event, with the event as its input, however often the stream is read', async () => {
    const missionId = await mission();
    const pb = await playbook({ triggerEventType: 'agent.reported.sync_failed', missionId });
    const e = await appendEvent(t.db.sql, { type: 'agent.reported.sync_failed', entityType: 'agent', entityId: null, actor: 'agent:crawler', payload: { rows: 0 }, workspaceId: t.ws });
    expect(e).toBe(true);
    await drain();
    const [event] = await t.db.owner<{ id: string }[]>`select id::text from events where type = 'agent.reported.sync_failed' order by id desc limit 1`;
    const workflowId = missionWorkflowId(missionId, playbookRunSuffix(event!.id, pb.id));
    const done = await result(t, workflowId);
    expect(done).toMatchObject({ status: 'Completed', trigger: 'triggered' });
    expect(done.tasks[0]!.output).toEqual({ saw: 'agent.reported.sync_failed', from: pb.name });

    // Read again from the start, by two runners at once: still the one run.
    await t.db.owner`update settings set value = '{"after": 0}' where key = ${PLAYBOOKS_CURSOR}`;
    await Promise.all([drain(), drain()]);
    expect(await starts(missionId)).toBe(1);
  });

  it('matches a family of types by prefix, and is not started again by its own run', async () => {
    const missionId = await mission();
    await playbook({ triggerEventType: 'run.', missionId });
    const other = await mission();
    await appendEvent(t.db.sql, { type: 'run.started', entityType: 'run', entityId: `mission-${other}-x`, runId: `mission-${other}-x`, missionId: other, actor: 'someone', payload: {}, workspaceId: t.ws });
    await drain();
    await eventuallyCompleted(missionId);
    await drain(); // the playbook's run wrote run.* events of its own: none starts another
    expect(await starts(missionId)).toBe(1);
  });

  it('starts nothing while inactive, and skips a paused mission, saying so', async () => {
    const missionId = await mission();
    const idle = await playbook({ triggerEventType: 'custom.ping', missionId, isActive: false });
    await appendEvent(t.db.sql, { type: 'custom.ping', entityType: 'custom', entityId: null, actor: 'x', payload: {}, workspaceId: t.ws });
    await drain();
    expect(await starts(missionId)).toBe(0);

    expect((await env.operator.request('PATCH', `/api/playbooks/${idle.id}`, { isActive: true })).status).toBe(200);
    expect((await env.operator.request('POST', `/api/missions/${missionId}/pause`, { reason: 'quiet week' })).status).toBe(200);
    await appendEvent(t.db.sql, { type: 'custom.ping', entityType: 'custom', entityId: null, actor: 'x', payload: {}, workspaceId: t.ws });
    await drain();
    expect(await starts(missionId)).toBe(0);
    const skipped = await t.db.owner`select details from audit_log where action = 'playbook.skipped' and entity_id = ${idle.id}`;
    expect(skipped).toEqual([{ details: expect.objectContaining({ eventType: 'custom.ping', reason: expect.stringMatching(/paused/) }) }]);
    expect((await env.viewer.request('POST', '/api/playbooks', { name: 'nope', triggerEventType: 'x', missionId })).status).toBe(403);
    expect((await env.operator.request('POST', '/api/playbooks', { name: 'bad', triggerEventType: 'Not A Type', missionId })).status).toBe(400);
  });
});

async function eventuallyCompleted(missionId: string) {
  const { runs } = await json(await env.admin.request('GET', `/api/missions/${missionId}/runs`));
  if (runs.length) return result(t, runs[0].workflowId);
  const [row] = await t.db.owner<{ wf: string }[]>`select details->>'workflowId' as wf from audit_log where action = 'mission.executed' and entity_id = ${missionId}`;
  return result(t, row!.wf);
}

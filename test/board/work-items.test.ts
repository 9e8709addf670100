// The task board's work items (seed 002's tasks), through /api/tasks: an item is
// created in BACKLOG and moved between columns, every step one row of its
// timeline and one audit entry with its event; only an admin sets DONE or takes
// an item out of DONE, and a refused move writes nothing; links name records of
// the item's own workspace, a lead brings its campaign; the same sourceKey is
// the same item; a patch that changes nothing writes nothing; the timeline is
// append-only in the database; notes; the feed says it in words; a replay needs a run task; another
// workspace sees none of it; and the board shows each item in its column.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBoard } from '../../core/board/board';
import type { ApiClient } from '../helpers/app';
import { secondWorkspace } from '../helpers/workspaces';
import { auditOf, eventsOf, expectStatus, newCampaign, newLead, outreachEnv, unique, type OutreachEnv } from '../outreach/helpers';

let env: OutreachEnv;
beforeAll(async () => {
  env = await outreachEnv();
});
afterAll(async () => env?.t.close());

const create = async (api: ApiClient, body: Record<string, unknown> = {}) =>
  (await expectStatus(await api.request('POST', '/api/tasks', { title: unique('Follow up'), ...body }), 201)).task as { id: string; title: string; column: string };
const move = (api: ApiClient, id: string, column: string, note?: string) => api.request('PATCH', `/api/tasks/${id}`, { column, ...(note ? { note } : {}) });
const itemOf = async (id: string) => expectStatus(await env.as.VIEWER.request('GET', `/api/tasks/${id}`), 200);
const counts = async () => (await env.t.db.owner<{ items: number; events: number }[]>`
  select (select count(*)::int from work_items) as items, (select count(*)::int from task_events) as events`)[0]!;

describe('a work item', () => {
  it('is created in BACKLOG and moved by an operator, each step one timeline row and one audit entry with its event', async () => {
    const { OPERATOR: operator } = env.as;
    const task = await create(operator, { description: 'Call back on Monday' });
    expect(task).toMatchObject({ column: 'BACKLOG', priority: 'medium', description: 'Call back on Monday', createdBy: env.names.OPERATOR });
    expect((await expectStatus(await move(operator, task.id, 'DOING'), 200)).task).toMatchObject({ column: 'DOING', updatedBy: env.names.OPERATOR });
    await expectStatus(await move(operator, task.id, 'NEEDS_APPROVAL', 'Ready for a look'), 200);

    const { task: read, timeline } = await itemOf(task.id);
    expect(read.column).toBe('NEEDS_APPROVAL');
    expect(timeline).toEqual([
      expect.objectContaining({ kind: 'created', fromColumn: null, toColumn: 'BACKLOG', actor: env.names.OPERATOR }),
      expect.objectContaining({ kind: 'moved', fromColumn: 'BACKLOG', toColumn: 'DOING', note: null }),
      expect.objectContaining({ kind: 'moved', fromColumn: 'DOING', toColumn: 'NEEDS_APPROVAL', note: 'Ready for a look' }),
    ]);
    expect((await auditOf(env, task.id)).map((a) => a.action)).toEqual(['work_item.created', 'work_item.moved', 'work_item.moved']);
    expect((await auditOf(env, task.id, 'work_item.moved')).at(-1)!.details).toMatchObject({ from: 'DOING', to: 'NEEDS_APPROVAL', note: 'Ready for a look' });
    expect((await eventsOf(env, task.id)).map((e) => [e.type, e.entityType])).toEqual([
      ['work_item.created', 'work_item'], ['work_item.moved', 'work_item'], ['work_item.moved', 'work_item'],
    ]);
    // The activity feed (seed 002's GET /events/feed) says it in words, linking to the item.
    const { items } = await expectStatus(await env.as.VIEWER.request('GET', '/api/events/feed?limit=100'), 200);
    expect(items).toContainEqual(expect.objectContaining({ actor: env.names.OPERATOR, text: `moved work item “${task.title}” to NEEDS_APPROVAL`, href: `/work-items/${task.id}` }));
  });

  it('is set DONE, and taken out of DONE, by an admin alone; a refused move writes nothing', async () => {
    const { ADMIN: admin, OPERATOR: operator } = env.as;
    const task = await create(operator, { column: 'NEEDS_APPROVAL' });
    const before = await itemOf(task.id);
    const refused = await expectStatus(await move(operator, task.id, 'DONE', 'Done, I think'), 403);
    expect(refused.error.message).toMatch(/Only an admin sets a work item DONE; you are OPERATOR/);
    expect(await itemOf(task.id)).toEqual(before);
    expect((await operator.request('POST', '/api/tasks', { title: unique('Finished'), column: 'DONE' })).status).toBe(403);

    expect((await expectStatus(await move(admin, task.id, 'DONE'), 200)).task.column).toBe('DONE');
    expect((await expectStatus(await move(operator, task.id, 'DOING'), 403)).error.message).toMatch(/Only an admin takes a work item out of DONE/);
    expect((await itemOf(task.id)).task.column).toBe('DONE');
    expect((await expectStatus(await move(admin, task.id, 'DOING', 'Reopened'), 200)).task.column).toBe('DOING');
    expect((await itemOf(task.id)).timeline.map((e: { toColumn: string }) => e.toColumn)).toEqual(['NEEDS_APPROVAL', 'DONE', 'DOING']);

    const all = await counts();
    for (const role of ['CLOSER', 'VIEWER'] as const) {
      expect((await env.as[role].request('POST', '/api/tasks', { title: unique('Not mine') })).status).toBe(403);
      expect((await move(env.as[role], task.id, 'NEEDS_APPROVAL')).status).toBe(403);
    }
    expect(await counts()).toEqual(all);
  });

  it('links records of its own workspace: a lead brings its campaign, and a foreign or mismatched link is refused', async () => {
    const { OPERATOR: operator } = env.as;
    const campaign = await newCampaign(env.as.ADMIN);
    const lead = await newLead(operator, campaign.id);
    const task = await create(operator, { leadId: lead.id });
    expect(task).toMatchObject({ leadId: lead.id, campaignId: campaign.id, campaignName: campaign.name });
    const listed = await expectStatus(await env.as.VIEWER.request('GET', `/api/tasks?leadId=${lead.id}`), 200);
    expect(listed.tasks.map((t: { id: string }) => t.id)).toEqual([task.id]);

    const other = await newCampaign(env.as.ADMIN);
    expect((await expectStatus(await operator.request('POST', '/api/tasks', { title: 'Mismatch', campaignId: other.id, leadId: lead.id }), 409)).error.message)
      .toMatch(/lead is of another campaign/);

    const b = await secondWorkspace(env.t, unique('team-b'));
    const theirCampaign = await newCampaign(b.admin);
    const theirLead = await newLead(b.admin, theirCampaign.id);
    const theirDraft = (await expectStatus(await b.admin.request('POST', '/api/drafts', { campaignId: theirCampaign.id, channel: 'EMAIL', subject: 'Hi', body: 'Hello' }), 201)).draft;
    const before = await counts();
    for (const [field, id, what] of [['leadId', theirLead.id, 'lead'], ['draftId', theirDraft.id, 'draft'], ['campaignId', theirCampaign.id, 'campaign']]) {
      const res = await expectStatus(await operator.request('POST', '/api/tasks', { title: 'Smuggled', [field]: id }), 400);
      expect(res.error.message).toBe(`${field} names no ${what} of this workspace.`);
      expect((await operator.request('PATCH', `/api/tasks/${task.id}`, { [field]: id })).status).toBe(400);
    }
    const noRun = `mission-${crypto.randomUUID()}-manual`;
    expect((await expectStatus(await operator.request('POST', '/api/tasks', { title: 'No run', workflowId: noRun }), 400)).error.message).toMatch(/^workflowId names no run/);
    expect((await expectStatus(await operator.request('POST', '/api/tasks', { title: 'No run', taskId: crypto.randomUUID() }), 400)).error.message).toMatch(/^taskId /);
    expect(await counts()).toEqual(before);
    expect((await itemOf(task.id)).task).toMatchObject({ leadId: lead.id, campaignId: campaign.id, draftId: null });
  });

  it('is made once for the same sourceKey', async () => {
    const body = { title: unique('From a pattern'), sourceKey: `pattern:${unique('k')}` };
    const first = await expectStatus(await env.as.OPERATOR.request('POST', '/api/tasks', body), 201);
    expect(first.created).toBe(true);
    const again = await expectStatus(await env.as.OPERATOR.request('POST', '/api/tasks', body), 200);
    expect(again).toMatchObject({ created: false, task: { id: first.task.id } });
    expect((await itemOf(first.task.id)).timeline.map((e: { kind: string }) => e.kind)).toEqual(['created']);
    expect((await auditOf(env, first.task.id)).map((a) => a.action)).toEqual(['work_item.created']);
  });

  it('writes nothing for a patch that changes nothing, and refuses an empty patch', async () => {
    const task = await create(env.as.OPERATOR, { priority: 'high' });
    await expectStatus(await env.as.OPERATOR.request('PATCH', `/api/tasks/${task.id}`, { title: task.title, priority: 'high', column: 'BACKLOG' }), 200);
    expect((await itemOf(task.id)).timeline).toHaveLength(1);
    expect((await env.as.OPERATOR.request('PATCH', `/api/tasks/${task.id}`, {})).status).toBe(400);
    await expectStatus(await env.as.OPERATOR.request('PATCH', `/api/tasks/${task.id}`, { priority: 'urgent' }), 200);
    const { timeline } = await itemOf(task.id);
    expect(timeline.at(-1)).toMatchObject({ kind: 'updated', details: { changes: { priority: { from: 'high', to: 'urgent' } } } });
    expect(timeline).toHaveLength(2);
  });

  it('has a timeline the database keeps append-only', async () => {
    const task = await create(env.as.OPERATOR);
    await expect(env.t.db.owner`update task_events set note = 'rewritten' where work_item_id = ${task.id}`).rejects.toThrow(/append-only/);
    await expect(env.t.db.owner`delete from task_events where work_item_id = ${task.id}`).rejects.toThrow(/append-only/);
    expect((await itemOf(task.id)).timeline).toEqual([expect.objectContaining({ kind: 'created', note: null })]);
  });

  it('takes notes on its timeline, never an empty one', async () => {
    const task = await create(env.as.OPERATOR);
    const { event } = await expectStatus(await env.as.OPERATOR.request('POST', `/api/tasks/${task.id}/notes`, { note: 'Spoke to Ada' }), 201);
    expect(event).toMatchObject({ kind: 'note', note: 'Spoke to Ada', actor: env.names.OPERATOR });
    expect((await env.as.OPERATOR.request('POST', `/api/tasks/${task.id}/notes`, { note: '' })).status).toBe(400);
    expect((await itemOf(task.id)).timeline.map((e: { kind: string; note: string | null }) => [e.kind, e.note])).toEqual([['created', null], ['note', 'Spoke to Ada']]);
    expect((await auditOf(env, task.id)).map((a) => a.action)).toEqual(['work_item.created', 'work_item.noted']);
  });

  it('has no replay until it names a run task', async () => {
    const task = await create(env.as.OPERATOR);
    const res = await expectStatus(await env.as.VIEWER.request('GET', `/api/tasks/${task.id}/replay`), 409);
    expect(res.error.message).toMatch(/names no run task to replay; link one with workflowId and taskId/);
  });

  it('is, to another workspace, an item that does not exist', async () => {
    const task = await create(env.as.OPERATOR);
    const b = await secondWorkspace(env.t, unique('team-b'));
    expect((await b.admin.request('GET', `/api/tasks/${task.id}`)).status).toBe(404);
    expect((await b.admin.request('PATCH', `/api/tasks/${task.id}`, { column: 'DOING' })).status).toBe(404);
    expect((await b.admin.request('POST', `/api/tasks/${task.id}/notes`, { note: 'Hi' })).status).toBe(404);
    const theirs = await expectStatus(await b.admin.request('GET', '/api/tasks'), 200);
    expect(theirs.tasks.map((t: { id: string }) => t.id)).not.toContain(task.id);
    expect((await itemOf(task.id)).timeline).toHaveLength(1);
  });
});

describe('the board', () => {
  it('shows BACKLOG with the draft missions and each other column beside its runs', async () => {
    const q = unique('Boardwork');
    const [backlog, doing, waiting, done] = [await create(env.as.OPERATOR, { title: `${q} backlog` }), await create(env.as.OPERATOR, { title: `${q} doing`, column: 'DOING' }),
      await create(env.as.OPERATOR, { title: `${q} waiting`, column: 'NEEDS_APPROVAL' }), await create(env.as.ADMIN, { title: `${q} done`, column: 'DONE' })];
    const board = await loadBoard(env.t.db.sql, env.t.deps.temporal, { q }, { id: env.t.ws, isDefault: true });
    const titles = (items: { title: string }[]) => items.map((i) => i.title);
    expect(board.backlog).toEqual({ items: [expect.objectContaining({ id: backlog.id })], total: 1 });
    const col = (s: string) => board.columns.find((c) => c.status === s)!;
    expect(titles(col('Running').items)).toEqual([doing.title]);
    expect(titles(col('NeedsApproval').items)).toEqual([waiting.title]);
    expect(titles(col('Completed').items)).toEqual([done.title]);
    for (const s of ['Paused', 'Failed', 'Cancelled']) expect(col(s).items).toEqual([]);
    expect(col('Running').count).toBe(1);

    const b = await secondWorkspace(env.t, unique('team-b'));
    const theirs = await loadBoard(env.t.db.sql, env.t.deps.temporal, { q }, { id: b.id, isDefault: false });
    expect([theirs.backlog.total, ...theirs.columns.map((c) => c.items.length)].every((n) => n === 0)).toBe(true);
  });
});

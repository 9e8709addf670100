// The event stream (issue 9 point 1): one event per domain change, written in
// the change's transaction; paged with a cursor and filters; followed live over
// server-sent events that resume from Last-Event-ID without gaps or repeats;
// and seen whole by every process (replica) that follows the table; and each
// reader sees only its own workspace's events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type RunningWeb } from '../../api/server';
import { appendAudit, SYSTEM_ACTOR } from '../../core/audit/audit-log';
import { appendEvent, latestEventId, listEvents, type MissionEvent } from '../../core/events/events';
import { EventStream } from '../../core/events/stream';
import { setDryRun } from '../../core/safety/settings';
import { createSql } from '../../db/sql';
import { apiClient, json, signIn, userWithRole } from '../helpers/app';
import { ADMIN_PASSWORD, ADMIN_TOKEN, testLogger } from '../helpers/env';
import { execute, makeMission, makePattern, missionEnv, result, waitFor, type MissionEnv } from '../helpers/missions';
import { openSse, type SseClient, type SseFrame } from '../helpers/sse';

let env: MissionEnv;
let web: RunningWeb;
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

beforeAll(async () => {
  env = await missionEnv();
  web = await startWebServer(env.t.deps, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await web?.close();
  await env?.close();
});

const page = async (query: string) => {
  const res = await env.admin.request('GET', `/api/events?${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await json(res)) as { events: MissionEvent[]; next: string };
};
const latest = () => latestEventId(env.t.db.sql);
const ids = (events: { id: string }[]) => events.map((e) => Number(e.id));
const parsed = (f: SseFrame) => JSON.parse(f.data) as MissionEvent;

describe('events', () => {
  it('are written with the change they describe: a rolled-back change leaves neither its audit entry nor its event', async () => {
    const before = await latest();
    const res = await env.admin.request('POST', '/api/containers', { name: 'events-box', category: 'automation' });
    expect(res.status).toBe(201);
    const { id } = (await json(res)).container;
    const { events } = await page(`after=${before}&type=container.`);
    expect(events).toEqual([
      expect.objectContaining({ type: 'container.created', entityType: 'container', entityId: id, actor: 'admin', timestamp: expect.any(String) }),
    ]);

    await expect(
      env.t.db.sql.begin(async (tx) => {
        await appendAudit(tx, { actor: SYSTEM_ACTOR, action: 'container.updated', entityType: 'container', entityId: id, details: { rolled: 'back' } });
        throw new Error('the change fails after its audit entry');
      }),
    ).rejects.toThrow('the change fails');
    expect((await page(`after=${before}&entityId=${id}`)).events.map((e) => e.type)).toEqual(['container.created']);
    const [audited] = await env.t.db.sql`select count(*)::int as n from audit_log where entity_id = ${id}`;
    expect(audited!.n).toBe(1);
  });

  it('leave access out (sign-ins, users, tokens stay in the audit log only)', async () => {
    const before = await latest();
    await appendAudit(env.t.db.sql, { actor: SYSTEM_ACTOR, action: 'auth.login', entityType: 'user', entityId: 'someone' });
    await appendAudit(env.t.db.sql, { actor: SYSTEM_ACTOR, action: 'token.created', entityType: 'token', entityId: 'x' });
    expect((await page(`after=${before}`)).events).toEqual([]);
  });

  it('page oldest first after a cursor, with filters, and refuse a malformed query with 400', async () => {
    const before = await latest();
    for (const n of [1, 2, 3]) {
      await appendEvent(env.t.db.sql, { type: `test.paging.${n}`, entityType: 'test', entityId: `p${n}`, actor: 'tester', payload: { n } });
    }
    const first = await page(`after=${before}&limit=2&type=test.paging.`);
    expect(first.events.map((e) => e.type)).toEqual(['test.paging.1', 'test.paging.2']);
    const second = await page(`after=${first.next}&limit=2&type=test.paging.`);
    expect(second.events.map((e) => e.type)).toEqual(['test.paging.3']);
    const empty = await page(`after=${second.next}&type=test.paging.`);
    expect(empty).toEqual({ events: [], next: second.next });
    expect((await page(`after=${before}&entityType=test&entityId=p2`)).events.map((e) => e.payload)).toEqual([{ n: 2 }]);

    for (const bad of ['after=abc', 'after=-1', 'missionId=not-a-uuid', 'since=yesterday', 'limit=0', 'limit=501', 'type=%00']) {
      const res = await env.admin.request('GET', `/api/events?${bad}`);
      expect(res.status, bad).toBe(400);
      expect((await json(res)).error.message, bad).toBeTruthy();
    }
    expect((await env.viewer.request('GET', '/api/events')).status).toBe(200);
    expect((await env.t.app.request('/api/events')).status).toBe(401);
  });

  it('get ids in commit order without gaps, so a reader polling during concurrent writes misses none and repeats none', async () => {
    const before = await latest();
    const seen: number[] = [];
    let writing = true;
    const reader = (async () => {
      let cursor = before;
      while (writing || seen.length < 40) {
        const events = await listEvents(env.t.db.sql, { after: cursor, type: 'test.concurrent' }, 500);
        for (const e of events) seen.push(Number(e.id));
        cursor = events.length ? Number(events.at(-1)!.id) : cursor;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    // 40 transactions at once, each holding its event a random while before it commits.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        env.t.db.sql.begin(async (tx) => {
          await new Promise((r) => setTimeout(r, Math.random() * 10));
          await appendEvent(tx, { type: 'test.concurrent', entityType: 'test', entityId: String(i), actor: 'tester' });
          await new Promise((r) => setTimeout(r, Math.random() * 10));
        }),
      ),
    );
    writing = false;
    await reader;
    const stored = ids(await listEvents(env.t.db.sql, { after: before, type: 'test.concurrent' }, 500));
    expect(stored).toHaveLength(40);
    expect(seen).toEqual(stored); // none skipped, none twice, in order
    // And the ids themselves have no gaps, whatever else was written meanwhile.
    const [row] = await env.t.db.sql<{ n: number; span: number }[]>`select count(*)::int as n, (max(id) - min(id) + 1)::int as span from events where id > ${before}`;
    expect(row!.n).toBe(row!.span);
  });

  it('stream live over SSE, and resume from Last-Event-ID with exactly what was missed', async () => {
    const url = `${web.url}/api/events/stream?type=test.live`;
    const first = await openSse(url, auth);
    expect(first.status).toBe(200);
    await first.waitFor((f) => f.event === 'ready');
    await appendEvent(env.t.db.sql, { type: 'test.live', entityType: 'test', entityId: 'a', actor: 'tester' });
    const [a] = await first.waitFor((f) => f.event === 'test.live');
    expect(parsed(a!)).toMatchObject({ type: 'test.live', entityId: 'a' });
    first.close();

    // Missed while away: two events (and one that the filter leaves out).
    await appendEvent(env.t.db.sql, { type: 'test.live', entityType: 'test', entityId: 'b', actor: 'tester' });
    await appendEvent(env.t.db.sql, { type: 'test.other', entityType: 'test', entityId: 'x', actor: 'tester' });
    await appendEvent(env.t.db.sql, { type: 'test.live', entityType: 'test', entityId: 'c', actor: 'tester' });
    const again = await openSse(url, { ...auth, 'Last-Event-ID': a!.id! });
    const missed = await again.waitFor((f) => f.event === 'test.live', 2);
    expect(missed.map((f) => parsed(f).entityId)).toEqual(['b', 'c']);
    await appendEvent(env.t.db.sql, { type: 'test.live', entityType: 'test', entityId: 'd', actor: 'tester' });
    const all = await again.waitFor((f) => f.event === 'test.live', 3);
    expect(all.map((f) => parsed(f).entityId)).toEqual(['b', 'c', 'd']);
    expect(new Set(all.map((f) => f.id)).size).toBe(3);
    again.close();

    const bad = await openSse(url, { ...auth, 'Last-Event-ID': 'yesterday' });
    expect(bad.status).toBe(400);
    expect((await openSse(`${web.url}/api/events/stream`)).status).toBe(401);
  });

  it('catch a subscriber up on a long absence page by page, every event once, in order', async () => {
    const before = await latest();
    await env.t.db.sql`
      insert into events (type, entity_type, entity_id, actor)
      select 'test.backlog', 'test', n::text, 'tester' from generate_series(1, 1234) n`;
    const stream = new EventStream(env.t.db.sql, testLogger());
    try {
      const sub = await stream.subscribe({ type: 'test.backlog' }, before);
      const got: string[] = [];
      while (got.length < 1234) got.push((await sub.next())!.entityId!);
      expect(got).toEqual(Array.from({ length: 1234 }, (_, i) => String(i + 1)));
    } finally {
      await stream.stop();
    }
  });

  it('reach every replica: two processes following one table see the same events in the same order', async () => {
    const other = createSql(env.t.db.url.replace(/^(postgres(ql)?:\/\/)/, '$1'), { appRole: false });
    const streams = [new EventStream(env.t.db.sql, testLogger()), new EventStream(other, testLogger())];
    try {
      const subs = await Promise.all(streams.map((s) => s.subscribe({ type: 'test.replica' })));
      await Promise.all(Array.from({ length: 25 }, (_, i) => appendEvent(env.t.db.sql, { type: 'test.replica', entityType: 'test', entityId: String(i), actor: 'tester' })));
      const received = await Promise.all(
        subs.map(async (sub) => {
          const got: string[] = [];
          while (got.length < 25) got.push((await sub.next())!.id);
          return got;
        }),
      );
      expect(received[0]).toHaveLength(25);
      expect(received[1]).toEqual(received[0]);
    } finally {
      await Promise.all(streams.map((s) => s.stop()));
      await other.end({ timeout: 5 });
    }
  });

  it("tell a run's story once each: started, each task, its approval and decision, and completed", async () => {
    const before = await latest();
    const draft = await makePattern(env.admin, env.containerId, 'async () => ({ draft: "hi" })');
    const send = await makePattern(env.admin, env.containerId, 'async (i, ctx) => ({ sent: ctx.previous.draft.draft })');
    const missionId = await makeMission(env.operator, {
      containerId: env.containerId,
      tasks: [
        { name: 'draft', order: 0, patternId: draft, requiresApproval: true },
        { name: 'send', order: 1, patternId: send },
      ],
    });
    const workflowId = await execute(env.operator, missionId);
    const waiting = await waitFor(env.t, workflowId, (p) => p.status === 'NeedsApproval');
    const decided = await env.admin.request('POST', `/api/runs/${workflowId}/decisions`, { taskId: waiting.tasks[0]!.id, action: 'approve_with_notes', notes: 'fine' });
    expect(decided.status).toBe(200);
    expect((await result(env.t, workflowId)).status).toBe('Completed');

    const events = (await page(`after=${before}&runId=${encodeURIComponent(workflowId)}`)).events;
    expect(events.map((e) => [e.type, e.taskId ? waiting.tasks.find((t) => t.id === e.taskId)!.name : null])).toEqual([
      ['run.started', null],
      ['task.started', 'draft'],
      ['approval.requested', 'draft'],
      ['approval.approved_with_notes', 'draft'],
      ['task.started', 'send'],
      ['task.completed', 'send'],
      ['run.completed', null],
    ]);
    expect(events.every((e) => e.missionId === missionId && e.runId === workflowId)).toBe(true);
    expect(events[3]).toMatchObject({ actor: 'admin', entityType: 'run', payload: expect.objectContaining({ notes: 'fine' }) });
    expect(ids(events)).toEqual([...ids(events)].sort((x, y) => x - y));
  });
});

describe('events per workspace', () => {
  it('reach only their own workspace: live, resumed from Last-Event-ID 0, paged from after=0, and on the pages’ stream', async () => {
    const a = env.t.ws;
    // A second workspace with one member and a token acting there, made directly: no route makes one yet.
    const b = (await env.t.db.owner<{ id: string }[]>`insert into workspaces (name) values ('Team B') returning id`)[0]!.id;
    const member = await userWithRole(env.t, 'VIEWER', b);
    const authB = { Authorization: `Bearer ${member.token}` };
    const browser = await signIn(env.t, 'admin', ADMIN_PASSWORD);

    const streamA = await openSse(`${web.url}/api/events/stream`, auth);
    const streamB = await openSse(`${web.url}/api/events/stream`, authB);
    const pageA = await openSse(`${web.url}/live/events`, { Cookie: browser.cookie });
    for (const s of [streamA, streamB, pageA]) await s.waitFor((f) => f.event === 'ready');

    // Changes in both, interleaved: audited ones, plain events and a safety toggle in B.
    const sql = env.t.db.sql;
    const note = (entityId: string, workspaceId?: string) =>
      appendAudit(sql, { actor: SYSTEM_ACTOR, action: 'test.tenant', entityType: 'test', entityId, ...(workspaceId ? { workspaceId } : {}) });
    await note('a1');
    await note('b1', b);
    await setDryRun(sql, false, SYSTEM_ACTOR, b);
    await appendEvent(sql, { type: 'test.tenant', entityType: 'test', entityId: 'a2', actor: 'tester' });
    await appendEvent(sql, { type: 'test.tenant', entityType: 'test', entityId: 'b2', actor: 'tester', workspaceId: b });
    // The last of each: once a reader has it, it has been offered everything before.
    await note('b-last', b);
    await note('a-last');

    const isLast = (id: string) => (f: SseFrame) => f.event !== 'ready' && parsed(f).entityId === id;
    const mine = ['b1', 'safety', 'b2', 'b-last'];
    const heard = async (s: SseClient, last: string) => {
      await s.waitFor(isLast(last));
      return s.frames.filter((f) => f.event !== 'ready').map(parsed);
    };
    const liveA = [...(await heard(streamA, 'a-last')), ...(await heard(pageA, 'a-last'))];
    const liveB = await heard(streamB, 'b-last');
    for (const s of [streamA, streamB, pageA]) s.close();
    expect(liveA.filter((e) => e.workspaceId !== a)).toEqual([]);
    expect(liveA.filter((e) => e.type === 'test.tenant').map((e) => e.entityId)).toEqual(['a1', 'a2', 'a-last', 'a1', 'a2', 'a-last']);
    expect(liveB.map((e) => [e.entityId, e.workspaceId])).toEqual(mine.map((id) => [id, b]));
    expect(liveB[1]).toMatchObject({ type: 'safety.dry_run.toggled', payload: { from: true, to: false } });

    // From the beginning of the table: B has only its own; A never sees B's.
    const resumedB = await openSse(`${web.url}/api/events/stream`, { ...authB, 'Last-Event-ID': '0' });
    const resumedA = await openSse(`${web.url}/api/events/stream`, { ...auth, 'Last-Event-ID': '0' });
    const [fromB, fromA] = [await heard(resumedB, 'b-last'), await heard(resumedA, 'a-last')];
    resumedA.close();
    resumedB.close();
    expect(fromB.map((e) => [e.entityId, e.workspaceId])).toEqual(mine.map((id) => [id, b]));
    expect(fromA.length).toBeGreaterThan(4);
    expect(fromA.filter((e) => e.workspaceId !== a)).toEqual([]);

    const inB = apiClient(env.t, member.token);
    const pagedB = (await json(await inB.request('GET', '/api/events?after=0'))).events as MissionEvent[];
    expect(pagedB.map((e) => [e.entityId, e.workspaceId])).toEqual(mine.map((id) => [id, b]));
    const pagedA: MissionEvent[] = [];
    for (let next = '0', more = true; more; ) {
      const got = await page(`after=${next}&limit=500`);
      pagedA.push(...got.events);
      more = got.next !== next;
      next = got.next;
    }
    expect(pagedA.map((e) => e.entityId)).toEqual(expect.arrayContaining(['a1', 'a2', 'a-last']));
    expect(pagedA.filter((e) => e.workspaceId !== a)).toEqual([]);
    // A filter naming B's records from A finds nothing, as for records that do not exist.
    expect((await page('after=0&entityId=b1')).events).toEqual([]);
  });
});

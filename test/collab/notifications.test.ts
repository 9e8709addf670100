// Notifications from the event stream (the notifier, core/collab/notifier.ts):
// a mention notifies the member mentioned, once, even when the stream is read
// again or by two notifiers at once, and an edit that adds a mention tells only
// the one added; an approval notifies the admins, a failed run the member who
// started it, an agent gone offline the operators; a muted kind notifies no
// one; an email asked for goes through the outbound adapters once (dry-run
// records it); the API reads, marks read and keeps each member's own.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent } from '../../core/events/events';
import { NOTIFIER_CURSOR, notifyOnce, sendPendingEmails } from '../../core/collab/notifier';
import { apiClient, json, userWithRole, type ApiClient, type TestApp } from '../helpers/app';
import { type MissionEnv, execute, makeMission, makePattern, missionEnv, waitFor } from '../helpers/missions';

let env: MissionEnv;
let t: TestApp;
let quick: string;
const member = async (role: 'ADMIN' | 'OPERATOR' | 'VIEWER') => {
  const u = await userWithRole(t, role);
  return { ...u, api: apiClient(t, u.token) };
};
let ada: Awaited<ReturnType<typeof member>>;
let bob: Awaited<ReturnType<typeof member>>;

beforeAll(async () => {
  env = await missionEnv();
  t = env.t;
  quick = await makePattern(env.admin, env.containerId, 'async () => ({ quick: true })');
  [ada, bob] = [await member('OPERATOR'), await member('OPERATOR')];
});
afterAll(async () => env?.close());

/** Reads the stream to its end, as the web server's notifier does. */
const drain = async () => {
  while ((await notifyOnce(t.db.sql)) > 0);
};
const inbox = async (api: ApiClient) => json(await api.request('GET', '/api/notifications?limit=200'));
const rowsFor = (userId: string, kind: string) => t.db.owner<{ id: string; sourceKey: string; emailState: string | null }[]>`
  select id, source_key as "sourceKey", email_state as "emailState" from notifications where user_id = ${userId} and kind = ${kind}`;

describe('the notifier', () => {
  it('tells a member they were mentioned, once, however often and by however many notifiers the stream is read', async () => {
    const missionId = await makeMission(env.admin, { containerId: env.containerId, tasks: [{ name: 'only', order: 0, patternId: quick }] });
    const comment = (await json(await ada.api.request('POST', '/api/comments', { missionId, content: `@${bob.username} have a look, and @${ada.username} too` }))).comment;
    await drain();
    const [mine] = (await inbox(bob.api)).notifications;
    expect(mine).toMatchObject({ kind: 'mention', title: `${ada.username} mentioned you`, href: `/missions/${missionId}`, readAt: null });
    expect(await rowsFor(ada.id, 'mention')).toEqual([]); // not for mentioning yourself

    // The stream read again from the start, by two notifiers at once: nothing new.
    await t.db.owner`update settings set value = '{"after": 0}' where key = ${NOTIFIER_CURSOR}`;
    await Promise.all([drain(), drain()]);
    expect(await rowsFor(bob.id, 'mention')).toHaveLength(1);

    // An edit that adds a mention tells only the one added.
    const cat = await member('VIEWER');
    expect((await ada.api.request('PATCH', `/api/comments/${comment.id}`, { content: `@${bob.username} and @${cat.username}` })).status).toBe(200);
    await drain();
    expect([(await rowsFor(bob.id, 'mention')).length, (await rowsFor(cat.id, 'mention')).length]).toEqual([1, 1]);
  });

  it('tells the admins of an approval, and the member who started a run that it failed', async () => {
    const gated = await makeMission(env.admin, { containerId: env.containerId, tasks: [{ name: 'review me', order: 0, patternId: quick, requiresApproval: true }] });
    const waiting = await execute(ada.api, gated);
    await waitFor(t, waiting, (p) => p.status === 'NeedsApproval');
    const failing = await makePattern(env.admin, env.containerId, 'async () => { throw new Error("no list today") }', { failureAction: 'abort' });
    const failed = await execute(ada.api, await makeMission(env.admin, { containerId: env.containerId, tasks: [{ name: 'boom', order: 0, patternId: failing }] }));
    await waitFor(t, failed, (p) => p.status === 'Failed');
    await drain();
    const admins = (await inbox(env.admin)).notifications;
    expect(admins).toContainEqual(expect.objectContaining({ kind: 'approval', title: '“review me” waits for a decision', href: `/runs/${encodeURIComponent(waiting)}` }));
    expect((await inbox(ada.api)).notifications).toContainEqual(expect.objectContaining({ kind: 'run_failed', href: `/runs/${encodeURIComponent(failed)}` }));
    expect((await inbox(ada.api)).notifications.filter((n: { kind: string }) => n.kind === 'approval')).toEqual([]); // an operator decides nothing
    expect((await inbox(bob.api)).notifications.filter((n: { kind: string }) => n.kind === 'run_failed')).toEqual([]); // not bob's run
  });

  it('tells the operators an agent went offline, except those who muted it; and emails those who asked, once', async () => {
    const prefs = (body: unknown) => bob.api.request('PUT', '/api/notifications/preferences', body);
    expect((await prefs({ emailKinds: ['agent_offline'] })).status).toBe(400); // email needs an address
    expect((await prefs({ emailKinds: ['agent_offline'], email: 'bob@example.com' })).status).toBe(200);
    expect((await ada.api.request('PUT', '/api/notifications/preferences', { muted: ['agent_offline'] })).status).toBe(200);
    await appendEvent(t.db.sql, {
      type: 'agent.status_changed', entityType: 'agent', entityId: randomUUID(), actor: 'system', workspaceId: t.ws,
      payload: { from: 'IDLE', to: 'OFFLINE', name: 'crawler-7' },
    });
    await drain();
    expect(await rowsFor(ada.id, 'agent_offline')).toEqual([]);
    const [offline] = await rowsFor(bob.id, 'agent_offline');
    expect(offline).toMatchObject({ emailState: 'pending' });

    // Handed to the outbound adapters once (dry-run is on: recorded as "would send"), however often it is asked.
    await sendPendingEmails(t.deps);
    await sendPendingEmails(t.deps);
    const sends = await t.db.owner`select status, payload from outbound_messages where idempotency_key = ${`notification:${offline!.id}`}`;
    expect(sends).toEqual([{ status: 'dry_run', payload: expect.objectContaining({ to: 'bob@example.com', subject: 'Agent “crawler-7” went offline' }) }]);
    expect((await rowsFor(bob.id, 'agent_offline'))[0]!.emailState).toBe('done');
  });
});

describe('/api/notifications', () => {
  it('are each member\'s own: read, marked read one by one or all at once', async () => {
    const mine = await inbox(bob.api);
    expect(mine.unread).toBeGreaterThan(0);
    const first = mine.notifications[0];
    expect((await ada.api.request('POST', `/api/notifications/${first.id}/read`, {})).status).toBe(404);
    const read = await json(await bob.api.request('POST', `/api/notifications/${first.id}/read`, {}));
    expect(read.notification.readAt).toEqual(expect.any(String));
    expect((await inbox(bob.api)).unread).toBe(mine.unread - 1);
    expect(await json(await bob.api.request('POST', '/api/notifications/read-all', {}))).toEqual({ marked: mine.unread - 1 });
    expect((await inbox(bob.api)).unread).toBe(0);
    expect((await json(await bob.api.request('GET', '/api/notifications?unread=true'))).notifications).toEqual([]);
  });
});

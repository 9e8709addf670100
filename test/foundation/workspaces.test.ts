// Workspaces themselves (issue 10 point 1 and 6): anyone signed in makes one and
// is its owner and admin; its admins rename and archive it, add existing
// accounts with a role and remove them, and keep seed 003's settings, validated
// and audited in the workspace's own chain; a session switches between its
// user's workspaces, never into another's; a token stays where it was made.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../core/access/tokens';
import { listAudit } from '../../core/audit/audit-log';
import { executeMission } from '../../core/runs/start';
import { ADMIN_TOKEN } from '../helpers/env';
import { apiClient, createTestApp, json, signIn, userWithRole, type ApiClient, type TestApp } from '../helpers/app';

let t: TestApp;
let viewer: Awaited<ReturnType<typeof userWithRole>>;
let other: Awaited<ReturnType<typeof userWithRole>>;
/** The viewer's new workspace, and a token of theirs acting in it (they are its admin). */
let mine: { id: string; admin: ApiClient };

beforeAll(async () => {
  t = await createTestApp();
  viewer = await userWithRole(t, 'VIEWER');
  other = await userWithRole(t, 'OPERATOR');
  const res = await apiClient(t, viewer.token).request('POST', '/api/workspaces', { name: '  Growth team  ' });
  expect(res.status, await res.clone().text()).toBe(201);
  const { workspace } = await json(res);
  const { token } = await createApiToken(t.db.sql, { userId: viewer.id, name: 'there' }, { id: viewer.id, name: viewer.username }, { id: workspace.id });
  mine = { id: workspace.id, admin: apiClient(t, token) };
});
afterAll(async () => t?.close());

const entries = async (ws: string, action: string) => (await listAudit(t.db.sql, { action, limit: 20 }, { id: ws, isDefault: false } as never));

describe('a new workspace', () => {
  it('is made by any member, who owns it and is its admin; their token stays in the workspace it was made in', async () => {
    const { workspace } = await json(await mine.admin.request('GET', '/api/workspace'));
    expect(workspace).toMatchObject({ id: mine.id, name: 'Growth team', isDefault: false, ownerUsername: viewer.username, role: 'ADMIN' });
    const listed = await json(await apiClient(t, viewer.token).request('GET', '/api/workspaces'));
    expect(listed.workspaces.map((w: { id: string; role: string }) => [w.id, w.role])).toEqual([[t.ws, 'VIEWER'], [mine.id, 'ADMIN']]);
    expect(listed.current).toBe(t.ws);
    expect((await entries(mine.id, 'workspace.created')).map((e) => e.actor)).toEqual([viewer.username]);
    expect(await entries(t.ws, 'workspace.created')).toEqual([]);
    // Still a viewer where the first token acts.
    expect((await apiClient(t, viewer.token).request('PATCH', '/api/workspace', { name: 'Mine now' })).status).toBe(403);
  });

  it('refuses a name that is empty or too long, making nothing', async () => {
    for (const name of ['', '   ', 'x'.repeat(101)]) {
      const res = await apiClient(t, viewer.token).request('POST', '/api/workspaces', { name });
      expect(res.status).toBe(400);
      expect((await json(res)).error.message).toMatch(/workspace/i);
    }
    const listed = await json(await apiClient(t, viewer.token).request('GET', '/api/workspaces'));
    expect(listed.workspaces).toHaveLength(2);
  });

  it('is renamed by its admin, audited from and to', async () => {
    const res = await mine.admin.request('PATCH', '/api/workspace', { name: 'Growth' });
    expect((await json(res)).workspace.name).toBe('Growth');
    expect((await entries(mine.id, 'workspace.renamed'))[0]!.details).toEqual({ from: 'Growth team', to: 'Growth' });
  });
});

describe("a workspace's settings", () => {
  it('hold a validated default_llm_config and time zone, audited with what changed', async () => {
    expect((await json(await mine.admin.request('GET', '/api/workspace/settings'))).settings).toEqual({ default_llm_config: null, timezone: 'UTC' });
    const llm = { provider: 'OpenAI', model: 'gpt-4', temperature: 0.2 };
    const res = await mine.admin.request('PATCH', '/api/workspace/settings', { default_llm_config: llm, timezone: 'America/Toronto' });
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await json(res)).settings).toEqual({ default_llm_config: llm, timezone: 'America/Toronto' });
    const [entry] = await entries(mine.id, 'workspace.settings_updated');
    expect(entry!.details).toEqual({ changed: { default_llm_config: { from: null, to: llm }, timezone: { from: 'UTC', to: 'America/Toronto' } } });
    // The same again changes nothing and audits nothing.
    await mine.admin.request('PATCH', '/api/workspace/settings', { timezone: 'America/Toronto' });
    expect(await entries(mine.id, 'workspace.settings_updated')).toHaveLength(1);
  });

  it('refuses what the schema does not allow with a 400 naming it, keeping what was there', async () => {
    const bad: [unknown, RegExp][] = [
      [{ timezone: 'Mars/Olympus' }, /time zone/], [{ timezone: 'america/toronto' }, /did you mean America\/Toronto/],
      [{ default_llm_config: { provider: 'OpenAI', model: 'gpt-4', temperature: 3 } }, /temperature/],
      [{ default_llm_config: { provider: '', model: 'gpt-4' } }, /provider/i],
      [{ default_llm_config: { provider: 'x', model: 'y', apiKey: 'secret' } }, /apiKey|unrecognized/i],
      [{ colour: 'blue' }, /colour|unrecognized/i],
      [[1, 2], /object|record|expected/i],
    ];
    for (const [body, message] of bad) {
      const res = await mine.admin.request('PATCH', '/api/workspace/settings', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(await json(res))).toMatch(message);
    }
    expect((await json(await mine.admin.request('GET', '/api/workspace/settings'))).settings.timezone).toBe('America/Toronto');
  });

  it('are read by every member and changed by admins only', async () => {
    expect((await apiClient(t, other.token).request('GET', '/api/workspace/settings')).status).toBe(200);
    expect((await apiClient(t, other.token).request('PATCH', '/api/workspace/settings', { timezone: 'UTC' })).status).toBe(403);
  });
});

describe("a workspace's members", () => {
  it('are existing accounts an admin adds with a role there, and removes', async () => {
    const add = await mine.admin.request('POST', '/api/workspace/members', { username: other.username.toUpperCase(), role: 'CLOSER' });
    expect(add.status, await add.clone().text()).toBe(201);
    expect((await json(add)).user).toMatchObject({ username: other.username, role: 'CLOSER' });
    expect((await mine.admin.request('POST', '/api/workspace/members', { username: other.username, role: 'VIEWER' })).status).toBe(409);
    const unknown = await mine.admin.request('POST', '/api/workspace/members', { username: 'nobody-by-that-name', role: 'VIEWER' });
    expect(unknown.status).toBe(404);
    // Their role there is theirs there only: an operator in the default workspace, a closer here.
    const { token } = await createApiToken(t.db.sql, { userId: other.id, name: 'growth' }, { id: viewer.id, name: viewer.username }, { id: mine.id });
    const there = apiClient(t, token);
    expect((await json(await there.request('GET', '/api/me'))).workspace).toMatchObject({ id: mine.id, role: 'CLOSER' });
    expect((await json(await apiClient(t, other.token).request('GET', '/api/me'))).workspace).toMatchObject({ id: t.ws, role: 'OPERATOR' });

    expect((await mine.admin.request('DELETE', `/api/workspace/members/${other.id}`)).status).toBe(200);
    const after = await there.request('GET', '/api/me');
    expect(after.status).toBe(401); // its token there was revoked with the membership
    expect((await apiClient(t, other.token).request('GET', '/api/me')).status).toBe(200);
    expect((await entries(mine.id, 'member.added')).map((e) => e.details)).toEqual([{ username: other.username, role: 'CLOSER' }]);
    expect((await entries(mine.id, 'member.removed')).map((e) => e.details)).toEqual([{ username: other.username, role: 'CLOSER' }]);
  });

  it('lose an event stream they had open once removed', async () => {
    const member = await userWithRole(t, 'VIEWER');
    expect((await mine.admin.request('POST', '/api/workspace/members', { username: member.username, role: 'VIEWER' })).status).toBe(201);
    const { token } = await createApiToken(t.db.sql, { userId: member.id, name: 'stream' }, { id: viewer.id, name: viewer.username }, { id: mine.id });
    const res = await t.app.request('/api/events/stream', { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('event: ready');
    expect((await mine.admin.request('DELETE', `/api/workspace/members/${member.id}`)).status).toBe(200);
    // The stream ends by itself at its next check (what happened before it, their removal included, may still reach it).
    while (!(await reader.read()).done);
    expect((await t.app.request('/api/events/stream', { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  it('always keep an active admin', async () => {
    const res = await mine.admin.request('DELETE', `/api/workspace/members/${viewer.id}`);
    expect(res.status).toBe(409);
    expect((await json(res)).error.message).toMatch(/last active admin/);
  });

  it('are not found by id from another workspace', async () => {
    const b = await userWithRole(t, 'VIEWER');
    expect((await mine.admin.request('DELETE', `/api/workspace/members/${b.id}`)).status).toBe(404);
    expect((await apiClient(t, b.token).request('GET', '/api/me')).status).toBe(200);
  });
});

describe('switching workspaces in the UI', () => {
  it('moves the session into one of its user\'s workspaces only, showing it in the header', async () => {
    const browser = await signIn(t, viewer.username, viewer.password);
    expect(await (await browser.get('/settings')).text()).toContain('(the default workspace)');
    const stranger = (await t.db.owner<{ id: string }[]>`insert into workspaces (name) values (${`Hidden ${randomUUID().slice(0, 6)}`}) returning id`)[0]!.id;
    for (const id of [stranger, randomUUID()]) {
      const res = await browser.post('/workspaces/switch', { workspaceId: id });
      expect(res.status).toBe(404);
    }
    expect((await browser.post('/workspaces/switch', { workspaceId: 'not-an-id' })).status).toBe(400);
    const res = await browser.post('/workspaces/switch', { workspaceId: mine.id });
    expect(res.status).toBe(303);
    const page = await (await browser.get('/settings')).text();
    expect(page).toMatch(/<option value="[^"]+" selected>Growth<\/option>/);
    expect(page).toContain('Save settings'); // an admin here
    const menu = await (await browser.get('/workspaces')).text();
    expect(menu).toContain('Growth');
    expect(menu).not.toContain('Hidden');
    expect(menu).not.toContain(stranger);
  });
});

describe('archiving a workspace', () => {
  it('is refused for the default workspace and while a scheduled mission could run, then leaves nobody acting in it', async () => {
    const admin = mine.admin;
    const def = await apiClient(t, ADMIN_TOKEN).request('POST', '/api/workspace/archive');
    expect(def.status).toBe(409);
    const c = await json(await admin.request('POST', '/api/containers', { name: 'lab', category: 'custom' }));
    const p = await json(await admin.request('POST', '/api/patterns', { containerId: c.container.id, name: 'p', code: 'async () => ({})' }));
    const m = await admin.request('POST', '/api/missions', {
      name: 'Daily brief', type: 'scheduled', containerId: c.container.id, status: 'active',
      schedule: { cron: '30 16 * * *', timezone: 'America/Toronto', paused: false }, tasks: [{ name: 'only', order: 0, patternId: p.pattern.id }],
    });
    expect(m.status, await m.clone().text()).toBe(201);
    const refused = await admin.request('POST', '/api/workspace/archive');
    expect(refused.status).toBe(409);
    expect((await json(refused)).error.message).toContain('“Daily brief”');
    const { mission } = await json(m);
    expect((await admin.request('POST', `/api/missions/${mission.id}/pause`, { reason: 'archiving' })).status).toBe(200);

    const archived = await admin.request('POST', '/api/workspace/archive');
    expect(archived.status, await archived.clone().text()).toBe(200);
    expect((await json(archived)).workspace.archivedAt).not.toBeNull();
    const after = await admin.request('GET', '/api/missions');
    expect(after.status).toBe(403);
    expect((await json(await apiClient(t, viewer.token).request('GET', '/api/workspaces'))).workspaces.map((w: { id: string }) => w.id)).not.toContain(mine.id);
    const [row] = await t.db.sql<{ n: number }[]>`select count(*)::int as n from missions where workspace_id = ${mine.id}`;
    expect(row!.n).toBe(1); // nothing of it is deleted
    expect((await entries(mine.id, 'workspace.archived'))).toHaveLength(1);
    // Nothing starts in it any more, even by the system's own starts (a trigger, the reconciler).
    await t.db.sql`update missions set status = 'active' where id = ${mission.id}`;
    await expect(executeMission(t.db.sql, t.deps.temporal, { missionId: mission.id, trigger: 'triggered', actor: { id: null, name: 'trigger' } }))
      .rejects.toThrow(/is archived; nothing runs in it/);
  });
});

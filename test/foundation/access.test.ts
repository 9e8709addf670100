// Roles, API tokens and the one authorization middleware every route uses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS, type Access } from '../../api/middleware/authorize';
import { createUser } from '../../core/access/users';
import { listAudit } from '../../core/audit/audit-log';
import { ADMIN_TOKEN } from '../helpers/env';
import { ADMIN_PASSWORD, ORIGIN, apiClient, createTestApp, json, signIn, userWithRole, type TestApp } from '../helpers/app';

let t: TestApp;
let viewer: Awaited<ReturnType<typeof userWithRole>>;
let closer: Awaited<ReturnType<typeof userWithRole>>;
let operator: Awaited<ReturnType<typeof userWithRole>>;
beforeAll(async () => {
  t = await createTestApp();
  viewer = await userWithRole(t, 'VIEWER');
  closer = await userWithRole(t, 'CLOSER');
  operator = await userWithRole(t, 'OPERATOR');
});
afterAll(async () => t?.close());

describe('every route declares the access it needs', () => {
  it('has the authorization middleware on every route of the app', () => {
    const byRoute = new Map<string, boolean>();
    for (const r of t.app.routes) {
      if (r.method === 'ALL') continue; // global middleware
      const key = `${r.method} ${r.path}`;
      const declared = ACCESS in (r.handler as object);
      byRoute.set(key, (byRoute.get(key) ?? false) || declared);
    }
    expect(byRoute.size).toBeGreaterThan(10);
    const missing = [...byRoute].filter(([, ok]) => !ok).map(([k]) => k);
    expect(missing).toEqual([]);
  });
});

describe('roles are held to their routes', () => {
  const cases: [string, string, number, number, number, number][] = [
    // method, path, viewer, closer, operator, admin
    ['GET', '/api/me', 200, 200, 200, 200],
    ['GET', '/api/audit', 200, 200, 200, 200],
    ['GET', '/api/users', 403, 403, 403, 200],
    ['GET', '/api/tokens', 403, 403, 403, 200],
    ['GET', '/health/detailed', 403, 403, 403, 200],
  ];
  it.each(cases)('%s %s: viewer %i, closer %i, operator %i, admin %i', async (method, path, v, cl, o, a) => {
    for (const [token, expected] of [[viewer.token, v], [closer.token, cl], [operator.token, o], [ADMIN_TOKEN, a]] as const) {
      const res = await apiClient(t, token).request(method, path);
      expect(res.status, `${path} with ${token.slice(0, 12)}`).toBe(expected);
    }
  });

  it('answers 401 with a JSON error to a missing or unknown token', async () => {
    const none = await t.app.request('/api/me');
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const bad = await apiClient(t, 'mc_this_token_does_not_exist_at_all').request('GET', '/api/me');
    expect(bad.status).toBe(401);
  });

  it('refuses a viewer creating users, with 403 and no user made', async () => {
    const res = await apiClient(t, viewer.token).request('POST', '/api/users', { username: 'sneaky', password: 'password-123456', role: 'ADMIN' });
    expect(res.status).toBe(403);
    const users = await json(await apiClient(t, ADMIN_TOKEN).request('GET', '/api/users'));
    expect(users.users.map((u: { username: string }) => u.username)).not.toContain('sneaky');
  });
});

describe('a CLOSER, on every route', () => {
  const NO_ID = '00000000-0000-4000-8000-000000000000';
  const params: Record<string, string> = { workflowId: `mission-${NO_ID}-x`, version: '1', channel: 'email', name: 'app.css' };
  const isJsonPath = (path: string) => path.startsWith('/api/') || path.startsWith('/health');

  it('may read what a VIEWER reads, and is refused every OPERATOR and ADMIN route with a 403', async () => {
    const routes = new Map<string, { method: string; path: string; access: Access }>();
    for (const r of t.app.routes) {
      const access = (r.handler as { [ACCESS]?: Access })[ACCESS];
      if (r.method === 'ALL' || !access || access === 'public') continue;
      routes.set(`${r.method} ${r.path}`, { method: r.method, path: r.path, access });
    }
    const session = await signIn(t, closer.username, closer.password);
    const send = async ({ method, path, access }: { method: string; path: string; access: Access }) => {
      const url = path.replace(/:(\w+)/g, (_, p: string) => params[p] ?? NO_ID).replace(/\*/g, 'x');
      const body = method === 'GET' || method === 'DELETE' ? undefined : isJsonPath(path) ? '{}' : '';
      const headers: Record<string, string> = isJsonPath(path)
        ? { Authorization: `Bearer ${closer.token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) }
        : { Cookie: session.cookie, Origin: ORIGIN, 'X-CSRF-Token': session.csrf, ...(body === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' }) };
      const res = await t.app.request(url, { method, headers, body });
      // An accepted event stream never ends by itself: its status is the answer.
      const text = res.headers.get('content-type')?.startsWith('text/event-stream') ? (await res.body?.cancel(), '') : await res.text();
      return { route: `${method} ${path}`, access, status: res.status, text };
    };
    const queue = [...routes.values()];
    const outcomes: Awaited<ReturnType<typeof send>>[] = [];
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let r = queue.shift(); r; r = queue.shift()) outcomes.push(await send(r));
    }));
    const allowed = outcomes.filter((o) => o.access === 'VIEWER' || o.access === 'CLOSER');
    const above = outcomes.filter((o) => o.access === 'OPERATOR' || o.access === 'ADMIN');
    console.log(`closer walk: ${outcomes.length} routes, ${allowed.length} read, ${above.length} refused`);
    expect(allowed.length).toBeGreaterThan(20);
    expect(above.length).toBeGreaterThan(20);
    expect(allowed.filter((o) => o.status === 401 || o.status === 403).map((o) => `${o.status} ${o.route}`)).toEqual([]);
    expect(above.filter((o) => o.status !== 403 || !o.text.includes(`needs the ${o.access} role`)).map((o) => `${o.status} ${o.route}`)).toEqual([]);
    // Refused before anything happened: after making their token, the closer's only entry is the sign-in.
    const mine = await listAudit(t.db.sql, { actor: closer.username, limit: 50 });
    expect(mine.map((e) => e.action)).toEqual(['auth.login', 'token.created']);
  }, 120_000);
});

describe('API tokens', () => {
  it('are created by an admin, shown once, stored hashed, and revoked', async () => {
    const admin = apiClient(t, ADMIN_TOKEN);
    const created = await admin.request('POST', '/api/tokens', { name: 'ci', userId: operator.id });
    expect(created.status).toBe(201);
    const { token, apiToken } = await json(created);
    expect(token).toMatch(/^mc_/);
    const [stored] = await t.db.owner`select token_hash from api_tokens where id = ${apiToken.id}`;
    expect(stored!.token_hash).not.toContain(token);
    expect(stored!.token_hash).toMatch(/^[0-9a-f]{64}$/);

    expect((await apiClient(t, token).request('GET', '/api/me')).status).toBe(200);
    expect((await admin.request('DELETE', `/api/tokens/${apiToken.id}`)).status).toBe(200);
    expect((await apiClient(t, token).request('GET', '/api/me')).status).toBe(401);

    const actions = (await listAudit(t.db.sql, { entityId: apiToken.id, limit: 10 })).map((e) => e.action);
    expect(actions).toEqual(['token.revoked', 'token.created']);
  });

  it('validates bodies with clear 4xx errors', async () => {
    const admin = apiClient(t, ADMIN_TOKEN);
    const bad = await admin.request('POST', '/api/tokens', { name: '' });
    expect(bad.status).toBe(400);
    const body = await json(bad);
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details[0].path).toBe('name');

    const notJson = await t.app.request('/api/tokens', {
      method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' }, body: '{nope',
    });
    expect(notJson.status).toBe(400);

    const wrongType = await t.app.request('/api/tokens', {
      method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'text/plain' }, body: 'name=x',
    });
    expect(wrongType.status).toBe(415);

    const notFound = await admin.request('DELETE', '/api/tokens/00000000-0000-4000-8000-000000000000');
    expect(notFound.status).toBe(404);
    const badId = await admin.request('DELETE', '/api/tokens/not-a-uuid');
    expect(badId.status).toBe(400);
  });
});

describe('users', () => {
  it('the first admin is the default workspace\'s ADMIN and its owner', async () => {
    const [ws] = await t.db.owner`
      select w.owner_user_id = u.id as owner, m.role from workspaces w
      join users u on u.username = 'admin' join memberships m on m.workspace_id = w.id and m.user_id = u.id
      where w.is_default and w.id = ${t.ws}`;
    expect(ws).toEqual({ owner: true, role: 'ADMIN' });
  });

  it('takes CLOSER as a role, from the API and from the settings form', async () => {
    const admin = apiClient(t, ADMIN_TOKEN);
    const res = await admin.request('POST', '/api/users', { username: 'closer-made', password: 'password-123456', role: 'CLOSER' });
    expect(res.status).toBe(201);
    const { user } = await json(res);
    expect(user.role).toBe('CLOSER');
    const [member] = await t.db.owner`select role from memberships where user_id = ${user.id} and workspace_id = ${t.ws}`;
    expect(member).toEqual({ role: 'CLOSER' });
    const promoted = await admin.request('PATCH', `/api/users/${user.id}`, { role: 'OPERATOR' });
    expect((await json(promoted)).user.role).toBe('OPERATOR');
    expect((await json(await admin.request('PATCH', `/api/users/${viewer.id}`, { role: 'CLOSER' }))).user.role).toBe('CLOSER');
    expect((await json(await admin.request('PATCH', `/api/users/${viewer.id}`, { role: 'VIEWER' }))).user.role).toBe('VIEWER');

    const page = await signIn(t, 'admin', ADMIN_PASSWORD);
    const html = await (await page.get('/settings')).text();
    expect(html).toContain('<option value="CLOSER"');
    const made = await page.post('/settings/users', { username: 'closer-form', password: 'password-123456', role: 'CLOSER' });
    expect(made.status).toBe(303);
    const bad = await page.post(`/settings/users/${viewer.id}/role`, { role: 'OWNER' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Choose a role: ADMIN, OPERATOR, CLOSER or VIEWER.');
  });

  it('are the members of the workspace: anyone else is not found', async () => {
    const [other] = await t.db.owner<{ id: string }[]>`insert into workspaces (name) values ('Elsewhere') returning id`;
    const outsider = await createUser(t.db.sql, { username: 'outsider', password: 'password-123456', role: 'ADMIN' }, { id: null, name: 'test' }, other!);
    const admin = apiClient(t, ADMIN_TOKEN);
    const { users } = await json(await admin.request('GET', '/api/users'));
    expect(users.map((u: { username: string }) => u.username)).not.toContain('outsider');
    const missing = { error: { code: 'not_found', message: 'User was not found.' } };
    expect(await json(await admin.request('GET', `/api/users/${outsider.id}`))).toEqual(missing);
    const patch = await admin.request('PATCH', `/api/users/${outsider.id}`, { role: 'VIEWER' });
    expect([patch.status, await json(patch)]).toEqual([404, missing]);
    const token = await admin.request('POST', '/api/tokens', { name: 'for an outsider', userId: outsider.id });
    expect([token.status, await json(token)]).toEqual([404, missing]);
    const [row] = await t.db.owner`select role from memberships where user_id = ${outsider.id}`;
    expect(row).toEqual({ role: 'ADMIN' }); // unchanged, in its own workspace
  });

  it('keeps at least one active admin', async () => {
    const admin = apiClient(t, ADMIN_TOKEN);
    const { users } = await json(await admin.request('GET', '/api/users'));
    const root = users.find((u: { username: string }) => u.username === 'admin');
    const res = await admin.request('PATCH', `/api/users/${root.id}`, { role: 'VIEWER' });
    expect(res.status).toBe(409);
  });

  it('refuses a duplicate username with 409', async () => {
    const admin = apiClient(t, ADMIN_TOKEN);
    const first = await admin.request('POST', '/api/users', { username: 'dupe', password: 'password-123456', role: 'VIEWER' });
    expect(first.status).toBe(201);
    const again = await admin.request('POST', '/api/users', { username: 'DUPE', password: 'password-123456', role: 'VIEWER' });
    expect(again.status).toBe(409);
  });
});

describe('health', () => {
  it('reports not ready, naming the missing worker, when nothing polls the task queue', async () => {
    const res = await t.app.request('/health/ready');
    expect(res.status).toBe(503);
    expect(await json(res)).toEqual({
      status: 'not_ready',
      checks: { postgres: { ok: true }, temporal: { ok: true }, worker: { ok: false, detail: expect.stringContaining(t.config.TEMPORAL_TASK_QUEUE) } },
    });
    expect((await t.app.request('/health/live')).status).toBe(200);
    const detailed = await json(await apiClient(t, ADMIN_TOKEN).request('GET', '/health/detailed'));
    expect(detailed).toMatchObject({ status: 'not_ready', node: process.version, dependencies: { postgres: { ok: true, version: expect.any(String) }, temporal: { ok: true } } });
    expect(detailed.memory.rss).toBeGreaterThan(0);
  });
});

describe('HTTP hygiene', () => {
  it('sends a Content-Security-Policy that allows no inline script', async () => {
    const res = await t.app.request('/login');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('answers an unknown API path with a JSON 404', async () => {
    const res = await apiClient(t, ADMIN_TOKEN).request('GET', '/api/nothing-here');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('serves htmx from the package, not a CDN', async () => {
    const res = await t.app.request('/static/htmx.min.js');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('htmx');
  });
});

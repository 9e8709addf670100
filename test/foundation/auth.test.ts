// Signing in and out of the UI, CSRF, the workspace a session or a token acts
// in, and the audit trail of access.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../core/access/tokens';
import { createUser } from '../../core/access/users';
import { listAudit } from '../../core/audit/audit-log';
import { ADMIN_PASSWORD, ORIGIN, apiClient, createTestApp, json, signIn, userWithRole, type TestApp } from '../helpers/app';
import { freshRateWindow } from './rate-window';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

const form = (body: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN, ...headers },
  body: new URLSearchParams(body),
});

describe('signing in', () => {
  it('shows the login page to anonymous visitors and sends other pages there', async () => {
    const page = await t.app.request('/login');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<form method="post" action="/login"');
    expect(html).toContain('<script src="/static/htmx.min.js"');

    const status = await t.app.request('/status');
    expect(status.status).toBe(303);
    expect(status.headers.get('location')).toBe('/login?next=%2Fstatus');
  });

  it('refuses a wrong password without a cookie, and audits the attempt', async () => {
    const res = await t.app.request('/login', form({ username: 'admin', password: 'not-the-password' }));
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('do not match');
    const [entry] = await listAudit(t.db.sql, { action: 'auth.login_failed', limit: 1 });
    expect(entry?.details).toMatchObject({ username: 'admin' });
    expect(JSON.stringify(entry)).not.toContain('not-the-password');
  });

  it('signs in with the right password: a signed, HttpOnly, SameSite session cookie', async () => {
    const res = await t.app.request('/login', form({ username: 'admin', password: ADMIN_PASSWORD, next: '/status' }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/status');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^mc_session=[^;]+\.[^;]+;/); // value.signature
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    const page = await t.app.request('/status', { headers: { Cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Sign out');
    const [entry] = await listAudit(t.db.sql, { action: 'auth.login', limit: 1 });
    expect(entry?.actor).toBe('admin');
  });

  it('ignores a session cookie whose signature was tampered with', async () => {
    const b = await signIn(t, 'admin', ADMIN_PASSWORD);
    const [name, value] = b.cookie.split('=');
    const forged = `${name}=${value!.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A'))}`;
    const res = await t.app.request('/status', { headers: { Cookie: forged } });
    expect(res.status).toBe(303);
  });

  it('does not redirect to another site after sign-in', async () => {
    const res = await t.app.request('/login', form({ username: 'admin', password: ADMIN_PASSWORD, next: '//evil.example/x' }));
    expect(res.headers.get('location')).toBe('/');
  });

  it('signs out: the session stops working and the logout is audited', async () => {
    const b = await signIn(t, 'admin', ADMIN_PASSWORD);
    const out = await b.post('/logout', {});
    expect(out.status).toBe(303);
    expect((await b.get('/status')).status).toBe(303);
    const [entry] = await listAudit(t.db.sql, { action: 'auth.logout', limit: 1 });
    expect(entry?.actor).toBe('admin');
  });
});

describe('the workspace a session or a token acts in', () => {
  const system = { id: null, name: 'test' };
  const sessionWorkspaces = async (userId: string) =>
    (await t.db.owner<{ workspace_id: string }[]>`select workspace_id from sessions where user_id = ${userId}`).map((r) => r.workspace_id);
  /** A second workspace, made directly: no route makes one yet. Its name is markup, to prove it is escaped. */
  const otherWorkspace = async () =>
    (await t.db.owner<{ id: string }[]>`insert into workspaces (name) values ('Team <b>B</b> & co') returning id`)[0]!.id;

  it('signs in to the default workspace, for a member of it', async () => {
    const operator = await userWithRole(t, 'OPERATOR');
    const b = await signIn(t, operator.username, operator.password);
    expect(await sessionWorkspaces(operator.id)).toEqual([t.ws]);
    expect((await b.get('/status')).status).toBe(200);
  });

  it('signs in to the oldest membership otherwise, with the role held there', async () => {
    const [b1, b2] = [await otherWorkspace(), await otherWorkspace()];
    const user = await createUser(t.db.sql, { username: 'elsewhere', password: 'password-123456', role: 'OPERATOR' }, system, { id: b1 });
    await t.db.owner`insert into memberships (workspace_id, user_id, role, created_at) values (${b2}, ${user.id}, 'ADMIN', now() + interval '1 second')`;
    const b = await signIn(t, 'elsewhere', 'password-123456');
    expect(await sessionWorkspaces(user.id)).toEqual([b1]);
    expect((await b.get('/status')).status).toBe(200); // an OPERATOR route
    const refused = await b.post('/settings/safety/dry-run', { dryRun: 'false' }); // an ADMIN one, in b1
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('This needs the ADMIN role in the workspace &quot;Team &lt;b&gt;B&lt;/b&gt; &amp; co&quot;; you are OPERATOR there.');
  });

  it('refuses a sign-in, without a session, to someone who is a member of no workspace', async () => {
    const viewer = await userWithRole(t, 'VIEWER');
    await t.db.owner`delete from memberships where user_id = ${viewer.id}`;
    const res = await t.app.request('/login', form({ username: viewer.username, password: viewer.password }));
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('You are not a member of any workspace yet; ask an admin to invite you.');
    expect(await sessionWorkspaces(viewer.id)).toEqual([]);
    const [entry] = await listAudit(t.db.sql, { action: 'auth.login_refused', limit: 1 });
    expect(entry).toMatchObject({ actor: viewer.username, entityId: viewer.id });
  });

  it('gives a token the workspace it was made in, and the role its user has there', async () => {
    const admin = await userWithRole(t, 'ADMIN');
    const made = await apiClient(t, admin.token).request('POST', '/api/tokens', { name: 'made over the API' });
    const { token, apiToken } = await json(made);
    const [row] = await t.db.owner`select workspace_id from api_tokens where id = ${apiToken.id}`;
    expect(row).toEqual({ workspace_id: t.ws });
    expect((await json(await apiClient(t, token).request('GET', '/api/me'))).workspace).toEqual({ id: t.ws, name: 'Default', isDefault: true, role: 'ADMIN' });

    // The same user is only a VIEWER in another workspace: a token made there acts as one.
    const other = await otherWorkspace();
    await t.db.owner`insert into memberships (workspace_id, user_id, role) values (${other}, ${admin.id}, 'VIEWER')`;
    const there = apiClient(t, (await createApiToken(t.db.sql, { userId: admin.id, name: 'elsewhere' }, system, { id: other })).token);
    const me = await json(await there.request('GET', '/api/me'));
    expect(me.workspace).toEqual({ id: other, name: 'Team <b>B</b> & co', isDefault: false, role: 'VIEWER' });
    expect(me.user.role).toBe('VIEWER');
    const refused = await there.request('GET', '/api/users');
    expect(refused.status).toBe(403);
    expect((await json(refused)).error.message).toBe('This needs the ADMIN role in the workspace "Team <b>B</b> & co"; you are VIEWER there.');
    expect((await apiClient(t, token).request('GET', '/api/users')).status).toBe(200);
  });

  it('reads the role on every request: a change counts from the next one', async () => {
    const admin = await userWithRole(t, 'ADMIN');
    const api = apiClient(t, admin.token);
    expect((await api.request('GET', '/api/users')).status).toBe(200);
    await t.db.owner`update memberships set role = 'CLOSER' where user_id = ${admin.id} and workspace_id = ${t.ws}`;
    expect((await api.request('GET', '/api/users')).status).toBe(403);
    expect((await json(await api.request('GET', '/api/me'))).user.role).toBe('CLOSER');
  });

  it('refuses a session and a token with a 403 that says so, once their user is no longer a member', async () => {
    const operator = await userWithRole(t, 'OPERATOR');
    const b = await signIn(t, operator.username, operator.password);
    await t.db.owner`delete from memberships where user_id = ${operator.id} and workspace_id = ${t.ws}`;
    const page = await b.get('/status');
    expect(page.status).toBe(403);
    expect(await page.text()).toContain('You are not a member of this workspace any more.');
    const api = await apiClient(t, operator.token).request('GET', '/api/me');
    expect(api.status).toBe(403);
    expect((await json(api)).error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('not a member of any more') });
    // Signing out still works.
    expect((await b.post('/logout', {})).status).toBe(303);
  });
});

describe('cross-site request forgery', () => {
  it('refuses a form post from another origin', async () => {
    const b = await signIn(t, 'admin', ADMIN_PASSWORD);
    const res = await t.app.request('/logout', {
      method: 'POST',
      headers: { Cookie: b.cookie, 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'https://evil.example' },
      body: new URLSearchParams({ _csrf: b.csrf }),
    });
    expect(res.status).toBe(403);
    expect((await b.get('/status')).status).toBe(200); // still signed in: the post had no effect
  });

  it('refuses a same-origin post without the session token, whatever its content type', async () => {
    const b = await signIn(t, 'admin', ADMIN_PASSWORD);
    const noToken = await t.app.request('/logout', { method: 'POST', headers: { Cookie: b.cookie, Origin: ORIGIN, 'Content-Type': 'application/json' }, body: '{}' });
    expect(noToken.status).toBe(403);
    const wrong = await b.post('/logout', { _csrf: 'wrong' });
    expect(wrong.status).toBe(403);
    expect((await b.get('/status')).status).toBe(200);
  });
});

describe('brute force', () => {
  // Ten failures per username per 15 minutes, in fixed windows: all eleven
  // attempts must fall into one (so this may first wait up to 30 s).
  it('rate-limits repeated failures for one username with a 429', async () => {
    const rateWindow = await freshRateWindow(15 * 60, 30);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await t.app.request('/login', form({ username: 'someone-else', password: `guess-${i}` }))).status);
    }
    rateWindow.expectSameWindow();
    expect(statuses).toEqual([...Array(10).fill(401), 429]);
  }, 120_000);
});

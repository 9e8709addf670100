// Signing in and out of the UI, CSRF, and the audit trail of access.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { ADMIN_PASSWORD, ORIGIN, createTestApp, signIn, type TestApp } from '../helpers/app';
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

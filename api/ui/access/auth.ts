// Sign in and out of the web UI. Failed attempts are rate-limited per
// username and per client address, and every attempt is audited. A sign-in
// lands in the default workspace if the user is a member of it, else in their
// oldest membership; a user with none is told so and gets no session.
import { Hono } from 'hono';
import { deleteCookie, setSignedCookie } from 'hono/cookie';
import { z } from 'zod';
import { appendAudit, SYSTEM_ACTOR } from '../../../core/audit/audit-log';
import { checkRateLimit, hitRateLimit, resetRateLimit } from '../../../core/access/rate-limit';
import { createSession, deleteSession, loginWorkspace, SESSION_TTL_MS } from '../../../core/access/sessions';
import { actorOf, checkPassword } from '../../../core/access/users';
import { RateLimitedError } from '../../../lib/errors';
import { text } from '../../../lib/text';
import type { AppDeps, AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { clientAddress } from '../../client-address';

// Failed attempts allowed per 15 minutes: per username, and (looser, for shared NATs) per address.
const USER_LIMIT = 10;
const ADDRESS_LIMIT = 50;
const LOGIN_WINDOW_S = 15 * 60;

/** Only same-site relative paths, so `next` cannot send a user elsewhere. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) && !next.startsWith('/login') ? next : '/';
}

export function authRoutes(deps: AppDeps, renderer: Renderer, cookieName: string) {
  const app = new Hono<AppEnv>();
  const form = z.object({ username: text().trim().max(200).default(''), password: text().max(1000).default(''), next: text().optional() });

  app.get('/login', authorize('public'), (c) => {
    if (c.get('user')) return c.redirect(safeNext(c.req.query('next')), 303);
    return c.html(renderer.page(c, 'pages/access/login', { title: 'Sign in', next: safeNext(c.req.query('next')) }));
  });

  app.post('/login', authorize('public'), async (c) => {
    const body = form.parse(await c.req.parseBody());
    const next = safeNext(body.next);
    const again = (error: string, status: 400 | 401 | 429) =>
      c.html(renderer.page(c, 'pages/access/login', { title: 'Sign in', next, username: body.username, error }), status);
    if (!body.username || !body.password) return again('Enter your username and password.', 400);

    const limits: [string, number][] = [
      [`login:user:${body.username.toLowerCase()}`, USER_LIMIT],
      [`login:addr:${clientAddress(c, deps.config.MC_TRUST_PROXY)}`, ADDRESS_LIMIT],
    ];
    try {
      for (const [key, limit] of limits) await checkRateLimit(deps.sql, key, limit, LOGIN_WINDOW_S);
    } catch (err) {
      if (err instanceof RateLimitedError) {
        c.header('Retry-After', String(err.retryAfterSeconds));
        return again(`Too many failed sign-in attempts. Try again in ${Math.ceil(err.retryAfterSeconds / 60)} min.`, 429);
      }
      throw err;
    }

    const user = await checkPassword(deps.sql, body.username, body.password);
    if (!user) {
      for (const [key, limit] of limits) await hitRateLimit(deps.sql, key, limit, LOGIN_WINDOW_S).catch(() => {});
      await appendAudit(deps.sql, {
        actor: SYSTEM_ACTOR, action: 'auth.login_failed', entityType: 'user', entityId: null,
        details: { username: body.username, address: clientAddress(c, deps.config.MC_TRUST_PROXY) },
      });
      return again('That username and password do not match.', 401);
    }
    const workspace = await loginWorkspace(deps.sql, user.id);
    if (!workspace) {
      await appendAudit(deps.sql, {
        actor: actorOf(user), action: 'auth.login_refused', entityType: 'user', entityId: user.id,
        details: { reason: 'not a member of any workspace', address: clientAddress(c, deps.config.MC_TRUST_PROXY) },
      });
      return again('You are not a member of any workspace yet; ask an admin to invite you.', 401);
    }
    const session = await deps.sql.begin(async (tx) => {
      const s = await createSession(tx, user.id, workspace);
      await appendAudit(tx, {
        actor: actorOf(user), action: 'auth.login', entityType: 'user', entityId: user.id,
        details: { address: clientAddress(c, deps.config.MC_TRUST_PROXY) }, workspaceId: workspace.id,
      });
      return s;
    });
    await resetRateLimit(deps.sql, limits[0]![0]);
    await setSignedCookie(c, cookieName, session.sessionId, deps.sessionSecret, {
      httpOnly: true,
      sameSite: 'Lax',
      secure: deps.config.MC_COOKIE_SECURE,
      path: '/',
      maxAge: Math.floor(SESSION_TTL_MS / 1000),
    });
    return c.redirect(next, 303);
  });

  app.post('/logout', authorize('public'), async (c) => {
    const session = c.get('session');
    const user = c.get('user');
    if (session && user) {
      await deps.sql.begin(async (tx) => {
        await deleteSession(tx, session.id);
        await appendAudit(tx, { actor: actorOf(user), action: 'auth.logout', entityType: 'user', entityId: user.id, workspaceId: c.get('workspace')?.id });
      });
    }
    deleteCookie(c, cookieName, { path: '/', secure: deps.config.MC_COOKIE_SECURE });
    return c.redirect('/login', 303);
  });

  return app;
}

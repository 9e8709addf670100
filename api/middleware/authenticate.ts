// Who is asking: API routes take a bearer token only; UI routes take the
// signed session cookie; /health/* takes either (monitoring uses tokens).
// Authorization happens per route (authorize.ts).
import type { MiddlewareHandler } from 'hono';
import { deleteCookie, getSignedCookie } from 'hono/cookie';
import { getSession } from '../../core/access/sessions';
import { authenticateToken } from '../../core/access/tokens';
import type { Sql } from '../../db/sql';
import { UnauthorizedError } from '../../lib/errors';
import { isApiPath, isJsonPath, type AppEnv } from '../context';

export interface AuthenticateOptions {
  sql: Sql;
  sessionSecret: string;
  cookieName: string;
}

export function authenticate(opts: AuthenticateOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('user', null);
    c.set('session', null);
    const api = isApiPath(c.req.path);
    const header = c.req.header('Authorization');
    if (header && isJsonPath(c.req.path)) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const user = match ? await authenticateToken(opts.sql, match[1]!) : null;
      if (!user) throw new UnauthorizedError('The API token is invalid, expired or revoked.');
      c.set('user', user);
      return next();
    }
    if (api) return next();
    const sessionId = await getSignedCookie(c, opts.sessionSecret, opts.cookieName);
    if (sessionId) {
      const session = await getSession(opts.sql, sessionId);
      if (session) {
        c.set('user', session.user);
        c.set('session', { id: sessionId, csrfToken: session.csrfToken });
      } else {
        deleteCookie(c, opts.cookieName, { path: '/' });
      }
    }
    return next();
  };
}

// Who is asking, and in which workspace: API routes take a bearer token only
// (it acts in the workspace it was made in); UI routes take the signed session
// cookie (the session's workspace); /health/* takes either (monitoring uses
// tokens). The role is the one in that workspace, read on every request.
// Authorization happens per route (authorize.ts). An agent token (`mca_…`)
// speaks for one agent on the agent protocol's routes and nowhere else.
import type { MiddlewareHandler } from 'hono';
import { deleteCookie, getSignedCookie } from 'hono/cookie';
import { getSession } from '../../core/access/sessions';
import { authenticateToken } from '../../core/access/tokens';
import { authenticateAgentToken } from '../../core/agents/agents';
import { AGENT_TOKEN_PREFIX } from '../../client/agent/protocol';
import type { Sql } from '../../db/sql';
import { UnauthorizedError } from '../../lib/errors';
import { isAgentPath, isApiPath, isJsonPath, type AppEnv } from '../context';

export interface AuthenticateOptions {
  sql: Sql;
  sessionSecret: string;
  cookieName: string;
}

export function authenticate(opts: AuthenticateOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('user', null);
    c.set('workspace', null);
    c.set('session', null);
    c.set('agent', null);
    const api = isApiPath(c.req.path);
    const header = c.req.header('Authorization');
    if (header && isJsonPath(c.req.path)) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (match?.[1]!.startsWith(AGENT_TOKEN_PREFIX)) {
        if (!isAgentPath(c.req.path)) throw new UnauthorizedError('An agent token speaks the agent protocol only (/api/agent/*); use an API token here.');
        const agent = await authenticateAgentToken(opts.sql, match[1]!);
        if (!agent) throw new UnauthorizedError('The agent token is invalid or revoked, or its agent was removed.');
        c.set('agent', agent);
        return next();
      }
      const found = match ? await authenticateToken(opts.sql, match[1]!) : null;
      if (!found) throw new UnauthorizedError('The API token is invalid, expired or revoked.');
      c.set('user', found.user);
      c.set('workspace', found.workspace);
      return next();
    }
    if (api) return next();
    const sessionId = await getSignedCookie(c, opts.sessionSecret, opts.cookieName);
    if (sessionId) {
      const session = await getSession(opts.sql, sessionId);
      if (session) {
        c.set('user', session.user);
        c.set('workspace', session.workspace);
        c.set('session', { id: sessionId, csrfToken: session.csrfToken });
      } else {
        deleteCookie(c, opts.cookieName, { path: '/' });
      }
    }
    return next();
  };
}

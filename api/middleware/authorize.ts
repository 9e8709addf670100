// The one authorization middleware: every route declares the access it needs
// (the least role, ranked by ROLE_RANK, in the request's workspace), and a
// test walks the app's routes to prove none is left without it.
import type { MiddlewareHandler } from 'hono';
import { ForbiddenError, UnauthorizedError } from '../../lib/errors';
import { ROLE_RANK, type Role } from '../../lib/names';
import { isJsonPath, type AppEnv } from '../context';

/**
 * `signed-in`: anyone signed in, a member of the request's workspace or not (choosing another workspace).
 * `agent`: an agent, by its agent token (the agent protocol); never a user.
 */
export type Access = 'public' | 'signed-in' | 'agent' | Role;

export const ACCESS = Symbol.for('mission-control.access');

export type AuthorizeMiddleware = MiddlewareHandler<AppEnv> & { [ACCESS]: Access };

export function authorize(access: Access): AuthorizeMiddleware {
  const handler: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (access === 'public') return next();
    if (access === 'agent') {
      if (c.get('agent')) return next();
      throw new UnauthorizedError('The agent protocol takes an agent token: "Authorization: Bearer mca_…" (shown once when the agent was registered).');
    }
    const user = c.get('user');
    if (!user) {
      if (isJsonPath(c.req.path)) throw new UnauthorizedError('Send an API token as "Authorization: Bearer <token>".');
      const back = c.req.method === 'GET' ? c.req.path + (new URL(c.req.url).search || '') : '/';
      const target = `/login?next=${encodeURIComponent(back)}`;
      if (c.req.header('HX-Request')) {
        c.header('HX-Redirect', target);
        return c.body(null, 401);
      }
      return c.redirect(target, 303);
    }
    if (access === 'signed-in') return next();
    const ws = c.get('workspace');
    if (!ws) throw new ForbiddenError(c.get('session') ? NOT_A_MEMBER_SESSION : NOT_A_MEMBER_TOKEN);
    if (ROLE_RANK[ws.role] < ROLE_RANK[access]) {
      throw new ForbiddenError(`This needs the ${access} role in the workspace "${ws.name}"; you are ${ws.role} there.`);
    }
    return next();
  };
  return Object.assign(handler, { [ACCESS]: access });
}

const NOT_A_MEMBER_SESSION =
  'You are not a member of this workspace any more. Choose another of your workspaces at /workspaces, or ask an admin of this one to add you back.';
const NOT_A_MEMBER_TOKEN =
  'This API token acts in a workspace its user is not a member of any more. Ask an admin of that workspace to add them back, or use a token made in another workspace.';

/** Whether the user's role (in the request's workspace) includes `role`; never for a user who is not a member. */
export function hasRole(user: { role: Role | null } | null | undefined, role: Role): boolean {
  return !!user?.role && ROLE_RANK[user.role] >= ROLE_RANK[role];
}

// The one authorization middleware: every route declares the access it needs,
// and a test walks the app's routes to prove none is left without it.
import type { MiddlewareHandler } from 'hono';
import { ForbiddenError, UnauthorizedError } from '../../lib/errors';
import { ROLE_RANK, type Role } from '../../lib/names';
import { isJsonPath, type AppEnv } from '../context';

export type Access = 'public' | Role;

export const ACCESS = Symbol.for('mission-control.access');

export type AuthorizeMiddleware = MiddlewareHandler<AppEnv> & { [ACCESS]: Access };

export function authorize(access: Access): AuthorizeMiddleware {
  const handler: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (access === 'public') return next();
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
    if (ROLE_RANK[user.role] < ROLE_RANK[access]) {
      throw new ForbiddenError(`This needs the ${access} role; you are ${user.role}.`);
    }
    return next();
  };
  return Object.assign(handler, { [ACCESS]: access });
}

export function hasRole(user: { role: Role } | null | undefined, role: Role): boolean {
  return !!user && ROLE_RANK[user.role] >= ROLE_RANK[role];
}

// CSRF for the cookie-authenticated UI, in two layers: hono/csrf refuses
// cross-origin form posts by Origin / Sec-Fetch-Site (form content types
// only), and this middleware requires the session's synchronizer token on
// every unsafe request, whatever its content type.
import type { MiddlewareHandler } from 'hono';
import { csrfTokensMatch } from '../../core/access/credentials';
import { AppError } from '../../lib/errors';
import { isApiPath, type AppEnv } from '../context';

export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export class CsrfError extends AppError {
  constructor() {
    super(403, 'csrf_failed', 'This form has expired or did not come from this site. Reload the page and try again.');
  }
}

export function csrfToken(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (SAFE.has(c.req.method) || isApiPath(c.req.path)) return next();
    const session = c.get('session');
    if (!session) return next(); // no session, no authority to borrow (login is origin-checked)
    let given = c.req.header(CSRF_HEADER);
    if (!given) {
      const type = c.req.header('Content-Type') ?? '';
      if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
        const body = await c.req.parseBody();
        const field = body[CSRF_FIELD];
        given = typeof field === 'string' ? field : undefined;
      }
    }
    if (!csrfTokensMatch(session.csrfToken, given)) throw new CsrfError();
    return next();
  };
}

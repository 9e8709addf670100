// Eta rendering. A normal request gets the full page (layout included); an
// htmx request gets just the fragment it asked for. `Vary: HX-Request` keeps
// caches from mixing the two.
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';
import { Eta } from 'eta';
import type { AppEnv } from './context';
import { hasRole } from './middleware/authorize';
import { helpers } from './view-helpers';

const VIEWS = fileURLToPath(new URL('../views/', import.meta.url));

export type LayoutGlobals = (c: Context<AppEnv>) => Promise<Record<string, unknown>> | Record<string, unknown>;

export interface Renderer {
  /** A whole page: the template sets its layout. */
  page(c: Context<AppEnv>, template: string, data: Record<string, unknown>, globals?: Record<string, unknown>): string;
  /** A fragment, rendered with exactly the data handed to it. */
  partial(template: string, data: Record<string, unknown>): string;
  /** A fragment as a response, with the request's user, permissions and CSRF token. */
  fragment(c: Context<AppEnv>, template: string, data: Record<string, unknown>, status?: number): Response;
  /** A whole page as a response, with the layout's globals (the safety banner, the navigation's counts), for any request. */
  whole(c: Context<AppEnv>, template: string, data: Record<string, unknown>, status?: number): Promise<Response>;
  /** Full page for a normal request, the fragment for an htmx one. */
  respond(
    c: Context<AppEnv>,
    views: { page: string; partial: string },
    data: Record<string, unknown>,
    status?: number,
  ): Promise<Response>;
}

export function createRenderer(opts: { globals?: LayoutGlobals; cache?: boolean } = {}): Renderer {
  const eta = new Eta({ views: VIEWS, cache: opts.cache ?? true, autoEscape: true, autoTrim: [false, 'nl'] });
  const base = (c: Context<AppEnv>) => {
    const user = c.get('user');
    return {
      h: helpers,
      // Someone no longer a member of the session's workspace has no role there: the header says so.
      user: user && { ...user, role: user.role ?? 'NONE' },
      // The workspace the request acts in (null when signed out), with the user's role there.
      workspace: c.get('workspace') ?? null,
      // What the signed-in user may do there, so templates show only those controls (the server checks again).
      can: { close: hasRole(user, 'CLOSER'), operate: hasRole(user, 'OPERATOR'), admin: hasRole(user, 'ADMIN') },
      csrf: c.get('session')?.csrfToken ?? '',
      path: c.req.path,
    };
  };
  const renderer: Renderer = {
    page(c, template, data, globals = {}) {
      return eta.render(template, { ...base(c), ...globals, ...data });
    },
    partial(template, data) {
      return eta.render(template, { h: helpers, ...data });
    },
    fragment(c, template, data, status = 200) {
      c.header('Vary', 'HX-Request');
      return c.html(eta.render(template, { ...base(c), ...data }), status as 200);
    },
    async whole(c, template, data, status = 200) {
      const globals = opts.globals ? await opts.globals(c) : {};
      return c.html(renderer.page(c, template, data, globals), status as 200);
    },
    async respond(c, views, data, status = 200) {
      c.header('Vary', 'HX-Request');
      const fragment = c.req.header('HX-Request') === 'true' && c.req.header('HX-Boosted') !== 'true';
      if (fragment) return c.html(renderer.partial(views.partial, { ...base(c), ...data }), status as 200);
      return renderer.whole(c, views.page, data, status);
    },
  };
  return renderer;
}

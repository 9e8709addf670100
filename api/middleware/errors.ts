// Maps every error to one response shape: JSON `{ error: { code, message,
// details? } }` for the API, a readable page or fragment for the UI. Client
// mistakes get a 4xx; only our own faults are a 500, logged with the request id.
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { dataException } from '../../db/errors';
import { isConnectionError } from '../../db/sql';
import { AppError, RateLimitedError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { isJsonPath, type AppEnv } from '../context';
import type { Renderer } from '../render';

interface Problem {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

export function toProblem(err: unknown): Problem | null {
  if (err instanceof AppError) return { status: err.status, code: err.code, message: err.message, details: err.details };
  if (err instanceof z.ZodError) {
    return { status: 400, code: 'validation_failed', message: describeIssues(err.issues), details: err.issues.map(issueDetail) };
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    if (status === 413) return { status, code: 'payload_too_large', message: 'The request body is too large.' };
    // hono/csrf refuses a form post whose Origin / Sec-Fetch-Site is not this site.
    if (status === 403) return { status, code: 'csrf_failed', message: 'Cross-site form posts are refused. Use the form on this site.' };
    return { status, code: status === 401 ? 'unauthorized' : 'bad_request', message: err.message || 'Bad request.' };
  }
  if (err instanceof SyntaxError && /JSON/i.test(err.message)) {
    return { status: 400, code: 'invalid_json', message: 'The request body is not valid JSON.' };
  }
  const stored = dataException(err);
  if (stored) return { status: stored.status, code: stored.code, message: stored.message };
  // A dependency being down is nobody's mistake: a 503 that says which, never a 500.
  if (isConnectionError(err)) return { status: 503, code: 'database_unavailable', message: 'The database is not reachable right now; try again shortly.' };
  if ((err as { code?: unknown })?.code === 14) return { status: 503, code: 'temporal_unavailable', message: 'Temporal is not reachable right now; try again shortly.' };
  return null;
}

export function issueDetail(i: z.core.$ZodIssue): { path: string; message: string } {
  return { path: i.path.map(String).join('.'), message: i.message };
}

export function describeIssues(issues: z.core.$ZodIssue[]): string {
  const first = issues[0];
  if (!first) return 'The request is not valid.';
  const where = first.path.length ? `${first.path.map(String).join('.')}: ` : '';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return `${where}${first.message}${more}`;
}

export function errorHandler(logger: Logger, renderer: Renderer): ErrorHandler<AppEnv> {
  return (err, c) => {
    const problem = toProblem(err);
    if (!problem) {
      logger.error({ reqId: c.get('requestId'), err, method: c.req.method, path: c.req.path }, 'request failed');
    } else if (dataException(err)) {
      // The client's mistake, but one the edge should have caught: say where, so it gets a rule.
      logger.warn({ reqId: c.get('requestId'), err, method: c.req.method, path: c.req.path }, 'an unvalidated value reached the database');
    }
    const p = problem ?? { status: 500, code: 'internal', message: `Something went wrong on our side (request ${c.get('requestId')}).` };
    if (err instanceof RateLimitedError) c.header('Retry-After', String(err.retryAfterSeconds));
    return respond(c, renderer, p);
  };
}

export function notFoundHandler(renderer: Renderer): NotFoundHandler<AppEnv> {
  return (c) => respond(c, renderer, { status: 404, code: 'not_found', message: `Nothing at ${c.req.path}.` });
}

function respond(c: Context<AppEnv>, renderer: Renderer, p: Problem) {
  const status = p.status as 400;
  // An error is about this one request: never cached, whatever the route had set before it failed.
  c.header('Cache-Control', 'no-store');
  if (isJsonPath(c.req.path)) {
    return c.json({ error: { code: p.code, message: p.message, ...(p.details !== undefined ? { details: p.details } : {}) } }, status);
  }
  if (c.req.header('HX-Request')) {
    // htmx does not swap a 4xx or 5xx, but it does fire HX-Trigger events: app.js shows the
    // flash in the page's alert region. The body says the same for anything that does swap it.
    c.header('HX-Trigger', triggerHeader({ flash: { kind: 'error', text: p.message } }));
    c.header('HX-Retarget', '#flash');
    c.header('HX-Reswap', 'innerHTML');
    return c.html(renderer.partial('partials/shared/flash', { kind: 'error', message: p.message }), status);
  }
  return c.html(renderer.page(c, 'pages/system/error', { title: `Error ${p.status}`, status: p.status, message: p.message }), status);
}

/** HX-Trigger JSON with every non-ASCII character escaped: header values must be bytes. */
export function triggerHeader(events: Record<string, unknown>): string {
  return JSON.stringify(events).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

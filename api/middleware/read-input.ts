// Reads every request's input once, at the edge, and holds all of it to one
// rule (lib/text.ts) before any route sees it: query strings everywhere, JSON
// bodies on the API, form bodies on the UI. A value PostgreSQL or Temporal
// could not hold is refused here with a 4xx that names it, so no route can
// half-act on it. Routes then read the cached body as usual.
import type { Context, MiddlewareHandler } from 'hono';
import { AppError, ValidationError } from '../../lib/errors';
import { jsonProblem, textProblem } from '../../lib/text';
import { MAX_JSON_DEPTH } from '../../core/patterns/schemas';
import { isApiPath, type AppEnv } from '../context';

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;
const FORM_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data']);
/** A whole body may wrap JSON values (64 levels each) in a few levels of its own. */
export const MAX_BODY_DEPTH = 2 * MAX_JSON_DEPTH;
const NO_BODY = new Set(['GET', 'HEAD', 'OPTIONS']);
export const UNREADABLE_FORM = 'The form could not be read: its multipart body is malformed. Reload the page and submit it again.';

const mediaType = (c: Context<AppEnv>) => c.req.header('Content-Type')?.split(';')[0]!.trim().toLowerCase();

/** "Query parameter "q"", or "A query parameter" for a name too long to quote back. */
const named = (kind: string, name: string) => (name.length <= 64 ? `${kind} "${name}"` : `A ${kind.toLowerCase()}`);

function checkQuery(c: Context<AppEnv>): void {
  if (!c.req.url.includes('?')) return;
  for (const [key, values] of Object.entries(c.req.queries())) {
    const keyProblem = textProblem(key);
    if (keyProblem) throw new ValidationError(`A query parameter name ${keyProblem}.`, [{ path: 'query', message: keyProblem }]);
    for (const v of values) {
      const problem = textProblem(v);
      if (problem) throw new ValidationError(`${named('Query parameter', key)} ${problem}.`, [{ path: key, message: problem }]);
    }
  }
}

async function checkJsonBody(c: Context<AppEnv>): Promise<void> {
  const body = await c.req.text();
  if (!body) return;
  const type = mediaType(c);
  if (!type) throw new AppError(415, 'unsupported_media_type', 'The request has a body but no Content-Type. Send it as JSON with Content-Type: application/json.');
  if (!JSON_TYPE.test(type)) throw new AppError(415, 'unsupported_media_type', 'Send the request body as JSON (Content-Type: application/json).');
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new AppError(400, 'invalid_json', `The request body is not valid JSON (${(err as Error).message}).`);
  }
  const problem = jsonProblem(value, MAX_BODY_DEPTH);
  if (!problem) return;
  if (problem.kind === 'depth') {
    throw new ValidationError(`The request body is nested more than ${MAX_BODY_DEPTH} levels deep; JSON values may be nested at most ${MAX_JSON_DEPTH} levels.`);
  }
  const path = problem.path.map(String).join('.');
  throw new ValidationError(`${path ? `${path}: ` : 'The request body '}${problem.message}.`, [{ path, message: problem.message }]);
}

async function checkFormBody(c: Context<AppEnv>): Promise<void> {
  if (!FORM_TYPES.has(mediaType(c) ?? '')) return; // UI routes read forms only
  let form: Record<string, unknown>;
  try {
    form = await c.req.parseBody({ all: true });
  } catch {
    throw new ValidationError(UNREADABLE_FORM);
  }
  for (const [key, value] of Object.entries(form)) {
    const keyProblem = textProblem(key);
    if (keyProblem) throw new ValidationError(`A form field name ${keyProblem}.`, [{ path: 'form', message: keyProblem }]);
    for (const v of Array.isArray(value) ? value : [value]) {
      const problem = typeof v === 'string' ? textProblem(v) : null; // files are refused where forms are read
      if (problem) throw new ValidationError(`${named('Form field', key)} ${problem}.`, [{ path: key, message: problem }]);
    }
  }
}

export function readInput(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    checkQuery(c);
    if (!NO_BODY.has(c.req.method)) {
      if (isApiPath(c.req.path)) await checkJsonBody(c);
      else await checkFormBody(c);
    }
    return next();
  };
}

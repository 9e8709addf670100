// The event stream over HTTP: GET /api/events pages it (oldest first, after a
// cursor), GET /api/events/stream follows it live as server-sent events and
// resumes from Last-Event-ID without gaps or repeats. The UI's pages follow
// the same stream at /live/events with their session cookie (EventSource sends
// no Authorization header); GET /api/events/feed is the board's activity feed
// in words. Each answers only the caller's workspace's events.
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { FEED_LIMIT, loadFeed } from '../../../core/board/board';
import { listEvents, parseCursor, type EventFilter } from '../../../core/events/events';
import { eventStreamOf, type Subscription } from '../../../core/events/stream';
import { getSession } from '../../../core/access/sessions';
import { authenticateToken } from '../../../core/access/tokens';
import { isConnectionError } from '../../../db/sql';
import { UnavailableError } from '../../../lib/errors';
import { text } from '../../../lib/text';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

const filterSchema = z.object({
  type: text().max(100).optional(),
  entityType: text().max(100).optional(),
  entityId: text().max(300).optional(),
  missionId: z.uuid('missionId must be a mission id (a UUID).').optional(),
  runId: text().max(300).optional(),
  since: z.iso.datetime({ offset: true, message: 'since must be an ISO 8601 time, e.g. 2026-12-01T09:00:00Z.' }).optional(),
  after: z.string().regex(/^\d{1,15}$/, 'after is the id of an event (a whole number).').optional(),
});
const pageSchema = filterSchema.extend({ limit: z.coerce.number().int().min(1).max(500).default(100) });

type FilterQuery = z.infer<typeof filterSchema>;

function filterOf(q: FilterQuery): EventFilter {
  return {
    type: q.type, entityType: q.entityType, entityId: q.entityId, missionId: q.missionId, runId: q.runId,
    since: q.since ? new Date(q.since) : undefined,
  };
}

/** How often an idle stream sends a comment, so proxies and browsers keep it open. */
const KEEPALIVE_MS = 15_000;
/** How often an open stream checks that its credential still lets it read its workspace (a member removed, a token revoked). */
export const RECHECK_MS = 5_000;

/** Whether the request's session or token would still be let in to its workspace now. */
function stillAllowed(deps: AppDeps, c: Context<AppEnv>): () => Promise<boolean> {
  const ws = currentWorkspace(c).id;
  const session = c.get('session');
  const token = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('Authorization') ?? '')?.[1];
  return async () => {
    const found = session ? await getSession(deps.sql, session.id) : token ? await authenticateToken(deps.sql, token) : null;
    return found?.workspace?.id === ws;
  };
}

/**
 * Follows the stream as server-sent events: `id` is the event id, `data` the envelope, and `event` its type
 * (unless `named` is false: a page's EventSource then hears every event as a plain message).
 */
export async function followEvents(deps: AppDeps, c: Context<AppEnv>, q: FilterQuery, named = true) {
  const after = parseCursor(c.req.header('Last-Event-ID') ?? q.after);
  // Subscribed (and any backlog read) before the response starts: a database that is down is a 503.
  let sub: Subscription;
  try {
    sub = await eventStreamOf(deps.sql, deps.logger).subscribe(filterOf(q), after, currentWorkspace(c));
  } catch (err) {
    if (isConnectionError(err)) throw new UnavailableError('The event stream cannot be read right now (the database is unreachable); try again shortly.');
    throw err;
  }
  c.header('Cache-Control', 'no-store');
  c.header('X-Accel-Buffering', 'no');
  return streamSSE(c, async (sse) => {
    sse.onAbort(() => sub.close());
    // The reconnect delay a browser's EventSource uses after the server went away.
    await sse.writeSSE({ event: 'ready', data: JSON.stringify({ after: after ?? null }), retry: 2000 });
    const keepalive = setInterval(() => void sse.write(': keepalive\n\n').catch(() => sub.close()), KEEPALIVE_MS);
    // A stream outlives the request that opened it: once its credential no longer admits it, it ends (a database
    // that does not answer ends nothing; the client reconnecting is authorized again as any request is).
    const allowed = stillAllowed(deps, c);
    const recheck = setInterval(() => void allowed().then((ok) => ok || sub.close(), () => undefined), RECHECK_MS);
    try {
      for (let e = await sub.next(); e; e = await sub.next()) {
        await sse.writeSSE({ id: e.id, ...(named ? { event: e.type } : {}), data: JSON.stringify(e) });
      }
    } finally {
      clearInterval(keepalive);
      clearInterval(recheck);
      sub.close();
    }
  });
}

export function eventRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/', authorize('VIEWER'), valid('query', pageSchema), async (c) => {
    const q = c.req.valid('query');
    const after = parseCursor(q.after) ?? 0;
    const events = await listEvents(deps.sql, { ...filterOf(q), after, workspaceId: currentWorkspace(c).id }, q.limit);
    // `next` is where to ask again: the last id on this page, or the same cursor when nothing is new.
    return c.json({ events, next: events.at(-1)?.id ?? String(after) });
  });

  app.get('/stream', authorize('VIEWER'), valid('query', filterSchema), (c) => followEvents(deps, c, c.req.valid('query')));

  // Seed 002's activity feed: what the board shows beside its columns, in words (open alerts first).
  app.get('/feed', authorize('VIEWER'), valid('query', z.object({ limit: z.coerce.number().int().min(1).max(100).default(FEED_LIMIT) })), async (c) =>
    c.json(await loadFeed(deps.sql, c.req.valid('query').limit, currentWorkspace(c))));

  return app;
}

/** The same stream for the UI's pages, with their session. */
export function liveRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.get('/events', authorize('VIEWER'), valid('query', filterSchema), (c) => followEvents(deps, c, c.req.valid('query'), false));
  return app;
}

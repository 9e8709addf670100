// The board (/): runs by status and draft missions, filters and search,
// refreshed when the event stream says runs or missions changed; the activity feed beside it.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { createBoardLoader, FEED_LIMIT, loadFeed } from '../../../core/board/board';
import { elapsedMs, elapsedText } from '../../../core/board/progress';
import type { RunSummary } from '../../../core/runs/visibility';
import { eventStreamOf } from '../../../core/events/stream';
import { listContainers } from '../../../core/patterns/containers';
import { PRIORITIES } from '../../../core/missions/schemas';
import { MISSION_TRIGGERS } from '../../../lib/names';
import { text } from '../../../lib/text';
import { acknowledgeAlert } from '../../../core/alerts/alerts';
import { actorOf } from '../../../core/access/users';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { contentVersion, redirect } from '../common';

const empty = (v: unknown) => (v === '' ? undefined : v);
export const boardQuery = z.object({
  v: text().max(40).optional(),
  containerId: z.preprocess(empty, z.uuid().optional()),
  priority: z.preprocess(empty, z.enum(PRIORITIES).optional()),
  trigger: z.preprocess(empty, z.enum(MISSION_TRIGGERS).optional()),
  q: z.preprocess(empty, text().trim().max(120).optional()),
});

/** The events a board shows the effect of; its live element (views/partials/board/board.eta) lists the same. */
const BOARD_EVENTS = /^(run|task|approval|scheduler|mission|work_item)\./;

export function boardRoutes(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  const loadBoard = createBoardLoader(deps.sql, deps.temporal);
  // A board shows runs and missions: any event about them makes every loaded board stale.
  eventStreamOf(deps.sql, deps.logger).onEvent((e) => {
    if (BOARD_EVENTS.test(e.type)) loadBoard.invalidate();
  });

  const board = async (c: Context<AppEnv>, filters: Omit<z.infer<typeof boardQuery>, 'v'>) => {
    const fragment = c.req.header('HX-Request') === 'true';
    const ws = currentWorkspace(c);
    // Live refreshes (every board of the workspace an event woke) share one load; opening or filtering the board
    // loads afresh, or joins a load of the same board already in flight (begun since the last event).
    const data = await loadBoard(filters, { fresh: c.req.header('X-Live-Refresh') ? false : 'in-flight' }, ws);
    const version = contentVersion(data);
    if (fragment && c.req.query('v') === version) return c.body(null, 204);
    // Only the full page shows the filters' container list and the feed.
    const [containers, feed] = fragment ? [{ items: [] }, null] : await Promise.all([listContainers(deps.sql, { limit: 200, offset: 0 }, ws), loadFeed(deps.sql, FEED_LIMIT, ws)]);
    // Elapsed times are worked out as each response renders (the shared load is up to a second old), against one clock.
    const now = Date.now();
    const elapsed = (r: Pick<RunSummary, 'startTime' | 'closeTime'>) => elapsedText(elapsedMs(r, now));
    return renderer.respond(c, { page: 'pages/board/board', partial: 'partials/board/board' }, {
      title: 'Board', board: data, version, elapsed, containers: containers.items, feed, priorities: PRIORITIES, triggers: MISSION_TRIGGERS,
    });
  };

  const filters = ({ v: _v, ...f }: z.infer<typeof boardQuery>) => f;
  app.get('/', authorize('VIEWER'), valid('query', boardQuery), (c) => board(c, filters(c.req.valid('query'))));
  app.get('/board', authorize('VIEWER'), valid('query', boardQuery), (c) => board(c, filters(c.req.valid('query'))));

  app.get('/board/feed', authorize('VIEWER'), async (c) =>
    renderer.fragment(c, 'partials/board/feed', { feed: await loadFeed(deps.sql, FEED_LIMIT, currentWorkspace(c)) }));

  app.post('/alerts/:id/ack', authorize('OPERATOR'), valid('param', z.object({ id: z.uuid() })), async (c) => {
    const ws = currentWorkspace(c);
    await acknowledgeAlert(deps.sql, c.req.valid('param').id, actorOf(c.get('user')!), ws);
    if (c.req.header('HX-Request')) return renderer.fragment(c, 'partials/board/feed', { feed: await loadFeed(deps.sql, FEED_LIMIT, ws) });
    return redirect(c, '/');
  });

  return app;
}

// The UI shell's own pages: the status page, the safety banner (live sending, global pause) every page refreshes on safety events
// (the request's workspace's settings), and the navigation's count of runs waiting for a decision.
import { Hono } from 'hono';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { checkHealth } from '../../health-checks';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { waitingRuns } from './waiting';
import { safetyBanner } from '../common';

export function shellRoutes(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  app.get('/status', authorize('VIEWER'), async (c) => {
    const health = await checkHealth(deps);
    return renderer.respond(c, { page: 'pages/system/status', partial: 'partials/system/status-panel' }, { title: 'Status', health });
  });

  app.get('/live/banner', authorize('VIEWER'), async (c) => {
    return renderer.fragment(c, 'partials/shared/safety-banner', { safety: await safetyBanner(deps.sql, currentWorkspace(c).id) });
  });

  app.get('/live/nav/approvals', authorize('VIEWER'), async (c) => renderer.fragment(c, 'partials/shared/nav-approvals', { waiting: await waitingRuns(deps, currentWorkspace(c)) }));

  app.get('/favicon.ico', authorize('public'), (c) => c.redirect('/static/favicon.svg', 301));

  return app;
}

// The UI shell's own pages: the status page.
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../../context';
import { checkHealth } from '../../health-checks';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';

export function shellRoutes(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  app.get('/status', authorize('VIEWER'), async (c) => {
    const health = await checkHealth(deps);
    return renderer.respond(c, { page: 'pages/system/status', partial: 'partials/system/status-panel' }, { title: 'Status', health });
  });

  app.get('/favicon.ico', authorize('public'), (c) => c.redirect('/static/favicon.svg', 301));

  return app;
}

// POST /api/inject runs one pattern now; GET /api/stats summarises runs.
import { Hono } from 'hono';
import { z } from 'zod';
import { inject } from '../../../core/patterns/inject';
import { injectInput } from '../../../core/patterns/schemas';
import { statsSummary } from '../../../core/patterns/stats';
import { actorOf } from '../../../core/access/users';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

const statsQuery = z.object({
  containerId: z.uuid().optional(),
  patternId: z.uuid().optional(),
  versions: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});

export function injectRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.post('/inject', authorize('OPERATOR'), valid('json', injectInput), async (c) => {
    const result = await inject(deps, c.req.valid('json'), actorOf(c.get('user')!), { ratePerMinute: deps.config.MC_INJECT_RATE_LIMIT }, currentWorkspace(c));
    return c.json(result);
  });

  app.get('/stats', authorize('VIEWER'), valid('query', statsQuery), async (c) => {
    return c.json(await statsSummary(deps.sql, c.req.valid('query'), currentWorkspace(c)));
  });

  return app;
}

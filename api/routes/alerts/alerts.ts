// /api/alerts: what the workspace's runs raised (failures, approval timeouts); operators acknowledge.
import { Hono } from 'hono';
import { z } from 'zod';
import { acknowledgeAlert, listAlerts } from '../../../core/alerts/alerts';
import { actorOf } from '../../../core/access/users';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

const listQuery = z.object({
  open: z.enum(['true', 'false']).transform((v) => v === 'true').default(true),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export function alertRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.get('/', authorize('VIEWER'), valid('query', listQuery), async (c) => c.json({ alerts: await listAlerts(deps.sql, c.req.valid('query'), currentWorkspace(c)) }));
  app.post('/:id/ack', authorize('OPERATOR'), valid('param', z.object({ id: z.uuid('Not a valid alert id.') })), async (c) => {
    await acknowledgeAlert(deps.sql, c.req.valid('param').id, actorOf(c.get('user')!), currentWorkspace(c));
    return c.json({ acknowledged: true });
  });
  return app;
}

// /api/containers: admins manage the workspace's containers; everyone signed in reads them.
import { Hono } from 'hono';
import { z } from 'zod';
import { createContainer, deleteContainer, getContainer, listContainers, updateContainer } from '../../../core/patterns/containers';
import { containerInput, containerListQuery, containerPatch } from '../../../core/patterns/schemas';
import { actorOf } from '../../../core/access/users';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

const idParam = z.object({ id: z.uuid('Not a valid container id.') });

export function containerRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/', authorize('VIEWER'), valid('query', containerListQuery), async (c) => {
    const q = c.req.valid('query');
    const { items, total } = await listContainers(deps.sql, q, currentWorkspace(c));
    return c.json({ containers: items, total, limit: q.limit, offset: q.offset });
  });

  app.post('/', authorize('ADMIN'), valid('json', containerInput), async (c) => {
    const container = await createContainer(deps.sql, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c));
    return c.json({ container }, 201);
  });

  app.get('/:id', authorize('VIEWER'), valid('param', idParam), async (c) => {
    return c.json({ container: await getContainer(deps.sql, c.req.valid('param').id, currentWorkspace(c)) });
  });

  app.on(['PUT', 'PATCH'], '/:id', authorize('ADMIN'), valid('param', idParam), valid('json', containerPatch), async (c) => {
    const container = await updateContainer(deps.sql, c.req.valid('param').id, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c));
    return c.json({ container });
  });

  app.delete('/:id', authorize('ADMIN'), valid('param', idParam), async (c) => {
    await deleteContainer(deps.sql, c.req.valid('param').id, actorOf(c.get('user')!), currentWorkspace(c));
    return c.json({ deleted: true });
  });

  return app;
}

// /api/playbooks (seed 003): which event type starts which mission, once per
// event (core/collab/playbooks.ts). Operators make and change them.
import { Hono } from 'hono';
import { z } from 'zod';
import { actorOf } from '../../../core/access/users';
import { createPlaybook, deletePlaybook, getPlaybook, listPlaybooks, playbookPatchSchema, playbookSchema, updatePlaybook } from '../../../core/collab/playbooks';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

export function playbookRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const byId = valid('param', z.object({ id: z.uuid('Not a valid playbook id.') }));
  app.get('/', authorize('VIEWER'), async (c) => c.json({ playbooks: await listPlaybooks(deps.sql, currentWorkspace(c)) }));
  app.post('/', authorize('OPERATOR'), valid('json', playbookSchema), async (c) =>
    c.json({ playbook: await createPlaybook(deps.sql, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c)) }, 201));
  app.get('/:id', authorize('VIEWER'), byId, async (c) => c.json({ playbook: await getPlaybook(deps.sql, c.req.valid('param').id, currentWorkspace(c)) }));
  app.patch('/:id', authorize('OPERATOR'), byId, valid('json', playbookPatchSchema), async (c) =>
    c.json({ playbook: await updatePlaybook(deps.sql, c.req.valid('param').id, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c)) }));
  app.delete('/:id', authorize('OPERATOR'), byId, async (c) => {
    await deletePlaybook(deps.sql, c.req.valid('param').id, actorOf(c.get('user')!), currentWorkspace(c));
    return c.body(null, 204);
  });
  return app;
}

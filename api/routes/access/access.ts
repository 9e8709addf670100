// People and API tokens of the caller's workspace: /api/me for anyone signed
// in; users (the workspace's members) and tokens (those acting in it) are
// managed by its admins only. Anyone outside the workspace is not found.
import { Hono } from 'hono';
import { z } from 'zod';
import { createApiToken, expiryAfterDays, listApiTokens, revokeApiToken } from '../../../core/access/tokens';
import { actorOf, createUser, getUser, listUsers, updateUser } from '../../../core/access/users';
import { NotFoundError } from '../../../lib/errors';
import { ROLES } from '../../../lib/names';
import { text } from '../../../lib/text';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

const uuid = z.object({ id: z.uuid('Not a valid id.') });
const username = text().trim().min(1).max(64).regex(/^[A-Za-z0-9_.@-]+$/, 'Use letters, digits and . _ @ - only.');

export const newUserSchema = z.object({
  username,
  password: text().min(10, 'Passwords must be at least 10 characters long.').max(256),
  role: z.enum(ROLES),
  displayName: text().trim().max(120).optional(),
}).strict();

export const userPatchSchema = z.object({
  role: z.enum(ROLES).optional(),
  disabled: z.boolean().optional(),
  password: text().min(10, 'Passwords must be at least 10 characters long.').max(256).optional(),
}).strict();

export const newTokenSchema = z.object({
  name: text().trim().min(1).max(100),
  userId: z.uuid().optional(),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
}).strict();

export function accessRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/me', authorize('VIEWER'), (c) => c.json({ user: c.get('user'), workspace: c.get('workspace') }));

  app.get('/users', authorize('ADMIN'), async (c) => c.json({ users: await listUsers(deps.sql, currentWorkspace(c)) }));

  app.post('/users', authorize('ADMIN'), valid('json', newUserSchema), async (c) => {
    const user = await createUser(deps.sql, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c));
    return c.json({ user }, 201);
  });

  app.get('/users/:id', authorize('ADMIN'), valid('param', uuid), async (c) => {
    const user = await getUser(deps.sql, c.req.valid('param').id, currentWorkspace(c));
    if (!user) throw new NotFoundError('User');
    return c.json({ user });
  });

  app.patch('/users/:id', authorize('ADMIN'), valid('param', uuid), valid('json', userPatchSchema), async (c) => {
    const user = await updateUser(deps.sql, c.req.valid('param').id, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c));
    return c.json({ user });
  });

  app.get('/tokens', authorize('ADMIN'), async (c) => c.json({ tokens: await listApiTokens(deps.sql, {}, currentWorkspace(c)) }));

  // A token acts in the workspace it is made in: the creator's current one.
  app.post('/tokens', authorize('ADMIN'), valid('json', newTokenSchema), async (c) => {
    const body = c.req.valid('json');
    const me = c.get('user')!;
    const { token, apiToken } = await createApiToken(
      deps.sql,
      {
        userId: body.userId ?? me.id,
        name: body.name,
        expiresAt: expiryAfterDays(body.expiresInDays),
      },
      actorOf(me),
      currentWorkspace(c),
    );
    c.header('Cache-Control', 'no-store'); // the plaintext token is in this response only
    return c.json({ token, apiToken, note: 'The token is shown once; store it now.' }, 201);
  });

  app.delete('/tokens/:id', authorize('ADMIN'), valid('param', uuid), async (c) => {
    await revokeApiToken(deps.sql, c.req.valid('param').id, actorOf(c.get('user')!), currentWorkspace(c));
    return c.json({ revoked: true });
  });

  return app;
}

// /api/notifications: the caller's own notifications in the workspace the
// token acts in (newest first, keyset paging), marked read one by one or all
// at once, and the caller's preferences there (muted kinds, email).
import { Hono } from 'hono';
import { z } from 'zod';
import { getPreferences, listNotifications, markAllRead, markRead, NOTIFICATION_KINDS, setPreferences, unreadCount } from '../../../core/collab/notifications';
import { text } from '../../../lib/text';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';
import { idParam, nextCursor, pageQuery } from '../outreach/campaigns';

const kinds = z.array(z.enum(NOTIFICATION_KINDS)).max(NOTIFICATION_KINDS.length).transform((ks) => [...new Set(ks)]);
export const preferencesSchema = z.strictObject({
  muted: kinds.optional(),
  emailKinds: kinds.optional(),
  email: text().trim().toLowerCase().max(320, 'An email address is at most 320 characters.')
    .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'An email address looks like name@example.com.').nullable().optional(),
}).refine((p) => p.muted !== undefined || p.emailKinds !== undefined || p.email !== undefined, 'Change muted, emailKinds or email.');

const listQuery = z.object({ unread: z.enum(['true', 'false']).optional(), ...pageQuery });

export function notificationRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const me = (c: Parameters<typeof currentWorkspace>[0]) => ({ userId: c.get('user')!.id, ws: currentWorkspace(c) });

  app.get('/', authorize('VIEWER'), valid('query', listQuery), async (c) => {
    const q = c.req.valid('query');
    const { userId, ws } = me(c);
    const [notifications, unread] = await Promise.all([
      listNotifications(deps.sql, userId, ws, { unread: q.unread === 'true', before: q.before, limit: q.limit }), unreadCount(deps.sql, userId, ws),
    ]);
    return c.json({ notifications, unread, next: nextCursor(notifications, q.limit) });
  });
  app.get('/preferences', authorize('VIEWER'), async (c) => {
    const { userId, ws } = me(c);
    return c.json({ preferences: await getPreferences(deps.sql, userId, ws) });
  });
  app.put('/preferences', authorize('VIEWER'), valid('json', preferencesSchema), async (c) => {
    const { userId, ws } = me(c);
    return c.json({ preferences: await setPreferences(deps.sql, userId, ws, c.req.valid('json')) });
  });
  app.post('/read-all', authorize('VIEWER'), async (c) => {
    const { userId, ws } = me(c);
    return c.json({ marked: await markAllRead(deps.sql, userId, ws) });
  });
  app.post('/:id/read', authorize('VIEWER'), idParam('notification'), async (c) => {
    const { userId, ws } = me(c);
    return c.json({ notification: await markRead(deps.sql, userId, ws, c.req.valid('param').id) });
  });
  return app;
}

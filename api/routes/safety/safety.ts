// /api/settings/safety: the request's workspace's settings. Everyone signed in
// reads; only admins change, and every change is audited (safety.dry_run.toggled,
// safety.channel_toggled).
import { Hono } from 'hono';
import { z } from 'zod';
import { getSafety, setChannel, setDryRun } from '../../../core/safety/settings';
import { CHANNELS } from '../../../core/patterns/schemas';
import { actorOf } from '../../../core/access/users';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

const safetyPatch = z
  .object({
    dryRun: z.boolean().optional(),
    channels: z.partialRecord(z.enum(CHANNELS), z.boolean()).optional(),
  })
  .strict();

export function safetyRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/', authorize('VIEWER'), async (c) => c.json({ safety: await getSafety(deps.sql, currentWorkspace(c).id) }));

  app.on(['PUT', 'PATCH'], '/', authorize('ADMIN'), valid('json', safetyPatch), async (c) => {
    const body = c.req.valid('json');
    const actor = actorOf(c.get('user')!);
    const ws = currentWorkspace(c).id;
    for (const [channel, enabled] of Object.entries(body.channels ?? {})) {
      await setChannel(deps.sql, channel as (typeof CHANNELS)[number], enabled as boolean, actor, ws);
    }
    if (body.dryRun !== undefined) await setDryRun(deps.sql, body.dryRun, actor, ws);
    return c.json({ safety: await getSafety(deps.sql, ws) });
  });

  return app;
}

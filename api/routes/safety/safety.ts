// /api/settings/safety: the request's workspace's settings. Everyone signed in
// reads; only admins change, and every change is audited (safety.dry_run.toggled,
// safety.channel_toggled, safety.global_pause.enabled|disabled). Global pause and
// resume answer with how many runs and schedules they paused or resumed.
import { Hono } from 'hono';
import { z } from 'zod';
import { getSafety, setChannel, setDryRun } from '../../../core/safety/settings';
import { disableGlobalPause, enableGlobalPause, getGlobalPause } from '../../../core/safety/global-pause';
import { reasonText } from '../../../lib/text';
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

const globalPauseBody = z.object({ reason: reasonText().min(1, 'Say why everything is paused.') }).strict();
const globalResumeBody = z.object({}).strict();

export function safetyRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/', authorize('VIEWER'), async (c) => {
    const ws = currentWorkspace(c).id;
    const [safety, globalPause] = await Promise.all([getSafety(deps.sql, ws), getGlobalPause(deps.sql, ws)]);
    return c.json({ safety, globalPause });
  });

  app.post('/global-pause', authorize('ADMIN'), valid('json', globalPauseBody), async (c) =>
    c.json(await enableGlobalPause(deps.sql, deps.temporal, currentWorkspace(c), actorOf(c.get('user')!), c.req.valid('json').reason)));

  app.post('/global-resume', authorize('ADMIN'), valid('json', globalResumeBody), async (c) =>
    c.json(await disableGlobalPause(deps.sql, deps.temporal, currentWorkspace(c), actorOf(c.get('user')!))));

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

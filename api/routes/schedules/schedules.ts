// /api/schedules: every mission schedule with its next runs from Temporal;
// pause (with a note), unpause, run now, and backfill a past time range; all in the
// caller's workspace.
import { Hono } from 'hono';
import { z } from 'zod';
import { listMissions, getMission } from '../../../core/missions/missions';
import { backfillBody, backfillSchedule } from '../../../core/schedules/backfill';
import { describeSchedule, pauseSchedule, runScheduleNow } from '../../../core/schedules/schedules';
import { actorOf } from '../../../core/access/users';
import { NotFoundError } from '../../../lib/errors';
import { noteText } from '../../../lib/text';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import type { WorkspaceRef } from '../../../core/access/users';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

const idParam = z.object({ missionId: z.uuid('Not a valid mission id.') });
export const noteBody = z.object({ note: noteText().optional() }).strict();

const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

/** One page of mission schedules: definitions from PostgreSQL, state and next runs from Temporal. */
export async function listSchedules(deps: AppDeps, page: { limit: number; offset: number }, ws?: WorkspaceRef) {
  const { items, total } = await listMissions(deps.sql, { scheduled: true, ...page }, ws);
  const schedules = await Promise.all(
    items.map((m) => describeSchedule(deps.temporal, m).catch((err: Error) => ({ missionId: m.id, missionName: m.name, error: err.message }))),
  );
  return { schedules, total, ...page };
}

export function scheduleRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/', authorize('VIEWER'), valid('query', pageQuery), async (c) => c.json(await listSchedules(deps, c.req.valid('query'), currentWorkspace(c))));

  const scheduled = async (missionId: string, ws: WorkspaceRef) => {
    const mission = await getMission(deps.sql, missionId, ws);
    if (!mission.schedule) throw new NotFoundError('Schedule of this mission');
    return mission;
  };

  app.post('/:missionId/pause', authorize('OPERATOR'), valid('param', idParam), valid('json', noteBody), async (c) => {
    const ws = currentWorkspace(c);
    const mission = await scheduled(c.req.valid('param').missionId, ws);
    await pauseSchedule(deps.sql, deps.temporal, mission.id, true, c.req.valid('json').note, actorOf(c.get('user')!), ws);
    return c.json({ schedule: await describeSchedule(deps.temporal, mission) });
  });

  app.post('/:missionId/unpause', authorize('OPERATOR'), valid('param', idParam), valid('json', noteBody), async (c) => {
    const ws = currentWorkspace(c);
    const mission = await scheduled(c.req.valid('param').missionId, ws);
    await pauseSchedule(deps.sql, deps.temporal, mission.id, false, c.req.valid('json').note, actorOf(c.get('user')!), ws);
    return c.json({ schedule: await describeSchedule(deps.temporal, mission) });
  });

  app.post('/:missionId/run', authorize('OPERATOR'), valid('param', idParam), async (c) => {
    const ws = currentWorkspace(c);
    const mission = await scheduled(c.req.valid('param').missionId, ws);
    // A run of its own, started at once (not Temporal's trigger, which skips while a run is open).
    const run = await runScheduleNow(deps.sql, deps.temporal, mission.id, actorOf(c.get('user')!), ws);
    return c.json({ triggered: true, ...run }, 202);
  });

  // Temporal's schedule backfill: the runs the schedule would have started in [start, end], audited once.
  app.post('/:missionId/backfill', authorize('OPERATOR'), valid('param', idParam), valid('json', backfillBody), async (c) => {
    const { start, end, overlap } = c.req.valid('json');
    const done = await backfillSchedule(deps.sql, deps.temporal, c.req.valid('param').missionId, { start: new Date(start), end: new Date(end), overlap },
      actorOf(c.get('user')!), undefined, currentWorkspace(c));
    return c.json({ backfilled: true, ...done, runs: done.scheduledTimes.length }, 202);
  });

  return app;
}

// Running a mission: /api/missions/:id/execute, pause, resume, runs, logs,
// its schedule, and the signed trigger endpoint for outside systems. Each route but
// the trigger acts in the caller's workspace; the trigger's mission names its own.
import { Hono } from 'hono';
import { z } from 'zod';
import { setMissionPaused } from '../../../core/missions/actions';
import { executeInput, scheduleInput } from '../../../core/missions/schemas';
import { jsonValue } from '../../../core/patterns/schemas';
import { executeMission } from '../../../core/runs/start';
import { listRuns } from '../../../core/runs/visibility';
import { getMission, rotateTriggerSecret, updateMission } from '../../../core/missions/missions';
import { runTimeline } from '../../../core/runs/timeline';
import { describeSchedule } from '../../../core/schedules/schedules';
import { applyScheduleAfterCommit } from '../../../core/schedules/sync';
import { deliverTrigger, IDEMPOTENCY_HEADER, SIGNATURE_HEADER } from '../../../core/missions/triggers';
import { actorOf } from '../../../core/access/users';
import { NotFoundError } from '../../../lib/errors';
import { MISSION_STATUSES, MISSION_TRIGGERS } from '../../../lib/names';
import { reasonText, text } from '../../../lib/text';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

const idParam = z.object({ id: z.uuid('Not a valid mission id.') });
const reasonBody = z.object({ reason: reasonText().optional() }).strict();
const runInput = z.object({ input: jsonValue });
export const runListQuery = z.object({
  status: z.enum(MISSION_STATUSES).optional(),
  trigger: z.enum(MISSION_TRIGGERS).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  before: z.iso.datetime({ offset: true }).optional(),
});

export function missionRunRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.post('/:id/execute', authorize('OPERATOR'), valid('param', idParam), valid('json', executeInput), async (c) => {
    const run = await executeMission(deps.sql, deps.temporal, {
      missionId: c.req.valid('param').id, trigger: 'manual', actor: actorOf(c.get('user')!), input: c.req.valid('json').input,
    }, currentWorkspace(c));
    return c.json(run, 201);
  });

  app.post('/:id/pause', authorize('OPERATOR'), valid('param', idParam), valid('json', reasonBody), async (c) => {
    const result = await setMissionPaused(
      deps.sql, deps.temporal, c.req.valid('param').id, true, actorOf(c.get('user')!), c.req.valid('json').reason, currentWorkspace(c),
    );
    return c.json({ paused: true, ...result });
  });

  app.post('/:id/resume', authorize('OPERATOR'), valid('param', idParam), async (c) => {
    const result = await setMissionPaused(deps.sql, deps.temporal, c.req.valid('param').id, false, actorOf(c.get('user')!), undefined, currentWorkspace(c));
    return c.json({ paused: false, ...result });
  });

  app.get('/:id/runs', authorize('VIEWER'), valid('param', idParam), valid('query', runListQuery), async (c) => {
    const { id } = c.req.valid('param');
    await getMission(deps.sql, id, currentWorkspace(c));
    const q = c.req.valid('query');
    return c.json(await listRuns(deps.temporal, { missionId: id, status: q.status, trigger: q.trigger, before: q.before ? new Date(q.before) : undefined }, q.limit));
  });

  app.get('/:id/logs', authorize('VIEWER'), valid('param', idParam), valid('query', z.object({ workflowId: text().max(200).optional() })), async (c) => {
    const { id } = c.req.valid('param');
    await getMission(deps.sql, id, currentWorkspace(c));
    let workflowId = c.req.valid('query').workflowId;
    if (workflowId && !workflowId.startsWith(`mission-${id}-`)) throw new NotFoundError('Run of this mission');
    workflowId ??= (await listRuns(deps.temporal, { missionId: id }, 1)).runs[0]?.workflowId;
    if (!workflowId) throw new NotFoundError('Run of this mission');
    return c.json({ workflowId, ...(await runTimeline(deps.sql, deps.temporal, workflowId)) });
  });

  app.get('/:id/schedule', authorize('VIEWER'), valid('param', idParam), async (c) => {
    const mission = await getMission(deps.sql, c.req.valid('param').id, currentWorkspace(c));
    if (!mission.schedule) throw new NotFoundError('Schedule of this mission');
    return c.json({ schedule: await describeSchedule(deps.temporal, mission) });
  });

  app.put('/:id/schedule', authorize('OPERATOR'), valid('param', idParam), valid('json', scheduleInput), async (c) => {
    const mission = await updateMission(deps.sql, c.req.valid('param').id, { schedule: c.req.valid('json') }, actorOf(c.get('user')!), undefined, currentWorkspace(c));
    await applyScheduleAfterCommit(deps.sql, deps.temporal, mission.id, `The schedule of "${mission.name}" is saved.`);
    return c.json({ schedule: await describeSchedule(deps.temporal, mission) });
  });

  app.delete('/:id/schedule', authorize('OPERATOR'), valid('param', idParam), async (c) => {
    const mission = await updateMission(deps.sql, c.req.valid('param').id, { schedule: null }, actorOf(c.get('user')!), undefined, currentWorkspace(c));
    await applyScheduleAfterCommit(deps.sql, deps.temporal, mission.id, `The schedule of "${mission.name}" is deleted in Mission Control.`);
    return c.json({ deleted: true });
  });

  app.post('/:id/trigger-secret', authorize('OPERATOR'), valid('param', idParam), async (c) => {
    const secret = await rotateTriggerSecret(deps.sql, c.req.valid('param').id, actorOf(c.get('user')!), currentWorkspace(c));
    c.header('Cache-Control', 'no-store'); // the secret is in this response only
    return c.json({ triggerSecret: secret, note: 'The trigger secret is shown once; store it now. The previous one no longer works.' });
  });

  // Outside systems: no bearer token; the HMAC signature is the credential.
  app.post('/:id/trigger', authorize('public'), valid('param', idParam), async (c) => {
    // The body becomes the run's input: held to the rules of any run input (the edge has parsed it already).
    const body = await c.req.text();
    if (body.trim()) runInput.parse({ input: JSON.parse(body) });
    const result = await deliverTrigger(deps.sql, deps.temporal, {
      missionId: c.req.valid('param').id,
      body,
      signature: c.req.header(SIGNATURE_HEADER),
      idempotencyKey: c.req.header(IDEMPOTENCY_HEADER),
    });
    return c.json(result, result.duplicate ? 200 : 201);
  });

  return app;
}

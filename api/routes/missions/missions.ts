// /api/missions: definitions and their tasks (seed 000). Operators create,
// change and run missions; viewers read. A schedule in the body is committed
// with the mission, then mirrored to the Temporal Schedule mission-<id>; if
// Temporal is down the answer is a 503 saying so, and the reconciler catches up.
// Everything here is in the caller's workspace.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { missionInput, missionListQuery, missionPatch, taskInput } from '../../../core/missions/schemas';
import { removeMission } from '../../../core/missions/actions';
import { createMission, getMission, listMissions, taskToInput, updateMission, type Mission } from '../../../core/missions/missions';
import { applyScheduleAfterCommit } from '../../../core/schedules/sync';
import { actorOf } from '../../../core/access/users';
import { NotFoundError } from '../../../lib/errors';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

const idParam = z.object({ id: z.uuid('Not a valid mission id.') });
const taskParam = idParam.extend({ taskId: z.uuid('Not a valid task id.') });

export function missionRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  /** After the commit: the schedule (if any changed) follows in Temporal. */
  const sync = async (mission: Mission, details: Record<string, unknown> = {}) => {
    await applyScheduleAfterCommit(deps.sql, deps.temporal, mission.id, `Mission "${mission.name}" is saved.`, details);
    return mission;
  };

  app.get('/', authorize('VIEWER'), valid('query', missionListQuery), async (c) => {
    const q = c.req.valid('query');
    const { items, total } = await listMissions(deps.sql, q, currentWorkspace(c));
    return c.json({ missions: items, total, limit: q.limit, offset: q.offset });
  });

  app.post('/', authorize('OPERATOR'), valid('json', missionInput), async (c) => {
    const { mission, triggerSecret } = await createMission(deps.sql, c.req.valid('json'), actorOf(c.get('user')!), undefined, currentWorkspace(c));
    // The secret is shown once: a 503 carries it too.
    await sync(mission, triggerSecret ? { triggerSecret } : {});
    if (triggerSecret) c.header('Cache-Control', 'no-store'); // the secret is in this response only
    return c.json({ mission, ...(triggerSecret ? { triggerSecret, note: 'The trigger secret is shown once; store it now.' } : {}) }, 201);
  });

  app.get('/:id', authorize('VIEWER'), valid('param', idParam), async (c) => c.json({ mission: await getMission(deps.sql, c.req.valid('param').id, currentWorkspace(c)) }));

  app.on(['PUT', 'PATCH'], '/:id', authorize('OPERATOR'), valid('param', idParam), valid('json', missionPatch), async (c) => {
    const mission = await sync(await updateMission(deps.sql, c.req.valid('param').id, c.req.valid('json'), actorOf(c.get('user')!), undefined, currentWorkspace(c)));
    return c.json({ mission });
  });

  app.delete('/:id', authorize('OPERATOR'), valid('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    await removeMission(deps.sql, deps.temporal, id, actorOf(c.get('user')!), currentWorkspace(c));
    return c.json({ deleted: true });
  });

  // ---- tasks (seed 000: add, update, remove) -------------------------------------

  const saveTasks = async (c: Context<AppEnv>, id: string, edit: (tasks: ReturnType<typeof taskToInput>[]) => ReturnType<typeof taskToInput>[]) => {
    const ws = currentWorkspace(c);
    const mission = await getMission(deps.sql, id, ws);
    return sync(await updateMission(deps.sql, id, { tasks: edit(mission.tasks!.map(taskToInput)) }, actorOf(c.get('user')!), undefined, ws));
  };

  app.post('/:id/tasks', authorize('OPERATOR'), valid('param', idParam), valid('json', taskInput), async (c) => {
    const task = c.req.valid('json');
    const mission = await saveTasks(c, c.req.valid('param').id, (tasks) => [...tasks, { ...task, id: undefined }]);
    const created = mission.tasks!.find((t) => t.name.toLowerCase() === task.name.toLowerCase());
    return c.json({ task: created, mission }, 201);
  });

  app.on(['PUT', 'PATCH'], '/:id/tasks/:taskId', authorize('OPERATOR'), valid('param', taskParam), valid('json', taskInput), async (c) => {
    const { id, taskId } = c.req.valid('param');
    const mission = await saveTasks(c, id, (tasks) => {
      if (!tasks.some((t) => t.id === taskId)) throw new NotFoundError('Task');
      return tasks.map((t) => (t.id === taskId ? { ...c.req.valid('json'), id: taskId } : t));
    });
    return c.json({ task: mission.tasks!.find((t) => t.id === taskId), mission });
  });

  app.delete('/:id/tasks/:taskId', authorize('OPERATOR'), valid('param', taskParam), async (c) => {
    const { id, taskId } = c.req.valid('param');
    const mission = await saveTasks(c, id, (tasks) => {
      if (!tasks.some((t) => t.id === taskId)) throw new NotFoundError('Task');
      return tasks.filter((t) => t.id !== taskId);
    });
    return c.json({ deleted: true, mission });
  });

  return app;
}

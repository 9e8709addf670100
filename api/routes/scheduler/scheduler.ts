// /api/scheduler (seed 002 §8): the scheduled jobs (missions with a schedule; `:id` is the mission id, as in
// /api/schedules/:missionId) with their next and last firing, changing one (its schedule's own code), firing
// one now through Temporal's schedule trigger, and the record of every firing with its outcome. All in the
// caller's workspace.
import { Hono } from 'hono';
import { z } from 'zod';
import { actorOf } from '../../../core/access/users';
import { getJob, jobPatch, listJobs, triggerJob, updateJob } from '../../../core/schedules/scheduler-jobs';
import { FIRING_STATUSES, listFirings } from '../../../core/schedules/scheduler-runs';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

const idParam = z.object({ id: z.uuid('Not a valid job id (a job is a mission: its id).') });
const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
const runsQuery = z.object({
  jobId: z.uuid('jobId is the id of a job (its mission).').optional(),
  status: z.enum(FIRING_STATUSES, { message: `status is one of ${FIRING_STATUSES.join(', ')}.` }).optional(),
  before: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
/** Run now takes no options: the job's own overlap policy applies. */
const runNowBody = z.object({}).strict();

export function schedulerRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/jobs', authorize('VIEWER'), valid('query', pageQuery), async (c) =>
    c.json(await listJobs(deps.sql, deps.temporal, c.req.valid('query'), currentWorkspace(c))));

  app.get('/jobs/:id', authorize('VIEWER'), valid('param', idParam), async (c) =>
    c.json(await getJob(deps.sql, deps.temporal, c.req.valid('param').id, currentWorkspace(c))));

  app.patch('/jobs/:id', authorize('OPERATOR'), valid('param', idParam), valid('json', jobPatch), async (c) =>
    c.json(await updateJob(deps.sql, deps.temporal, c.req.valid('param').id, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c))));

  // Accepted by Temporal: the firing's record follows once its run starts (or, skipped, once the reconciler sees it).
  app.post('/jobs/:id/run-now', authorize('OPERATOR'), valid('param', idParam), valid('json', runNowBody), async (c) => {
    const done = await triggerJob(deps.sql, deps.temporal, c.req.valid('param').id, actorOf(c.get('user')!), currentWorkspace(c));
    return c.json({ triggered: true, ...done }, 202);
  });

  app.get('/runs', authorize('VIEWER'), valid('query', runsQuery), async (c) => {
    const q = c.req.valid('query');
    const runs = await listFirings(deps.sql, q, currentWorkspace(c));
    return c.json({ runs, next: runs.length === q.limit ? Number(runs.at(-1)!.id) : null });
  });

  return app;
}

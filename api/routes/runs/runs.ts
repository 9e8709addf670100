// /api/runs: mission runs as Temporal reports them (search attributes,
// describe, the progress query), their logs, pause/resume/cancel, and
// approval decisions (admins only, seed 002).
import { Hono } from 'hono';
import { z } from 'zod';
import { pendingApprovals } from '../../../core/runs/approvals';
import { decide } from '../../../core/runs/decisions';
import { signalRun } from '../../../core/runs/control';
import { describeRun } from '../../../core/runs/detail';
import { listRuns } from '../../../core/runs/visibility';
import { runTimeline } from '../../../core/runs/timeline';
import { actorOf } from '../../../core/access/users';
import { MISSION_STATUSES, MISSION_TRIGGERS } from '../../../lib/names';
import { DECISION_ACTIONS } from '../../../workflows/messages';
import type { AppDeps, AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';
import { jsonValue } from '../../../core/patterns/schemas';

export const workflowParam = z.object({
  workflowId: z.string().regex(/^mission-[0-9a-f-]{36}-[\w:.-]{1,100}$/, 'Not a mission run id (mission-<missionId>-<suffix>).'),
});
const listQuery = z.object({
  missionId: z.uuid().optional(),
  containerId: z.uuid().optional(),
  status: z.enum(MISSION_STATUSES).optional(),
  trigger: z.enum(MISSION_TRIGGERS).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  before: z.iso.datetime({ offset: true }).optional(),
});
const reasonBody = z.object({ reason: z.string().trim().max(500).optional() }).strict();
export const decisionBody = z
  .object({
    taskId: z.uuid('Not a valid task id.'),
    action: z.enum(DECISION_ACTIONS),
    notes: z.string().trim().max(5000).optional(),
    output: jsonValue.optional(),
  })
  .strict();

export function runRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/runs', authorize('VIEWER'), valid('query', listQuery), async (c) => {
    const q = c.req.valid('query');
    return c.json(await listRuns(deps.temporal, { ...q, before: q.before ? new Date(q.before) : undefined }, q.limit));
  });

  app.get('/runs/:workflowId', authorize('VIEWER'), valid('param', workflowParam), async (c) => {
    return c.json(await describeRun(deps.temporal, c.req.valid('param').workflowId));
  });

  app.get('/runs/:workflowId/logs', authorize('VIEWER'), valid('param', workflowParam), async (c) => {
    return c.json(await runTimeline(deps.sql, deps.temporal, c.req.valid('param').workflowId));
  });

  for (const what of ['pause', 'resume', 'cancel'] as const) {
    app.post(`/runs/:workflowId/${what}`, authorize('OPERATOR'), valid('param', workflowParam), valid('json', reasonBody), async (c) => {
      await signalRun(deps.sql, deps.temporal, c.req.valid('param').workflowId, what, actorOf(c.get('user')!), c.req.valid('json').reason);
      return c.json({ requested: what }, 202);
    });
  }

  app.post('/runs/:workflowId/decisions', authorize('ADMIN'), valid('param', workflowParam), valid('json', decisionBody), async (c) => {
    const task = await decide(deps.temporal, c.req.valid('param').workflowId, c.req.valid('json'), c.get('user')!.username);
    return c.json({ task });
  });

  app.get('/approvals', authorize('VIEWER'), valid('query', z.object({ missionId: z.uuid().optional() })), async (c) => {
    return c.json({ approvals: await pendingApprovals(deps.temporal, { missionId: c.req.valid('query').missionId }) });
  });

  return app;
}

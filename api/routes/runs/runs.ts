// /api/runs: mission runs as Temporal reports them (search attributes,
// describe, the progress query), their logs, pause/resume/cancel, and
// approval decisions (admins only, seed 002).
import { Hono } from 'hono';
import { z } from 'zod';
import { pendingApprovals } from '../../../core/runs/approvals';
import { decide } from '../../../core/runs/decisions';
import { controlRun } from '../../../core/runs/control';
import { describeRun } from '../../../core/runs/detail';
import { taskOutput } from '../../../core/runs/outputs';
import { taskReplay } from '../../../core/runs/replay';
import { listRuns } from '../../../core/runs/visibility';
import { runTimeline } from '../../../core/runs/timeline';
import { actorOf } from '../../../core/access/users';
import { MISSION_STATUSES, MISSION_TRIGGERS } from '../../../lib/names';
import { notesText, reasonText, text } from '../../../lib/text';
import { DECISION_ACTIONS } from '../../../workflows/messages';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';
import { jsonValue } from '../../../core/patterns/schemas';

export const workflowParam = z.object({
  workflowId: text().regex(/^mission-[0-9a-f-]{36}-[\w:.-]{1,100}$/, 'Not a mission run id (mission-<missionId>-<suffix>).'),
});
const listQuery = z.object({
  missionId: z.uuid().optional(),
  containerId: z.uuid().optional(),
  status: z.enum(MISSION_STATUSES).optional(),
  trigger: z.enum(MISSION_TRIGGERS).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  before: z.iso.datetime({ offset: true }).optional(),
});
export const reasonBody = z.object({ reason: reasonText().optional() }).strict();
export const decisionBody = z
  .object({
    taskId: z.uuid('Not a valid task id.'),
    action: z.enum(DECISION_ACTIONS),
    notes: notesText().optional(),
    output: jsonValue.optional(),
  })
  .strict();

export function runRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/runs', authorize('VIEWER'), valid('query', listQuery), async (c) => {
    const q = c.req.valid('query');
    return c.json(await listRuns(deps.temporal, { ...q, before: q.before ? new Date(q.before) : undefined, workspace: currentWorkspace(c) }, q.limit));
  });

  app.get('/runs/:workflowId', authorize('VIEWER'), valid('param', workflowParam), async (c) => {
    return c.json(await describeRun(deps.temporal, c.req.valid('param').workflowId, {}, currentWorkspace(c)));
  });

  // A task's whole output: the run itself keeps only a reference and a preview of a big one.
  app.get('/runs/:workflowId/tasks/:taskId/output', authorize('VIEWER'), valid('param', workflowParam.extend({ taskId: z.uuid('Not a valid task id.') })), valid('query', z.object({ original: z.enum(['true', 'false']).optional() })), async (c) => {
    const { workflowId, taskId } = c.req.valid('param');
    const detail = await describeRun(deps.temporal, workflowId, {}, currentWorkspace(c));
    const { output, bytes } = await taskOutput(deps.sql, detail.progress, workflowId, taskId, c.req.valid('query').original === 'true' ? 'original' : 'output');
    return c.json({ workflowId, taskId, bytes, output });
  });

  // A task's whole story from the history and the records, in time order (core/runs/replay.ts).
  app.get('/runs/:workflowId/tasks/:taskId/replay', authorize('VIEWER'), valid('param', workflowParam.extend({ taskId: z.uuid('Not a valid task id.') })), async (c) => {
    const { workflowId, taskId } = c.req.valid('param');
    return c.json(await taskReplay(deps.sql, deps.temporal, workflowId, taskId, currentWorkspace(c)));
  });

  app.get('/runs/:workflowId/logs', authorize('VIEWER'), valid('param', workflowParam), async (c) => {
    return c.json(await runTimeline(deps.sql, deps.temporal, c.req.valid('param').workflowId, currentWorkspace(c)));
  });

  for (const what of ['pause', 'resume', 'cancel'] as const) {
    app.post(`/runs/:workflowId/${what}`, authorize('OPERATOR'), valid('param', workflowParam), valid('json', reasonBody), async (c) => {
      const { workflowId } = c.req.valid('param');
      const state = await controlRun(deps.sql, deps.temporal, workflowId, what, actorOf(c.get('user')!), c.req.valid('json').reason, currentWorkspace(c));
      // Pause and resume answer with the run's state once applied; a cancellation is requested and finishes on its own.
      return state ? c.json({ done: what, state }) : c.json({ requested: what }, 202);
    });
  }

  app.post('/runs/:workflowId/decisions', authorize('ADMIN'), valid('param', workflowParam), valid('json', decisionBody), async (c) => {
    const task = await decide(deps.sql, deps.temporal, c.req.valid('param').workflowId, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c));
    return c.json({ task });
  });

  app.get('/approvals', authorize('VIEWER'), valid('query', z.object({ missionId: z.uuid().optional() })), async (c) => {
    return c.json({ approvals: await pendingApprovals(deps.sql, deps.temporal, { missionId: c.req.valid('query').missionId }, currentWorkspace(c)) });
  });

  return app;
}

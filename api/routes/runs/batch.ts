// POST /api/runs/cancel: cancel up to 100 runs in one request, with one
// answer per run (operators and admins; each cancel audited once).
import { Hono } from 'hono';
import { z } from 'zod';
import { actorOf } from '../../../core/access/users';
import { cancelRuns, MAX_BATCH_CANCEL } from '../../../core/runs/batch';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';
import { reasonBody, workflowParam } from './runs';

export const batchCancelBody = z
  .object({
    workflowIds: z
      .array(workflowParam.shape.workflowId)
      .min(1, 'List at least one run (workflowIds).')
      .max(MAX_BATCH_CANCEL, `At most ${MAX_BATCH_CANCEL} runs can be cancelled at once.`),
  })
  .extend(reasonBody.shape)
  .strict();

export function batchRunRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.post('/runs/cancel', authorize('OPERATOR'), valid('json', batchCancelBody), async (c) => {
    const { workflowIds, reason } = c.req.valid('json');
    const results = await cancelRuns(deps.sql, deps.temporal, workflowIds, actorOf(c.get('user')!), reason, currentWorkspace(c));
    const tally = (o: string) => results.filter((r) => r.outcome === o).length;
    return c.json({ results, requested: tally('cancel_requested'), alreadyEnded: tally('already_ended'), notFound: tally('not_found') });
  });

  return app;
}

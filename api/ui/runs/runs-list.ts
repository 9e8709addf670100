// The runs list (/runs): filters, keyset paging by start time.
import { Hono } from 'hono';
import { z } from 'zod';
import { listRuns } from '../../../core/runs/visibility';
import { MISSION_STATUSES, MISSION_TRIGGERS } from '../../../lib/names';
import type { AppDeps, AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';

const empty = (v: unknown) => (v === '' ? undefined : v);
const listQuery = z.object({
  missionId: z.preprocess(empty, z.uuid().optional()),
  containerId: z.preprocess(empty, z.uuid().optional()),
  status: z.preprocess(empty, z.enum(MISSION_STATUSES).optional()),
  trigger: z.preprocess(empty, z.enum(MISSION_TRIGGERS).optional()),
  before: z.preprocess(empty, z.iso.datetime({ offset: true }).optional()),
});

export function runListPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  app.get('/runs', authorize('VIEWER'), valid('query', listQuery), async (c) => {
    const q = c.req.valid('query');
    const page = await listRuns(deps.temporal, { ...q, before: q.before ? new Date(q.before) : undefined }, 50);
    return renderer.respond(c, { page: 'pages/runs/runs', partial: 'partials/runs/runs-table' }, { title: 'Runs', page, filters: q, statuses: MISSION_STATUSES });
  });

  return app;
}

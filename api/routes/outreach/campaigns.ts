// /api/campaigns: the outreach pipeline's campaigns (seed 002), newest first
// with keyset paging, their activation and their numbers. Operators create and
// change them; every member reads. Another workspace's campaign is not found.
import { Hono } from 'hono';
import { z } from 'zod';
import { actorOf } from '../../../core/access/users';
import { activateCampaign, createCampaign, getCampaign, listCampaigns, updateCampaign } from '../../../core/outreach/campaigns';
import { campaignMetrics } from '../../../core/outreach/metrics';
import { CAMPAIGN_STATUSES, campaignCreateSchema, campaignPatchSchema } from '../../../core/outreach/schemas';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

/** `?limit=&before=<id of the last row seen>`: a page, and the `next` cursor (null on the last page). */
export const pageQuery = {
  before: z.uuid('before is the id of the last row of the previous page.').optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
};
export const nextCursor = <T extends { id: string }>(rows: T[], limit: number) => (rows.length === limit ? rows.at(-1)!.id : null);
export const idParam = (what: string) => valid('param', z.object({ id: z.uuid(`Not a valid ${what} id.`) }));

const listQuery = z.object({ status: z.enum(CAMPAIGN_STATUSES).optional(), ...pageQuery });

export function campaignRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const byId = idParam('campaign');
  app.get('/', authorize('VIEWER'), valid('query', listQuery), async (c) => {
    const q = c.req.valid('query');
    const campaigns = await listCampaigns(deps.sql, q, currentWorkspace(c));
    return c.json({ campaigns, next: nextCursor(campaigns, q.limit) });
  });
  app.post('/', authorize('OPERATOR'), valid('json', campaignCreateSchema), async (c) =>
    c.json({ campaign: await createCampaign(deps.sql, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c)) }, 201));
  app.get('/:id', authorize('VIEWER'), byId, async (c) => c.json({ campaign: await getCampaign(deps.sql, c.req.valid('param').id, currentWorkspace(c)) }));
  app.patch('/:id', authorize('OPERATOR'), byId, valid('json', campaignPatchSchema), async (c) =>
    c.json({ campaign: await updateCampaign(deps.sql, c.req.valid('param').id, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c)) }));
  app.post('/:id/activate', authorize('OPERATOR'), byId, async (c) =>
    c.json({ campaign: await activateCampaign(deps.sql, c.req.valid('param').id, actorOf(c.get('user')!), currentWorkspace(c)) }));
  app.get('/:id/metrics', authorize('VIEWER'), byId, async (c) =>
    c.json({ metrics: await campaignMetrics(deps.sql, c.req.valid('param').id, currentWorkspace(c)) }));
  return app;
}

// /api/leads: a campaign's leads (seed 002), filtered by campaign, status and
// effective score, newest first with keyset paging. Operators create and change
// them; the status route takes each move of LEAD_TRANSITIONS from the role it
// names (closers work approved leads); only admins override a score.
import { Hono } from 'hono';
import { z } from 'zod';
import { actorOf } from '../../../core/access/users';
import { createLead, getLead, listLeads, moveLead, overrideScore, updateLead } from '../../../core/outreach/leads';
import { LEAD_SCORES, LEAD_STATUSES, leadCreateSchema, leadPatchSchema, leadStatusSchema, scoreOverrideSchema } from '../../../core/outreach/schemas';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';
import { idParam, nextCursor, pageQuery } from './campaigns';

const listQuery = z.object({
  campaignId: z.uuid('campaignId must be a campaign id (a UUID).').optional(),
  status: z.enum(LEAD_STATUSES).optional(),
  score: z.enum(LEAD_SCORES).optional(),
  ...pageQuery,
});

export function leadRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const byId = idParam('lead');
  app.get('/', authorize('VIEWER'), valid('query', listQuery), async (c) => {
    const q = c.req.valid('query');
    const leads = await listLeads(deps.sql, q, currentWorkspace(c));
    return c.json({ leads, next: nextCursor(leads, q.limit) });
  });
  // The same sourceKey is the same lead: 201 when this request made it, 200 with the one made before.
  app.post('/', authorize('OPERATOR'), valid('json', leadCreateSchema), async (c) => {
    const { lead, created } = await createLead(deps.sql, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c));
    return c.json({ lead, created }, created ? 201 : 200);
  });
  app.get('/:id', authorize('VIEWER'), byId, async (c) => c.json({ lead: await getLead(deps.sql, c.req.valid('param').id, currentWorkspace(c)) }));
  app.patch('/:id', authorize('OPERATOR'), byId, valid('json', leadPatchSchema), async (c) =>
    c.json({ lead: await updateLead(deps.sql, c.req.valid('param').id, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c)) }));
  // The least role of the move itself is checked against LEAD_TRANSITIONS (core/outreach/leads.ts).
  app.post('/:id/status', authorize('CLOSER'), byId, valid('json', leadStatusSchema), async (c) => {
    const ws = currentWorkspace(c);
    return c.json({ lead: await moveLead(deps.sql, c.req.valid('param').id, c.req.valid('json'), { ...actorOf(c.get('user')!), role: ws.role }, ws) });
  });
  app.post('/:id/score-override', authorize('ADMIN'), byId, valid('json', scoreOverrideSchema), async (c) => {
    const ws = currentWorkspace(c);
    return c.json({ lead: await overrideScore(deps.sql, c.req.valid('param').id, c.req.valid('json'), { ...actorOf(c.get('user')!), role: ws.role }, ws) });
  });
  return app;
}

// /api/drafts: messages for a campaign and its leads (seed 002), each change a
// new immutable version, with their versions, a diff between any two, and the
// five decisions (admins only, on a draft waiting for approval; a draft a
// mission task wrote is decided at that task's gate: core/outreach/gate.ts).
// Operators write and submit drafts; every member reads.
import { Hono } from 'hono';
import { z } from 'zod';
import { actorOf } from '../../../core/access/users';
import { listDecisions } from '../../../core/outreach/decisions';
import { decideDraftAnywhere } from '../../../core/outreach/gate';
import { createDraft, diffDraftVersions, getDraft, listDrafts, listDraftVersions, submitDraft, updateDraft } from '../../../core/outreach/drafts';
import { DRAFT_STATUSES, decisionSchemas, draftCreateSchema, draftPatchSchema, versionDiffQuery, type DraftDecisionAction } from '../../../core/outreach/schemas';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';
import { idParam, nextCursor, pageQuery } from './campaigns';

const listQuery = z.object({
  campaignId: z.uuid('campaignId must be a campaign id (a UUID).').optional(),
  leadId: z.uuid('leadId must be a lead id (a UUID).').optional(),
  status: z.enum(DRAFT_STATUSES).optional(),
  ...pageQuery,
});

/** Each decision's path, as seed 002 names it. */
const DECISION_PATHS: Record<DraftDecisionAction, string> = {
  APPROVE: 'approve',
  REJECT: 'reject',
  REQUEST_CHANGES: 'request-changes',
  EDIT_INLINE_APPROVE: 'edit-inline-approve',
  APPROVE_WITH_NOTES: 'approve-with-notes',
};

export function draftRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const byId = idParam('draft');
  app.get('/', authorize('VIEWER'), valid('query', listQuery), async (c) => {
    const q = c.req.valid('query');
    const drafts = await listDrafts(deps.sql, q, currentWorkspace(c));
    return c.json({ drafts, next: nextCursor(drafts, q.limit) });
  });
  // The same sourceKey is the same draft: 201 when this request made it, 200 with the one made before.
  app.post('/', authorize('OPERATOR'), valid('json', draftCreateSchema), async (c) => {
    const { draft, created } = await createDraft(deps.sql, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c));
    return c.json({ draft, created }, created ? 201 : 200);
  });
  app.get('/:id', authorize('VIEWER'), byId, async (c) => {
    const draft = await getDraft(deps.sql, c.req.valid('param').id, currentWorkspace(c));
    return c.json({ draft, decisions: await listDecisions(deps.sql, draft) });
  });
  app.patch('/:id', authorize('OPERATOR'), byId, valid('json', draftPatchSchema), async (c) =>
    c.json({ draft: await updateDraft(deps.sql, c.req.valid('param').id, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c)) }));
  app.get('/:id/versions', authorize('VIEWER'), byId, async (c) =>
    c.json({ versions: await listDraftVersions(deps.sql, c.req.valid('param').id, currentWorkspace(c)) }));
  app.get('/:id/diff', authorize('VIEWER'), byId, valid('query', versionDiffQuery), async (c) => {
    return c.json({ diff: await diffDraftVersions(deps.sql, c.req.valid('param').id, c.req.valid('query'), currentWorkspace(c)) });
  });
  app.post('/:id/submit', authorize('OPERATOR'), byId, async (c) =>
    c.json({ draft: await submitDraft(deps.sql, c.req.valid('param').id, actorOf(c.get('user')!), currentWorkspace(c)) }));
  for (const action of Object.keys(DECISION_PATHS) as DraftDecisionAction[]) {
    app.post(`/:id/${DECISION_PATHS[action]}`, authorize('ADMIN'), byId, valid('json', decisionSchemas[action]), async (c) => {
      const ws = currentWorkspace(c);
      const result = await decideDraftAnywhere(deps.sql, deps.temporal, c.req.valid('param').id, action, c.req.valid('json'), { ...actorOf(c.get('user')!), role: ws.role }, ws);
      return c.json(result);
    });
  }
  return app;
}

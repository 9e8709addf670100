// /api/tasks: the task board's work items (seed 002's tasks), newest first with
// keyset paging, filtered by column and by what they are about. Operators
// create, change and move them between BACKLOG, DOING and NEEDS_APPROVAL; only
// an admin sets DONE or reopens a done item (core/board/work-items.ts). An
// item's replay is the replay of the run task it names.
import { Hono } from 'hono';
import { z } from 'zod';
import { createWorkItem, getWorkItem, listWorkItems, noteWorkItem, updateWorkItem, workItemTimeline } from '../../../core/board/work-items';
import { WORK_COLUMNS, runWorkflowId, workItemCreateSchema, workItemNoteSchema, workItemPatchSchema } from '../../../core/board/work-item-schemas';
import { PRIORITIES } from '../../../core/missions/schemas';
import { taskReplay } from '../../../core/runs/replay';
import { ConflictError } from '../../../lib/errors';
import { text } from '../../../lib/text';
import { actingMember, currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';
import { idParam, nextCursor, pageQuery } from '../outreach/campaigns';

const id = (what: string) => z.uuid(`${what} must be an id (a UUID).`).optional();
export const workItemListQuery = z.object({
  column: z.enum(WORK_COLUMNS).optional(),
  campaignId: id('campaignId'),
  leadId: id('leadId'),
  draftId: id('draftId'),
  workflowId: runWorkflowId.optional(),
  agentId: id('agentId'),
  priority: z.enum(PRIORITIES).optional(),
  q: text().trim().max(120).optional(),
  ...pageQuery,
});

export function workItemRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const byId = idParam('work item');

  app.get('/', authorize('VIEWER'), valid('query', workItemListQuery), async (c) => {
    const q = c.req.valid('query');
    const tasks = await listWorkItems(deps.sql, q, currentWorkspace(c));
    return c.json({ tasks, next: nextCursor(tasks, q.limit) });
  });
  // The same sourceKey is the same item: 201 when this request made it, 200 with the one made before.
  app.post('/', authorize('OPERATOR'), valid('json', workItemCreateSchema), async (c) => {
    const { ws, actor } = actingMember(c);
    const { item, created } = await createWorkItem(deps.sql, c.req.valid('json'), actor, ws);
    return c.json({ task: item, created }, created ? 201 : 200);
  });
  app.get('/:id', authorize('VIEWER'), byId, async (c) => {
    const ws = currentWorkspace(c);
    const { id: itemId } = c.req.valid('param');
    const [task, timeline] = await Promise.all([getWorkItem(deps.sql, itemId, ws), workItemTimeline(deps.sql, itemId, ws)]);
    return c.json({ task, timeline });
  });
  // Fields, links, and a move (`column`, with its `note`): a move's least role is checked in core/board/work-items.ts.
  app.patch('/:id', authorize('OPERATOR'), byId, valid('json', workItemPatchSchema), async (c) => {
    const { ws, actor } = actingMember(c);
    return c.json({ task: await updateWorkItem(deps.sql, c.req.valid('param').id, c.req.valid('json'), actor, ws) });
  });
  app.post('/:id/notes', authorize('OPERATOR'), byId, valid('json', workItemNoteSchema), async (c) => {
    const { ws, actor } = actingMember(c);
    return c.json({ event: await noteWorkItem(deps.sql, c.req.valid('param').id, c.req.valid('json').note, actor, ws) }, 201);
  });
  // Seed 002's GET /tasks/:id/replay: the story of the run task the item names, from Temporal's history.
  app.get('/:id/replay', authorize('VIEWER'), byId, async (c) => {
    const ws = currentWorkspace(c);
    const item = await getWorkItem(deps.sql, c.req.valid('param').id, ws);
    if (!item.workflowId || !item.taskId) {
      throw new ConflictError('This work item names no run task to replay; link one with workflowId and taskId (PATCH /api/tasks/:id).');
    }
    return c.json(await taskReplay(deps.sql, deps.temporal, item.workflowId, item.taskId, ws));
  });
  return app;
}

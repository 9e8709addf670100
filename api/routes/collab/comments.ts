// /api/comments (seed 004): comments on missions, runs, tasks and agents,
// newest first with keyset paging, filtered by what they are about and type.
// Operators write them; authors edit and delete their own, admins any; SYSTEM
// comments are the engine's (core/collab/comments.ts).
import { Hono } from 'hono';
import { z } from 'zod';
import { actorOf } from '../../../core/access/users';
import { createComment, deleteComment, getComment, listComments, updateComment } from '../../../core/collab/comments';
import { COMMENT_TYPES, commentCreateSchema, commentPatchSchema } from '../../../core/collab/comment-schemas';
import { runWorkflowId } from '../../../core/board/work-item-schemas';
import { actingMember, currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';
import { idParam, nextCursor, pageQuery } from '../outreach/campaigns';

const id = (what: string) => z.uuid(`${what} must be an id (a UUID).`).optional();
const listQuery = z.object({
  missionId: id('missionId'),
  workflowId: runWorkflowId.optional(),
  taskId: id('taskId'),
  agentId: id('agentId'),
  type: z.enum(COMMENT_TYPES).optional(),
  ...pageQuery,
});

export function commentRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const byId = idParam('comment');

  app.get('/', authorize('VIEWER'), valid('query', listQuery), async (c) => {
    const q = c.req.valid('query');
    const comments = await listComments(deps.sql, q, currentWorkspace(c));
    return c.json({ comments, next: nextCursor(comments, q.limit) });
  });
  app.post('/', authorize('OPERATOR'), valid('json', commentCreateSchema), async (c) =>
    c.json({ comment: await createComment(deps.sql, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c)) }, 201));
  app.get('/:id', authorize('VIEWER'), byId, async (c) => c.json({ comment: await getComment(deps.sql, c.req.valid('param').id, currentWorkspace(c)) }));
  app.patch('/:id', authorize('OPERATOR'), byId, valid('json', commentPatchSchema), async (c) => {
    const { ws, actor } = actingMember(c);
    return c.json({ comment: await updateComment(deps.sql, c.req.valid('param').id, c.req.valid('json'), actor, ws) });
  });
  app.delete('/:id', authorize('OPERATOR'), byId, async (c) => {
    const { ws, actor } = actingMember(c);
    await deleteComment(deps.sql, c.req.valid('param').id, actor, ws);
    return c.body(null, 204);
  });
  return app;
}

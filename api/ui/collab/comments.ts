// Comments on the pages of missions, runs and agents: a panel that loads with
// the page and refreshes on comment events (views/partials/collab/comments.eta),
// with a form for operators and a delete for authors and admins. The panel
// names what it is about in its URL (/live/comments?workflowId=…).
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { actorOf } from '../../../core/access/users';
import { createComment, deleteComment, getComment, listComments } from '../../../core/collab/comments';
import { WRITTEN_TYPES, commentCreateSchema } from '../../../core/collab/comment-schemas';
import { runWorkflowId } from '../../../core/board/work-item-schemas';
import { ValidationError } from '../../../lib/errors';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { readForm, redirect, str } from '../common';
import { formProblem, isHtmx, raw } from '../form-problem';
import { idParam } from '../outreach/campaign-pages';

const empty = (v: unknown) => (typeof v === 'string' && !v.trim() ? undefined : v);
const targetSchema = z.object({
  missionId: z.preprocess(empty, z.uuid().optional()),
  workflowId: z.preprocess(empty, runWorkflowId.optional()),
  agentId: z.preprocess(empty, z.uuid().optional()),
}).refine((t) => t.missionId || t.workflowId || t.agentId, 'Name a mission, a run or an agent.');
type Target = z.infer<typeof targetSchema>;

/** The page a comment panel sits on. */
const pageOf = (t: Target) => (t.workflowId ? `/runs/${encodeURIComponent(t.workflowId)}` : t.agentId ? `/agents/${t.agentId}` : `/missions/${t.missionId}`);
/** A run's panel lists the run's comments; a mission's, its own and its runs'. */
const filterOf = (t: Target) => (t.workflowId ? { workflowId: t.workflowId } : t.agentId ? { agentId: t.agentId } : { missionId: t.missionId });

export function commentPanels(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();
  const panel = async (c: Context<AppEnv>, target: Target, form = { content: '', type: 'NOTE', error: null as string | null }, status = 200) => {
    const comments = await listComments(deps.sql, { ...filterOf(target), limit: 100 }, currentWorkspace(c));
    return renderer.fragment(c, 'partials/collab/comments', { comments, target, form, types: WRITTEN_TYPES, me: c.get('user')!.id }, status);
  };

  app.get('/live/comments', authorize('VIEWER'), valid('query', targetSchema), (c) => panel(c, c.req.valid('query')));

  app.post('/comments', authorize('OPERATOR'), async (c) => {
    const form = await readForm(c);
    const t = targetSchema.safeParse({ missionId: str(form, 'missionId'), workflowId: str(form, 'workflowId'), agentId: str(form, 'agentId') });
    if (!t.success) throw new ValidationError('This comment names nothing it is about.');
    const values = { content: raw(form, 'content'), type: str(form, 'type') || 'NOTE' };
    try {
      const input = commentCreateSchema.safeParse({ ...values, ...t.data });
      if (!input.success) throw new ValidationError(input.error.issues[0]!.message);
      await createComment(deps.sql, input.data, actorOf(c.get('user')!), currentWorkspace(c));
    } catch (err) {
      const p = formProblem(err);
      if (!p || !isHtmx(c)) throw err;
      // htmx swaps only a 2xx: the panel comes back with the message beside the form, and what was typed.
      return panel(c, t.data, { ...values, error: p.message });
    }
    return isHtmx(c) ? panel(c, t.data) : redirect(c, pageOf(t.data));
  });

  app.post('/comments/:id/delete', authorize('OPERATOR'), valid('param', idParam('comment')), async (c) => {
    const ws = currentWorkspace(c);
    const comment = await getComment(deps.sql, c.req.valid('param').id, ws);
    await deleteComment(deps.sql, comment.id, { ...actorOf(c.get('user')!), role: ws.role }, ws);
    const target = comment.workflowId ? { workflowId: comment.workflowId } : comment.agentId ? { agentId: comment.agentId } : { missionId: comment.missionId! };
    return isHtmx(c) ? panel(c, target) : redirect(c, pageOf(target));
  });
  return app;
}

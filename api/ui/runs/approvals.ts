// The approvals inbox (/approvals) and the decision form's route, shared by the
// inbox and the run view: each answers with the fragment the form came from.
import { Hono, type Context } from 'hono';
import { pendingApprovals } from '../../../core/runs/approvals';
import { decide } from '../../../core/runs/decisions';
import { actorOf } from '../../../core/access/users';
import { AppError, ValidationError } from '../../../lib/errors';
import { DECISION_ACTIONS } from '../../../workflows/messages';
import type { AppDeps, AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { triggerHeader } from '../../middleware/errors';
import type { Renderer } from '../../render';
import { decisionBody, workflowParam } from '../../routes/runs/runs';
import { valid } from '../../validate';
import { contentVersion, jsonField, readForm, redirect, str } from '../common';
import { renderRunView } from './runs';

export function approvalPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  // A decision from the run view or the inbox; answers with the fragment the form came from.
  app.post('/runs/:workflowId/decide', authorize('ADMIN'), valid('param', workflowParam), async (c) => {
    const { workflowId } = c.req.valid('param');
    const form = await readForm(c);
    const action = str(form, 'action');
    if (!(DECISION_ACTIONS as readonly string[]).includes(action)) throw new ValidationError(`Unknown decision "${action}".`);
    // The same rules as the API's decisions: notes and output reach the run and its audit entry.
    const { taskId, notes, output } = decisionBody.parse({
      taskId: str(form, 'taskId'), action, notes: str(form, 'notes') || undefined,
      output: action === 'edit_inline_approve' ? jsonField(str(form, 'output'), 'Edited output') : undefined,
    });
    let message: { kind: 'ok' | 'error'; text: string };
    try {
      const task = await decide(deps.sql, deps.temporal, workflowId, { taskId, action: action as (typeof DECISION_ACTIONS)[number], notes, output }, actorOf(c.get('user')!));
      message = { kind: 'ok', text: `${task.name}: ${action.replace(/_/g, ' ')} recorded.` };
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      message = { kind: 'error', text: err.message };
    }
    const from = str(form, 'from');
    if (!c.req.header('HX-Request')) return redirect(c, from === 'inbox' ? '/approvals' : `/runs/${encodeURIComponent(workflowId)}`);
    if (from === 'inbox') return inbox(c, message);
    c.header('HX-Trigger', triggerHeader({ flash: message }));
    return renderRunView(deps, renderer, c, workflowId, 200);
  });

  const inbox = async (c: Context<AppEnv>, message?: { kind: string; text: string }) => {
    const approvals = await pendingApprovals(deps.sql, deps.temporal);
    const version = contentVersion(approvals.map((a) => [a.run.workflowId, a.taskId, a.runs]));
    if (!message && c.req.header('HX-Request') && c.req.query('v') === version) return c.body(null, 204);
    return renderer.respond(c, { page: 'pages/runs/approvals', partial: 'partials/runs/approvals' }, { title: 'Approvals', approvals, message, version });
  };

  app.get('/approvals', authorize('VIEWER'), (c) => inbox(c));

  return app;
}

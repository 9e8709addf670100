// Run pages: the list (/runs), the live run view (/runs/:workflowId) with
// pause, resume and cancel, and the approvals inbox (/approvals) whose
// decisions post here too.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { pendingApprovals } from '../../../core/runs/approvals';
import { decide } from '../../../core/runs/decisions';
import { controlRun } from '../../../core/runs/control';
import { describeRun } from '../../../core/runs/detail';
import { taskOutput } from '../../../core/runs/outputs';
import { listRuns } from '../../../core/runs/visibility';
import { runTimeline } from '../../../core/runs/timeline';
import { runsOfWorkflow } from '../../../core/patterns/pattern-runs';
import { actorOf } from '../../../core/access/users';
import { AppError, ValidationError } from '../../../lib/errors';
import { MISSION_STATUSES, MISSION_TRIGGERS } from '../../../lib/names';
import { DECISION_ACTIONS } from '../../../workflows/messages';
import type { AppDeps, AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { triggerHeader } from '../../middleware/errors';
import type { Renderer } from '../../render';
import { decisionBody, reasonBody, workflowParam } from '../../routes/runs/runs';
import { valid } from '../../validate';
import { contentVersion, jsonField, readForm, redirect, str } from '../common';

const empty = (v: unknown) => (v === '' ? undefined : v);
const listQuery = z.object({
  missionId: z.preprocess(empty, z.uuid().optional()),
  containerId: z.preprocess(empty, z.uuid().optional()),
  status: z.preprocess(empty, z.enum(MISSION_STATUSES).optional()),
  trigger: z.preprocess(empty, z.enum(MISSION_TRIGGERS).optional()),
  before: z.preprocess(empty, z.iso.datetime({ offset: true }).optional()),
});

export function runPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  app.get('/runs', authorize('VIEWER'), valid('query', listQuery), async (c) => {
    const q = c.req.valid('query');
    const page = await listRuns(deps.temporal, { ...q, before: q.before ? new Date(q.before) : undefined }, 50);
    return renderer.respond(c, { page: 'pages/runs/runs', partial: 'partials/runs/runs-table' }, { title: 'Runs', page, filters: q, statuses: MISSION_STATUSES });
  });

  const runView = async (c: Context<AppEnv>, workflowId: string, status = 200) => {
    const [detail, patternRuns] = await Promise.all([describeRun(deps.temporal, workflowId), runsOfWorkflow(deps.sql, workflowId)]);
    const logs = new Map<string, { attempt: number; logs: string[]; status: string; error: string | null }[]>();
    for (const r of patternRuns) {
      if (!r.taskId) continue;
      logs.set(r.taskId, [...(logs.get(r.taskId) ?? []), { attempt: r.attempt, logs: r.logs, status: r.status, error: r.errorMessage }]);
    }
    // Polls carry the version they show; an unchanged run answers 204 and the page is left alone
    // (so an open <details> or a half-typed note survives).
    const version = contentVersion({ s: detail.summary.status, c: detail.summary.closeTime, p: detail.progress, n: patternRuns.length });
    if (c.req.header('HX-Request') && c.req.query('v') === version) return c.body(null, 204);
    return renderer.respond(c, { page: 'pages/runs/run', partial: 'partials/runs/run' }, { title: detail.summary.missionName, detail, logs, version }, status);
  };

  app.get('/runs/:workflowId', authorize('VIEWER'), valid('param', workflowParam), (c) => runView(c, c.req.valid('param').workflowId));

  // The whole output of a task whose run keeps only its start (big outputs are stored by reference).
  app.get('/runs/:workflowId/tasks/:taskId/output', authorize('VIEWER'), valid('param', workflowParam.extend({ taskId: z.uuid('Not a valid task id.') })), async (c) => {
    const { workflowId, taskId } = c.req.valid('param');
    const detail = await describeRun(deps.temporal, workflowId);
    const { output } = await taskOutput(deps.sql, detail.progress, workflowId, taskId, c.req.query('original') === 'true' ? 'original' : 'output');
    c.header('Content-Disposition', `inline; filename="output-${taskId}.json"`);
    return c.json(output);
  });

  app.get('/runs/:workflowId/timeline', authorize('VIEWER'), valid('param', workflowParam), async (c) => {
    const { entries } = await runTimeline(deps.sql, deps.temporal, c.req.valid('param').workflowId);
    return renderer.fragment(c, 'partials/runs/timeline', { entries });
  });

  for (const what of ['pause', 'resume', 'cancel'] as const) {
    app.post(`/runs/:workflowId/${what}`, authorize('OPERATOR'), valid('param', workflowParam), async (c) => {
      const { workflowId } = c.req.valid('param');
      const form = await readForm(c);
      const { reason } = reasonBody.parse({ reason: str(form, 'reason') || undefined });
      await controlRun(deps.sql, deps.temporal, workflowId, what, actorOf(c.get('user')!), reason);
      if (c.req.header('HX-Request')) return runView(c, workflowId); // the Update has applied: the fragment shows it
      return redirect(c, `/runs/${encodeURIComponent(workflowId)}`);
    });
  }

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
    return runView(c, workflowId, 200);
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

// The live run view (/runs/:workflowId) with pause, resume and cancel, a
// task's whole output and the timeline. The list is runs-list.ts; decisions
// and the inbox are approvals.ts.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { controlRun } from '../../../core/runs/control';
import { describeRun, type RunDetail } from '../../../core/runs/detail';
import { LiveCache } from '../../../core/events/live-cache';
import { eventStreamOf } from '../../../core/events/stream';
import { taskOutput } from '../../../core/runs/outputs';
import { runTimeline } from '../../../core/runs/timeline';
import { runsOfWorkflow } from '../../../core/patterns/pattern-runs';
import { actorOf } from '../../../core/access/users';
import type { AppDeps, AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { reasonBody, workflowParam } from '../../routes/runs/runs';
import { valid } from '../../validate';
import { contentVersion, readForm, redirect, str } from '../common';

const details = new WeakMap<AppDeps['sql'], LiveCache<RunDetail>>();

/**
 * A run's detail through one shared reader per process: every viewer of a run shares one Temporal describe
 * (in flight or for a second) until an event of that run drops it. `fresh` reads anew (after a change made
 * in this request, whose event may not have arrived yet).
 */
function runDetail(deps: AppDeps, workflowId: string, fresh = false): Promise<RunDetail> {
  let cache = details.get(deps.sql);
  if (!cache) {
    const made = (cache = new LiveCache<RunDetail>(1000, 1000));
    details.set(deps.sql, made);
    eventStreamOf(deps.sql, deps.logger).onEvent((e) => e.runId && made.drop(e.runId));
  }
  return cache.get(workflowId, () => describeRun(deps.temporal, workflowId), { fresh });
}

/** The run view, whole or as the fragment htmx asked for. */
export async function renderRunView(deps: AppDeps, renderer: Renderer, c: Context<AppEnv>, workflowId: string, status: 200 | 201 = 200, fresh = false) {
  // Live refreshes (many pages woken by one event) share one read; opening the page reads afresh.
  fresh ||= !c.req.header('X-Live-Refresh');
  const [detail, patternRuns] = await Promise.all([runDetail(deps, workflowId, fresh), runsOfWorkflow(deps.sql, workflowId)]);
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
}

export function runPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  app.get('/runs/:workflowId', authorize('VIEWER'), valid('param', workflowParam), (c) => renderRunView(deps, renderer, c, c.req.valid('param').workflowId));

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
      if (c.req.header('HX-Request')) return renderRunView(deps, renderer, c, workflowId, 200, true); // the Update has applied: the fragment shows it
      return redirect(c, `/runs/${encodeURIComponent(workflowId)}`);
    });
  }

  return app;
}

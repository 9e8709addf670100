// The live run view (/runs/:workflowId): its Gantt timeline, each task with
// its output, the changes reviews made to it and its logs; pause (with a
// reason), resume and cancel; a task's whole output and the history from
// Temporal. The list is runs-list.ts; decisions and the inbox are approvals.ts.
import { listWorkItems } from '../../../core/board/work-items';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { controlRun } from '../../../core/runs/control';
import { describeRun, type RunDetail } from '../../../core/runs/detail';
import { LiveCache } from '../../../core/events/live-cache';
import { eventStreamOf } from '../../../core/events/stream';
import { hydrateOutputs, taskOutput } from '../../../core/runs/outputs';
import { runGantt } from '../../../core/runs/gantt';
import { DIFF_MAX_BYTES, outputChanges, type OutputChange } from '../../../core/runs/run-output-changes';
import { runTimeline } from '../../../core/runs/timeline';
import { replayPages } from './replay';
import { ownsRun } from '../../../core/runs/visibility';
import { NotFoundError } from '../../../lib/errors';
import { runsOfWorkflow, type RecordedRun } from '../../../core/patterns/pattern-runs';
import { actorOf } from '../../../core/access/users';
import { currentWorkspace, type AppDeps, type AppEnv, type CurrentWorkspace } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { reasonBody, workflowParam } from '../../routes/runs/runs';
import type { TaskProgress } from '../../../workflows/messages';
import { valid } from '../../validate';
import { contentVersion, readForm, redirect, str } from '../common';
import { lineDiff } from '../../../lib/line-diff';

/** A change of a task's output with its line diff (none when a side is too big to compare here). */
export type ShownChange = OutputChange & { diff: ReturnType<typeof lineDiff> | null };

/** What the run view shows, read once for every viewer: the run, its recorded attempts, its outputs' changes. */
interface RunView {
  detail: RunDetail;
  patternRuns: (RecordedRun & { taskId: string | null })[];
  changes: Record<string, ShownChange[]>;
}

const views = new WeakMap<AppDeps['sql'], LiveCache<RunView>>();

/** Keys in one order: PostgreSQL's jsonb keeps its own, and a diff should show what changed, not how it was kept. */
const sorted = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v;
const pretty = (v: unknown) => JSON.stringify(sorted(v ?? null), null, 2);

/** The run as any viewer sees it; runView() lets only its own workspace's viewers see it. */
async function loadRunView(deps: AppDeps, workflowId: string): Promise<RunView> {
  const detail = await describeRun(deps.temporal, workflowId);
  // Its attempts are recorded in its own workspace (the default one for a run from before workspaces).
  const patternRuns = await runsOfWorkflow(deps.sql, workflowId, detail.summary.workspaceId ? { id: detail.summary.workspaceId } : undefined);
  const p = detail.progress;
  // A reviewer reads (and may edit) a waiting output whole, as in the inbox: the run keeps only the start of a big one.
  const [tasks, changes] = await Promise.all([p ? hydrateOutputs(deps.sql, workflowId, p.tasks.filter((t) => t.status === 'awaiting_approval') as (TaskProgress & { output: unknown })[]) : [], outputChanges(deps.sql, workflowId, p)]);
  const hydrated = new Map(tasks.map((t) => [t.id, t]));
  const shown: Record<string, ShownChange[]> = {};
  for (const [taskId, list] of Object.entries(changes)) {
    shown[taskId] = list.map((ch) => ({ ...ch, diff: ch.from.value !== undefined && ch.to.value !== undefined ? lineDiff(pretty(ch.from.value), pretty(ch.to.value)) : null }));
  }
  return { detail: p ? { ...detail, progress: { ...p, tasks: p.tasks.map((t) => hydrated.get(t.id) ?? t) } } : detail, patternRuns, changes: shown };
}

/**
 * A run's view through one shared reader per process: every viewer of a run shares one Temporal describe
 * and one read of its records (in flight or for a second) until an event of that run drops it. `fresh`
 * reads anew (after a change made in this request, whose event may not have arrived yet). Every answer,
 * a cached one too, passes the ownership gate: another workspace's run is the unknown run's 404.
 */
async function runView(deps: AppDeps, workflowId: string, ws: CurrentWorkspace, fresh = false): Promise<RunView> {
  let cache = views.get(deps.sql);
  if (!cache) {
    const made = (cache = new LiveCache<RunView>(1000, 1000));
    views.set(deps.sql, made);
    eventStreamOf(deps.sql, deps.logger).onEvent((e) => e.runId && made.drop(e.runId));
  }
  const view = await cache.get(workflowId, () => loadRunView(deps, workflowId), { fresh });
  if (!ownsRun(view.detail.summary, ws)) throw new NotFoundError('Run');
  return view;
}

/** The run view, whole or as the fragment htmx asked for. */
export async function renderRunView(deps: AppDeps, renderer: Renderer, c: Context<AppEnv>, workflowId: string, status: 200 | 201 = 200, fresh = false) {
  // Live refreshes (many pages woken by one event) share one read; opening the page reads afresh.
  fresh ||= !c.req.header('X-Live-Refresh');
  const { detail, patternRuns, changes } = await runView(deps, workflowId, currentWorkspace(c), fresh);
  const logs = new Map<string, { attempt: number; logs: string[]; status: string; error: string | null }[]>();
  for (const r of patternRuns) {
    if (!r.taskId) continue;
    logs.set(r.taskId, [...(logs.get(r.taskId) ?? []), { attempt: r.attempt, logs: r.logs, status: r.status, error: r.errorMessage }]);
  }
  // Polls carry the version they show; an unchanged run answers 204 and the page is left alone
  // (so an open <details> or a half-typed note survives).
  const version = contentVersion({ s: detail.summary.status, c: detail.summary.closeTime, p: detail.progress, n: patternRuns.length });
  if (c.req.header('HX-Request') && c.req.query('v') === version) return c.body(null, 204);
  const s = detail.summary;
  const gantt = detail.progress ? runGantt({ progress: detail.progress, startTime: s.startTime, closeTime: s.closeTime, attempts: patternRuns }) : null;
  // The work items about the run: on the whole page only (a live refresh swaps the run's part).
  const workItems = c.req.header('HX-Request') ? [] : await listWorkItems(deps.sql, { workflowId, limit: 20 }, currentWorkspace(c));
  return renderer.respond(c, { page: 'pages/runs/run', partial: 'partials/runs/run' }, {
    title: s.missionName, detail, logs, version, gantt, changes, diffMaxBytes: DIFF_MAX_BYTES, workItems,
  }, status);
}

export function runPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();
  app.route('/', replayPages(deps, renderer)); // a task's replay (replay.ts)

  app.get('/runs/:workflowId', authorize('VIEWER'), valid('param', workflowParam), (c) => renderRunView(deps, renderer, c, c.req.valid('param').workflowId));

  // The whole output of a task whose run keeps only its start (big outputs are stored by reference).
  app.get('/runs/:workflowId/tasks/:taskId/output', authorize('VIEWER'), valid('param', workflowParam.extend({ taskId: z.uuid('Not a valid task id.') })), async (c) => {
    const { workflowId, taskId } = c.req.valid('param');
    const detail = await describeRun(deps.temporal, workflowId, {}, currentWorkspace(c));
    const { output } = await taskOutput(deps.sql, detail.progress, workflowId, taskId, c.req.query('original') === 'true' ? 'original' : 'output');
    c.header('Content-Disposition', `inline; filename="output-${taskId}.json"`);
    return c.json(output);
  });

  app.get('/runs/:workflowId/timeline', authorize('VIEWER'), valid('param', workflowParam), async (c) => {
    const { workflowId } = c.req.valid('param');
    const { entries } = await runTimeline(deps.sql, deps.temporal, workflowId, currentWorkspace(c));
    return renderer.fragment(c, 'partials/runs/timeline', { entries, workflowId });
  });

  for (const what of ['pause', 'resume', 'cancel'] as const) {
    app.post(`/runs/:workflowId/${what}`, authorize('OPERATOR'), valid('param', workflowParam), async (c) => {
      const { workflowId } = c.req.valid('param');
      const form = await readForm(c);
      const { reason } = reasonBody.parse({ reason: str(form, 'reason') || undefined });
      await controlRun(deps.sql, deps.temporal, workflowId, what, actorOf(c.get('user')!), reason, currentWorkspace(c));
      if (c.req.header('HX-Request')) return renderRunView(deps, renderer, c, workflowId, 200, true); // the Update has applied: the fragment shows it
      return redirect(c, `/runs/${encodeURIComponent(workflowId)}`);
    });
  }

  return app;
}

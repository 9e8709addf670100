// The Runs page (/runs): filters, start order either way with keyset paging,
// charts of the filtered runs, and cancelling a selection of open runs.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { actorOf } from '../../../core/access/users';
import { listMissions } from '../../../core/missions/missions';
import { listContainers } from '../../../core/patterns/containers';
import { cancelRuns, MAX_BATCH_CANCEL, type CancelOutcome } from '../../../core/runs/batch';
import { listRuns, type RunFilter, type RunSummary } from '../../../core/runs/visibility';
import { ValidationError } from '../../../lib/errors';
import { MISSION_STATUSES, MISSION_TRIGGERS, type MissionStatus } from '../../../lib/names';
import { currentWorkspace, type AppDeps, type AppEnv, type CurrentWorkspace } from '../../context';
import { describeIssues, issueDetail } from '../../middleware/errors';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { batchCancelBody } from '../../routes/runs/batch';
import { workflowParam } from '../../routes/runs/runs';
import { duration, relativeTime } from '../../view-helpers';
import { readForm, str, type FormValue } from '../common';

const PER_PAGE = 50;
/** How many of the newest filtered runs the charts read. */
export const CHART_SAMPLE = 500;

export const STATUS_LABELS: Record<MissionStatus, string> = {
  Running: 'Running', Paused: 'Paused', NeedsApproval: 'Needs approval', Completed: 'Completed', Failed: 'Failed', Cancelled: 'Cancelled',
};
const TRIGGER_LABELS = { manual: 'Manual', scheduled: 'Scheduled', triggered: 'Triggered' } as const;
const OPEN = new Set<MissionStatus>(['Running', 'Paused', 'NeedsApproval']);

const empty = (v: unknown) => (v === '' ? undefined : v);
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const moment = z.string().refine(
  (v) => (DAY.test(v) ? z.iso.date() : z.iso.datetime({ offset: true })).safeParse(v).success,
  'Use a date like 2026-03-31, or a date and time with its offset (2026-03-31T09:00:00Z).',
);
const listQuery = z
  .object({
    missionId: z.preprocess(empty, z.uuid('Not a valid mission id.').optional()),
    containerId: z.preprocess(empty, z.uuid('Not a valid container id.').optional()),
    status: z.preprocess(empty, z.enum(MISSION_STATUSES).optional()),
    trigger: z.preprocess(empty, z.enum(MISSION_TRIGGERS).optional()),
    from: z.preprocess(empty, moment.optional()),
    to: z.preprocess(empty, moment.optional()),
    sort: z.preprocess(empty, z.enum(['newest', 'oldest']).default('newest')),
    before: z.preprocess(empty, z.iso.datetime({ offset: true }).optional()),
    after: z.preprocess(empty, z.iso.datetime({ offset: true }).optional()),
    // Runs whose cancellation this page asked for: it polls until they have ended.
    watch: z.preprocess((v) => (typeof v === 'string' && v ? v.split(',') : empty(v)), z.array(workflowParam.shape.workflowId).max(MAX_BATCH_CANCEL).optional()),
  })
  .superRefine((q, ctx) => {
    const { from, until } = startRange(q);
    if (from && until && until <= from) ctx.addIssue({ code: 'custom', path: ['to'], message: 'The end of the date range (to) is before its start (from).' });
  });
type ListQuery = z.infer<typeof listQuery>;

/** `from` and `to` as a half-open range: a date alone is a whole UTC day, a date and time is that instant. */
function startRange(q: { from?: string; to?: string }): { from?: Date; until?: Date } {
  const at = (v: string | undefined, end: boolean) => {
    if (!v || !moment.safeParse(v).success) return undefined;
    const t = new Date(DAY.test(v) ? `${v}T00:00:00Z` : v).getTime();
    return new Date(end ? t + (DAY.test(v) ? 86_400_000 : 1) : t);
  };
  return { from: at(q.from, false), until: at(q.to, true) };
}

/** Query values as hono's validator gives them: one value as a string, repeated ones as a list. */
function queryOf(c: Context<AppEnv>): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(c.req.queries()).map(([k, v]) => [k, v.length === 1 ? v[0]! : v]));
}

/** Time since start (or between start and close), for runs that take seconds or days. */
export function elapsed(ms: number): string {
  if (ms < 3_600_000) return duration(ms);
  const h = Math.floor(ms / 3_600_000);
  return h < 24 ? `${h} h ${Math.floor((ms % 3_600_000) / 60_000)} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

function row(r: RunSummary, watch: Set<string>, now: number) {
  const open = OPEN.has(r.status);
  const ms = (r.closeTime?.getTime() ?? now) - r.startTime.getTime();
  return {
    ...r, open, statusLabel: STATUS_LABELS[r.status], triggerLabel: r.trigger ? TRIGGER_LABELS[r.trigger] : '—',
    durationText: open ? `running for ${elapsed(ms)}` : elapsed(ms), cancelling: open && watch.has(r.workflowId),
  };
}

export function runListPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  /** The page's data; `rowsOnly` for a poll of the rows, which needs no charts or filter lists. */
  async function load(q: ListQuery, rowsOnly: boolean, ws: CurrentWorkspace) {
    const now = Date.now();
    const f: RunFilter = { workspace: ws, missionId: q.missionId, containerId: q.containerId, status: q.status, trigger: q.trigger, ...startRange(q) };
    const cursor = q.sort === 'newest' ? { before: q.before ? new Date(q.before) : undefined } : { after: q.after ? new Date(q.after) : undefined };
    const [page, sample, missions, containers] = await Promise.all([
      listRuns(deps.temporal, { ...f, ...cursor }, PER_PAGE, q.sort),
      rowsOnly ? null : listRuns(deps.temporal, f, CHART_SAMPLE, 'newest'),
      rowsOnly ? null : listMissions(deps.sql, { limit: 500, offset: 0 }, ws),
      rowsOnly ? null : listContainers(deps.sql, { limit: 200, offset: 0 }, ws),
    ]);
    const watch = new Set(q.watch ?? []);
    const rows = page.runs.map((r) => row(r, watch, now));
    const stillWatched = rows.filter((r) => r.cancelling).map((r) => r.workflowId);
    return {
      rows, next: page.next, stillWatched,
      charts: sample ? { ...runCharts(sample.runs, now), capped: sample.next !== null, sampleSize: CHART_SAMPLE } : null,
      missions: missions?.items ?? [], containers: containers?.items ?? [],
    };
  }

  const pageData = (q: Partial<ListQuery>, data: Record<string, unknown>) => ({
    title: 'Runs', filters: { ...q, watch: undefined }, statuses: MISSION_STATUSES, statusLabels: STATUS_LABELS,
    triggers: MISSION_TRIGGERS, triggerLabels: TRIGGER_LABELS, maxBatch: MAX_BATCH_CANCEL, chartSample: CHART_SAMPLE, ...data,
  });
  const views = (c: Context<AppEnv>) => ({
    page: 'pages/runs/runs',
    // A poll after a cancel swaps the rows alone, so a selection's result stays on screen.
    partial: c.req.header('HX-Target') === 'runs-rows' ? 'partials/runs/runs-rows' : 'partials/runs/runs-table',
  });

  app.get('/runs', authorize('VIEWER'), async (c) => {
    const parsed = listQuery.safeParse(queryOf(c));
    if (!parsed.success) {
      const message = describeIssues(parsed.error.issues);
      // htmx does not swap a 400: its flash says it. A whole page keeps the filters as typed, with the message beside them.
      if (c.req.header('HX-Request') === 'true' && c.req.header('HX-Boosted') !== 'true') throw new ValidationError(message, parsed.error.issues.map(issueDetail));
      const raw = Object.fromEntries(Object.entries(queryOf(c)).filter(([, v]) => typeof v === 'string'));
      const ws = currentWorkspace(c);
      const [missions, containers] = await Promise.all([listMissions(deps.sql, { limit: 500, offset: 0 }, ws), listContainers(deps.sql, { limit: 200, offset: 0 }, ws)]);
      const data = { rows: [], next: null, stillWatched: [], charts: null, missions: missions.items, containers: containers.items, error: message };
      return renderer.respond(c, views(c), pageData(raw, data), 400);
    }
    const q = parsed.data;
    return renderer.respond(c, views(c), pageData(q, await load(q, views(c).partial.endsWith('runs-rows'), currentWorkspace(c))));
  });

  app.post('/runs/cancel', authorize('OPERATOR'), async (c) => {
    const form = await readForm(c);
    const list = (v: FormValue | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]).filter(Boolean);
    const workflowIds = list(form.workflowIds);
    if (!workflowIds.length) throw new ValidationError('Select at least one run to cancel.');
    const { reason } = batchCancelBody.parse({ workflowIds, reason: str(form, 'reason') || undefined });
    // The filters ride along in the form, so the list comes back as it was.
    const filters = Object.fromEntries(['missionId', 'containerId', 'status', 'trigger', 'from', 'to', 'sort', 'before', 'after'].map((k) => [k, str(form, k)]));
    const q = listQuery.parse(filters);
    const ws = currentWorkspace(c);
    const outcomes = await cancelRuns(deps.sql, deps.temporal, workflowIds, actorOf(c.get('user')!), reason, ws);
    const requested = outcomes.filter((o) => o.outcome === 'cancel_requested').map((o) => o.workflowId);
    const data = await load({ ...q, watch: requested }, false, ws);
    return renderer.respond(c, views(c), pageData(q, { ...data, outcomes: describeOutcomes(outcomes) }));
  });

  return app;
}

function describeOutcomes(outcomes: CancelOutcome[]) {
  const requested = outcomes.filter((o) => o.outcome === 'cancel_requested').length;
  return {
    summary: `Cancellation requested for ${requested} run${requested === 1 ? '' : 's'}${requested < outcomes.length ? `; ${outcomes.length - requested} not cancelled` : ''}.`,
    problems: outcomes.flatMap((o) => (o.outcome === 'cancel_requested' ? [] : [{ workflowId: o.workflowId, message: o.message }])),
  };
}

// ---- charts: geometry for views/partials/runs/runs-chart.eta (numbers and fixed class names only) ----

const HOUR = 3_600_000;
const MAX_HOURS = 168;
const W = 720;
const H = 160;
const OUTCOMES = ['completed', 'failed', 'cancelled', 'running'] as const;
type Outcome = (typeof OUTCOMES)[number];
const outcomeOf = (s: MissionStatus): Outcome => (s === 'Completed' ? 'completed' : s === 'Failed' ? 'failed' : s === 'Cancelled' ? 'cancelled' : 'running');
const round = (n: number) => Math.round(n * 10) / 10;
const tally = (c: Record<Outcome, number>) => OUTCOMES.filter((o) => c[o]).map((o) => `${c[o]} ${o}`).join(', ');

/** Runs per hour by outcome (stacked bars) and durations over time (points), over the same hours. */
export function runCharts(runs: RunSummary[], now: number) {
  if (!runs.length) return { empty: true as const };
  const hourOf = (r: RunSummary) => Math.floor(r.startTime.getTime() / HOUR);
  const last = Math.max(...runs.map(hourOf));
  const first = Math.max(Math.min(...runs.map(hourOf)), last - MAX_HOURS + 1);
  const span = last - first + 1;
  const shown = runs.filter((r) => hourOf(r) >= first);
  const counts = Array.from({ length: span }, () => ({ completed: 0, failed: 0, cancelled: 0, running: 0 }));
  for (const r of shown) counts[hourOf(r) - first]![outcomeOf(r.status)]++;
  const tallest = Math.max(...counts.map((c) => OUTCOMES.reduce((a, o) => a + c[o], 0)));
  const slot = W / span;
  const bars = counts.flatMap((c, i) => {
    let y = H;
    const segments = OUTCOMES.filter((o) => c[o]).map((o) => {
      const h = (c[o] / tallest) * (H - 4);
      y -= h;
      return { cls: `o-${o}`, y: round(y), height: round(h) };
    });
    const at = new Date((first + i) * HOUR);
    return segments.length ? [{ x: round(i * slot + slot * 0.1), width: round(Math.max(1, slot * 0.8)), segments, title: `${relativeTime(at, now)}: ${tally(c)}`, at, label: tally(c) }] : [];
  });
  const t0 = first * HOUR;
  const t1 = (last + 1) * HOUR;
  const closed = shown.filter((r) => r.closeTime);
  const ms = (r: RunSummary) => r.closeTime!.getTime() - r.startTime.getTime();
  const longest = Math.max(1, ...closed.map(ms));
  const points = closed.map((r) => ({
    cx: round(((r.startTime.getTime() - t0) / (t1 - t0)) * W),
    cy: round(H - 3 - (ms(r) / longest) * (H - 6)),
    cls: `o-${outcomeOf(r.status)}`,
    title: `${r.missionName}: ${elapsed(ms(r))}, ${STATUS_LABELS[r.status].toLowerCase()}, started ${relativeTime(r.startTime, now)}`,
  }));
  const all = { completed: 0, failed: 0, cancelled: 0, running: 0 };
  for (const r of shown) all[outcomeOf(r.status)]++;
  return {
    empty: false as const, width: W, height: H, bars, points, start: new Date(t0), end: new Date(t1), hours: span, runs: shown.length,
    left: runs.length - shown.length, tallest, longest: elapsed(longest),
    barsLabel: `Runs per hour over ${span} hour${span === 1 ? '' : 's'}: ${tally(all)}; at most ${tallest} in one hour`,
    pointsLabel: closed.length ? `Durations of ${closed.length} ended runs, longest ${elapsed(longest)}` : 'No ended runs yet',
  };
}

// Schedules (/schedules): every mission schedule with its cron in words, its
// time zone, its next runs in that zone and its recent runs with their status;
// operators pause (with a note), unpause, run now, trigger (a firing of the schedule, recorded with its
// outcome among the row's firings) and backfill a past range, and the schedule's row re-renders. Each row is described on its own deadline: a
// schedule Temporal is slow to describe shows a placeholder (and can be loaded
// again on its own), one it cannot describe shows its error; neither fails the page.
// Each row follows the event stream: an event of its mission reloads that row alone.
// Everything is in the session's workspace: another workspace's schedule is not found.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { backfillSchedule, DEFAULT_BACKFILL_OVERLAP, MAX_BACKFILL_DAYS, MAX_BACKFILL_RUNS } from '../../../core/schedules/backfill';
import { describeCron, formatInZone, zonedInstant, zonedLocal } from '../../../core/schedules/cron';
import { getMission, listMissions, type Mission } from '../../../core/missions/missions';
import { OVERLAP_POLICIES } from '../../../core/missions/schemas';
import { loadScheduleOverviews, type OverviewOptions, type RecentRun } from '../../../core/schedules/overview';
import { pauseSchedule, runScheduleNow, type ScheduleView } from '../../../core/schedules/schedules';
import { triggerJob } from '../../../core/schedules/scheduler-jobs';
import { recentFirings, type Firing } from '../../../core/schedules/scheduler-runs';
import { actorOf, type WorkspaceRef } from '../../../core/access/users';
import { LiveCache } from '../../../core/events/live-cache';
import { eventStreamOf } from '../../../core/events/stream';
import { NotFoundError, ValidationError } from '../../../lib/errors';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { noteBody } from '../../routes/schedules/schedules';
import { readForm, redirect, str } from '../common';
import { flash, flashing, formProblem, isHtmx } from '../form-problem';

const PER_PAGE = 20;
/** Each row lists its schedule's newest firings. */
const RECENT_FIRINGS = 5;
/** A row loaded again on its own waits longer than the page does. */
const ROW_RETRY_TIMEOUT_MS = 8000;
const idParam = z.object({ missionId: z.uuid('Not a valid mission id.') });
const pageQuery = z.object({ offset: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).max(1_000_000).default(0)) });

export interface ScheduleRow {
  missionId: string;
  missionName: string;
  missionStatus: Mission['status'];
  cron: string;
  cronText: string;
  timezone: string;
  view: ScheduleView | null;
  nextRuns: { at: Date; text: string }[];
  recentRuns: (RecentRun & { startedText: string; scheduledText: string | null })[];
  /** The schedule's newest recorded firings, with their outcome in words. */
  firings: (Firing & { atText: string; statusText: string; pill: string })[];
  /** Temporal did not describe it in time: a placeholder with a way to load it again. */
  timedOut: boolean;
  error: string | null;
  backfill: { start: string; end: string; max: string; overlap: string; maxDays: number; maxRuns: number };
}

const FIRING_TEXT: Record<Firing['status'], string> = { started: 'Started', completed: 'Completed', failed: 'Failed', cancelled: 'Cancelled', skipped: 'Skipped' };

/** A firing's outcome in words (a skip with its reason) and its pill's class. */
function firingText(f: Firing): { statusText: string; pill: string } {
  const statusText = f.status === 'skipped' ? `Skipped (${f.skipReason})` : FIRING_TEXT[f.status];
  return { statusText, pill: f.status === 'started' ? 'running' : f.status };
}

/** The backfill form's choices, in words. */
export const BACKFILL_OVERLAPS: { value: (typeof OVERLAP_POLICIES)[number]; text: string }[] = [
  { value: 'allow_all', text: 'start them all at once' },
  { value: 'buffer_all', text: 'one after another' },
  { value: 'skip', text: 'skip a run while another is open' },
];

export function schedulePages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  const rowsOf = async (missions: Mission[], ws: WorkspaceRef, opts: OverviewOptions = {}): Promise<ScheduleRow[]> => {
    const [overviews, firings] = await Promise.all([
      loadScheduleOverviews(deps.sql, deps.temporal, missions, opts, ws), recentFirings(deps.sql, missions.map((m) => m.id), RECENT_FIRINGS, ws),
    ]);
    const now = new Date();
    return missions.map((m, i) => {
      const o = overviews[i]!;
      const cron = m.schedule?.cron ?? '';
      const timezone = o.view?.timezone ?? m.schedule?.timezone ?? 'UTC';
      const backfill = {
        start: zonedLocal(new Date(now.getTime() - 86_400_000), timezone), end: zonedLocal(now, timezone), max: zonedLocal(now, timezone),
        overlap: DEFAULT_BACKFILL_OVERLAP, maxDays: MAX_BACKFILL_DAYS, maxRuns: MAX_BACKFILL_RUNS,
      };
      let error: string | null = null;
      if (!o.view && !o.timedOut) {
        const p = formProblem(o.error);
        error = p?.message ?? 'Temporal could not describe this schedule right now.';
        if (!p) deps.logger.warn({ err: o.error, missionId: m.id }, 'describing a schedule failed');
      }
      return {
        missionId: m.id, missionName: m.name, missionStatus: m.status, cron, cronText: describeCron(cron), timezone, view: o.view,
        nextRuns: (o.view?.nextRuns ?? []).map((at) => ({ at, text: formatInZone(at, timezone) })),
        recentRuns: o.recentRuns.map((r) => ({
          ...r, startedText: formatInZone(r.startedAt, timezone), scheduledText: r.scheduledFor ? formatInZone(r.scheduledFor, timezone) : null,
        })),
        firings: (firings.get(m.id) ?? []).map((f) => ({ ...f, ...firingText(f), atText: formatInZone(f.scheduledAt ?? f.recordedAt, timezone) })),
        timedOut: o.timedOut, error, backfill,
      };
    });
  };
  const rowOf = async (m: Mission, ws: WorkspaceRef, opts: OverviewOptions = {}) => (await rowsOf([m], ws, opts))[0]!;

  const list = async (c: Context<AppEnv>, offset: number, error?: string, status = 200) => {
    const ws = currentWorkspace(c);
    const page = await listMissions(deps.sql, { scheduled: true, limit: PER_PAGE, offset }, ws);
    const rows = await rowsOf(page.items, ws);
    return renderer.respond(c, { page: 'pages/schedules/schedules', partial: 'partials/schedules/schedules-list' }, {
      title: 'Schedules', rows, total: page.total, offset, perPage: PER_PAGE, error, overlaps: BACKFILL_OVERLAPS,
    }, status);
  };

  app.get('/schedules', authorize('VIEWER'), valid('query', pageQuery), (c) => list(c, c.req.valid('query').offset));

  const scheduled = async (missionId: string, ws: WorkspaceRef) => {
    const mission = await getMission(deps.sql, missionId, ws);
    if (!mission.schedule) throw new NotFoundError('Schedule of this mission');
    return mission;
  };

  /** After a change: the row again for htmx, the list for a plain post; a mistake shows as a message. */
  const act = async (c: Context<AppEnv>, change: (mission: Mission, ws: WorkspaceRef) => Promise<string>) => {
    const { missionId } = idParam.parse(c.req.param());
    const ws = currentWorkspace(c);
    let done: string;
    try {
      done = await flashing(c, async () => change(await scheduled(missionId, ws), ws));
    } catch (err) {
      const p = formProblem(err);
      if (!p || isHtmx(c)) throw err;
      return list(c, 0, p.message, p.status);
    }
    if (!isHtmx(c)) return redirect(c, '/schedules');
    flash(c, 'ok', done);
    const row = await rowOf(await getMission(deps.sql, missionId, ws), ws);
    return renderer.fragment(c, 'partials/schedules/schedule-row', { row, overlaps: BACKFILL_OVERLAPS });
  };

  // Rows refreshed live (an event of their mission woke every open schedules page) share one load per row.
  // Mission ids are unique across workspaces; each request finds the mission in its own workspace first.
  const liveRows = new LiveCache<ScheduleRow>(1000, 200);
  eventStreamOf(deps.sql, deps.logger).onEvent((e) => e.missionId && liveRows.drop(e.missionId));

  // One row again, for the placeholder's "Load again" and for live refreshes: waits longer than the page.
  app.get('/schedules/:missionId/row', authorize('VIEWER'), valid('param', idParam), async (c) => {
    const { missionId } = c.req.valid('param');
    const ws = currentWorkspace(c);
    const mission = await scheduled(missionId, ws);
    const load = async () => rowOf(mission, ws, { timeoutMs: ROW_RETRY_TIMEOUT_MS });
    const row = await liveRows.get(missionId, load, { fresh: !c.req.header('X-Live-Refresh') });
    return renderer.fragment(c, 'partials/schedules/schedule-row', { row, overlaps: BACKFILL_OVERLAPS });
  });

  // The same rule for the note as the API's (a cut at 500 characters could split a character in two).
  const noteOf = async (c: Context<AppEnv>) => noteBody.parse({ note: str(await readForm(c), 'note') || undefined }).note;

  app.post('/schedules/:missionId/pause', authorize('OPERATOR'), valid('param', idParam), async (c) => {
    const note = await noteOf(c);
    return act(c, async (m, ws) => {
      await pauseSchedule(deps.sql, deps.temporal, m.id, true, note, actorOf(c.get('user')!), ws);
      return `Paused the schedule of ${m.name}.`;
    });
  });

  app.post('/schedules/:missionId/unpause', authorize('OPERATOR'), valid('param', idParam), async (c) => {
    const note = await noteOf(c);
    return act(c, async (m, ws) => {
      await pauseSchedule(deps.sql, deps.temporal, m.id, false, note, actorOf(c.get('user')!), ws);
      return `Unpaused the schedule of ${m.name}.`;
    });
  });

  app.post('/schedules/:missionId/run', authorize('OPERATOR'), valid('param', idParam), (c) =>
    act(c, async (m, ws) => {
      const run = await runScheduleNow(deps.sql, deps.temporal, m.id, actorOf(c.get('user')!), ws);
      return `Started a run of ${m.name} (${run.workflowId}).`;
    }),
  );

  // Temporal's schedule trigger: a firing of the schedule, under its overlap policy, recorded among the row's firings.
  app.post('/schedules/:missionId/trigger', authorize('OPERATOR'), valid('param', idParam), (c) =>
    act(c, async (m, ws) => {
      await triggerJob(deps.sql, deps.temporal, m.id, actorOf(c.get('user')!), ws);
      return `Triggered the schedule of ${m.name}: its firing shows under Firings once Temporal starts (or skips) it.`;
    }),
  );

  /** A datetime-local field, read in the schedule's own time zone. */
  const localTime = (value: string, label: string, timezone: string): Date => {
    if (!value) throw new ValidationError(`${label}: enter a date and time.`, [{ path: label.toLowerCase(), message: 'required' }]);
    const at = zonedInstant(value, timezone);
    if (!at) throw new ValidationError(`${label}: "${value}" is not a date and time like 2026-11-30T09:00.`, [{ path: label.toLowerCase(), message: 'not a date and time' }]);
    return at;
  };

  app.post('/schedules/:missionId/backfill', authorize('OPERATOR'), valid('param', idParam), async (c) => {
    const form = await readForm(c);
    return act(c, async (m, ws) => {
      const timezone = m.schedule!.timezone;
      const overlap = str(form, 'overlap') || DEFAULT_BACKFILL_OVERLAP;
      if (!(OVERLAP_POLICIES as readonly string[]).includes(overlap)) throw new ValidationError(`Overlap: "${overlap}" is not one of ${OVERLAP_POLICIES.join(', ')}.`);
      const range = {
        start: localTime(str(form, 'start'), 'Start', timezone), end: localTime(str(form, 'end'), 'End', timezone),
        overlap: overlap as (typeof OVERLAP_POLICIES)[number],
      };
      const done = await backfillSchedule(deps.sql, deps.temporal, m.id, range, actorOf(c.get('user')!), undefined, ws);
      const n = done.scheduledTimes.length;
      return `Backfilling ${m.name}: Temporal is starting ${n} run${n === 1 ? '' : 's'}, for ${formatInZone(range.start, timezone)} to ${formatInZone(range.end, timezone)}.`;
    });
  });

  return app;
}

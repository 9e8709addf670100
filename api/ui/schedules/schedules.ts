// Schedules (/schedules): every mission schedule with its cron in words, its
// time zone and its next runs in that zone; operators pause (with a note),
// unpause and run now, and the schedule's row re-renders. A schedule that
// Temporal cannot describe shows its error in its row, not a failed page.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { describeCron, formatInZone } from '../../../core/schedules/cron';
import { getMission, listMissions, type Mission } from '../../../core/missions/missions';
import { describeSchedule, pauseSchedule, runScheduleNow, type ScheduleView } from '../../../core/schedules/schedules';
import { actorOf } from '../../../core/access/users';
import { NotFoundError } from '../../../lib/errors';
import type { AppDeps, AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { noteBody } from '../../routes/schedules/schedules';
import { readForm, redirect, str } from '../common';
import { flash, flashing, formProblem, isHtmx } from '../form-problem';

const PER_PAGE = 20;
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
  error: string | null;
}

export function schedulePages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  const rowOf = async (m: Pick<Mission, 'id' | 'name' | 'status' | 'schedule'>): Promise<ScheduleRow> => {
    const cron = m.schedule?.cron ?? '';
    const base = { missionId: m.id, missionName: m.name, missionStatus: m.status, cron, cronText: describeCron(cron) };
    try {
      const view = await describeSchedule(deps.temporal, m);
      const nextRuns = view.nextRuns.map((at) => ({ at, text: formatInZone(at, view.timezone) }));
      return { ...base, timezone: view.timezone, view, nextRuns, error: null };
    } catch (err) {
      const p = formProblem(err);
      const message = p?.message ?? 'Temporal could not describe this schedule right now.';
      if (!p) deps.logger.warn({ err, missionId: m.id }, 'describing a schedule failed');
      return { ...base, timezone: m.schedule?.timezone ?? 'UTC', view: null, nextRuns: [], error: message };
    }
  };

  const list = async (c: Context<AppEnv>, offset: number, error?: string, status = 200) => {
    const page = await listMissions(deps.sql, { scheduled: true, limit: PER_PAGE, offset });
    const rows = await Promise.all(page.items.map(rowOf));
    return renderer.respond(c, { page: 'pages/schedules/schedules', partial: 'partials/schedules/schedules-list' }, {
      title: 'Schedules', rows, total: page.total, offset, perPage: PER_PAGE, error,
    }, status);
  };

  app.get('/schedules', authorize('VIEWER'), valid('query', pageQuery), (c) => list(c, c.req.valid('query').offset));

  const scheduled = async (missionId: string) => {
    const mission = await getMission(deps.sql, missionId);
    if (!mission.schedule) throw new NotFoundError('Schedule of this mission');
    return mission;
  };

  /** After a change: the row again for htmx, the list for a plain post; a mistake shows as a message. */
  const act = async (c: Context<AppEnv>, change: (mission: Mission) => Promise<string>) => {
    const { missionId } = idParam.parse(c.req.param());
    let done: string;
    try {
      done = await flashing(c, async () => change(await scheduled(missionId)));
    } catch (err) {
      const p = formProblem(err);
      if (!p || isHtmx(c)) throw err;
      return list(c, 0, p.message, p.status);
    }
    if (!isHtmx(c)) return redirect(c, '/schedules');
    flash(c, 'ok', done);
    const row = await rowOf(await getMission(deps.sql, missionId));
    return renderer.fragment(c, 'partials/schedules/schedule-row', { row });
  };

  // The same rule for the note as the API's (a cut at 500 characters could split a character in two).
  const noteOf = async (c: Context<AppEnv>) => noteBody.parse({ note: str(await readForm(c), 'note') || undefined }).note;

  app.post('/schedules/:missionId/pause', authorize('OPERATOR'), valid('param', idParam), async (c) => {
    const note = await noteOf(c);
    return act(c, async (m) => {
      await pauseSchedule(deps.sql, deps.temporal, m.id, true, note, actorOf(c.get('user')!));
      return `Paused the schedule of ${m.name}.`;
    });
  });

  app.post('/schedules/:missionId/unpause', authorize('OPERATOR'), valid('param', idParam), async (c) => {
    const note = await noteOf(c);
    return act(c, async (m) => {
      await pauseSchedule(deps.sql, deps.temporal, m.id, false, note, actorOf(c.get('user')!));
      return `Unpaused the schedule of ${m.name}.`;
    });
  });

  app.post('/schedules/:missionId/run', authorize('OPERATOR'), valid('param', idParam), (c) =>
    act(c, async (m) => {
      const run = await runScheduleNow(deps.sql, deps.temporal, m.id, actorOf(c.get('user')!));
      return `Started a run of ${m.name} (${run.workflowId}).`;
    }),
  );

  return app;
}

// Mission pages: the list, a mission's page (tasks, schedule, runs, run it),
// and the planner that creates and edits missions, with its live helpers
// (task rows, cron in words with the next runs, JSON checks). All in the session's
// workspace: another workspace's mission, container or pattern is not found here.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { listContainers } from '../../../core/patterns/containers';
import { describeCron, formatInZone, nextRuns, cronError } from '../../../core/schedules/cron';
import { timeZoneError } from '../../../core/schedules/time-zones';
import { removeMission, setMissionPaused } from '../../../core/missions/actions';
import { missionListQuery, OVERLAP_POLICIES, PRIORITIES, RETRY_POLICIES, TIMEOUT_ACTIONS, MISSION_TYPES } from '../../../core/missions/schemas';
import { executeMission } from '../../../core/runs/start';
import { listRuns } from '../../../core/runs/visibility';
import { createMission, getMission, listMissions, rotateTriggerSecret, updateMission, type Mission } from '../../../core/missions/missions';
import { listPatterns } from '../../../core/patterns/patterns';
import { listAgents } from '../../../core/agents/agents';
import { listDefinitions } from '../../../core/agents/definitions';
import { describeSchedule } from '../../../core/schedules/schedules';
import { applyScheduleAfterCommit } from '../../../core/schedules/sync';
import { SELECTION_POLICIES } from '../../../core/patterns/schemas';
import { actorOf } from '../../../core/access/users';
import { AppError } from '../../../lib/errors';
import { text } from '../../../lib/text';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { jsonField, readForm, redirect, str } from '../common';
import { emptyValues, newTaskRow, parsePlanner, plannerQuery, valuesFromForm, valuesOf, type FieldErrors, type PlannerValues } from './mission-form';
import { reasonBody } from '../../routes/runs/runs';

const idParam = z.object({ id: z.uuid('Not a valid mission id.') });
const empty = (v: unknown) => (v === '' ? undefined : v);
const listQuery = missionListQuery.extend({
  type: z.preprocess(empty, z.enum(MISSION_TYPES).optional()),
  priority: z.preprocess(empty, z.enum(PRIORITIES).optional()),
  status: z.preprocess(empty, z.enum(['draft', 'active', 'paused']).optional()),
  containerId: z.preprocess(empty, z.uuid().optional()),
  q: z.preprocess(empty, text().trim().max(120).optional()),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});

/** The agents a task (or the mission) may run on, and each kind's capabilities for "any agent with …". */
async function agentChoices(sql: AppDeps['sql'], ws: { id: string }) {
  const [agents, definitions] = await Promise.all([listAgents(sql, {}, ws), listDefinitions(sql, ws)]);
  const kinds = definitions.filter((d) => d.status !== 'deprecated').map((d) => ({ id: d.id, name: d.name, capabilities: d.capabilities }));
  return { agents: agents.map((a) => ({ id: a.id, name: a.name, status: a.status, definitionName: a.definitionName })), kinds };
}

export function missionPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();
  /**
   * After the commit the schedule follows in Temporal. The page goes on either way: the
   * mission is saved, its page shows the schedule's state, and the reconciler catches up.
   */
  const sync = async (mission: Mission) => {
    await applyScheduleAfterCommit(deps.sql, deps.temporal, mission.id, `Mission "${mission.name}" is saved.`).catch((err: Error) => {
      deps.logger.warn({ err, missionId: mission.id }, 'the schedule will be applied to Temporal by the reconciler');
    });
  };

  const plannerData = async (c: Context<AppEnv>, values: PlannerValues) => {
    const ws = currentWorkspace(c);
    const containers = (await listContainers(deps.sql, { limit: 200, offset: 0 }, ws)).items;
    const containerId = values.containerId || containers[0]?.id || '';
    // What was typed may be anything: only a real id is looked up.
    const patterns = z.uuid().safeParse(containerId).success ? (await listPatterns(deps.sql, { containerId, limit: 200, offset: 0 }, ws)).items : [];
    return {
      values: { ...values, containerId }, containers, patterns, ...(await agentChoices(deps.sql, ws)), policies: SELECTION_POLICIES, priorities: PRIORITIES, types: MISSION_TYPES,
      retryPolicies: RETRY_POLICIES, timeoutActions: TIMEOUT_ACTIONS, overlaps: OVERLAP_POLICIES,
      cron: cronPreview(values.cron, values.timezone),
    };
  };

  // The planner is a plain form: it always answers with the whole page.
  const planner = async (c: Context<AppEnv>, values: PlannerValues, extra: { mission?: Mission; errors?: FieldErrors; message?: string }, status = 200) =>
    renderer.respond(c, { page: 'pages/missions/mission-planner', partial: 'pages/missions/mission-planner' }, {
      title: extra.mission ? `Edit ${extra.mission.name}` : 'New mission', ...(await plannerData(c, values)), ...extra, errors: extra.errors ?? {},
    }, status);

  app.get('/missions', authorize('VIEWER'), valid('query', listQuery), async (c) => {
    const q = c.req.valid('query');
    const ws = currentWorkspace(c);
    const [page, containers] = await Promise.all([listMissions(deps.sql, q, ws), listContainers(deps.sql, { limit: 200, offset: 0 }, ws)]);
    return renderer.respond(c, { page: 'pages/missions/missions', partial: 'partials/missions/missions-table' }, { title: 'Missions', page, q, containers: containers.items, priorities: PRIORITIES, types: MISSION_TYPES });
  });

  app.get('/missions/new', authorize('OPERATOR'), valid('query', plannerQuery), async (c) => planner(c, emptyValues(c.req.valid('query').containerId ?? ''), {}));

  const save = async (c: Context<AppEnv>, existing?: Mission) => {
    const form = await readForm(c);
    const values = valuesFromForm(form);
    const activate = str(form, 'intent') !== 'draft';
    const { input, errors } = parsePlanner(values, activate ? 'active' : 'draft');
    if (!input) return planner(c, values, { mission: existing, errors, message: 'Some fields need attention.' }, 400);
    try {
      const actor = actorOf(c.get('user')!);
      const ws = currentWorkspace(c);
      if (existing) {
        const { status, ...rest } = input;
        await sync(await updateMission(deps.sql, existing.id, existing.status === 'draft' ? { ...rest, status } : rest, actor, undefined, ws));
        return redirect(c, `/missions/${existing.id}`);
      }
      const { mission, triggerSecret } = await createMission(deps.sql, input, actor, undefined, ws);
      await sync(mission);
      if (triggerSecret) return missionPage(c, mission.id, triggerSecret);
      return redirect(c, `/missions/${mission.id}`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      const details = Array.isArray(err.details) ? (err.details as { path: string; message: string }[]) : [];
      const fieldErrors: FieldErrors = {};
      for (const d of details) {
        const m = /^tasks\.(\d+)\.(\w+)$/.exec(d.path);
        fieldErrors[m ? `tasks.${values.tasks[Number(m[1])]?.key}.${m[2] === 'patternId' || m[2] === 'agent' ? 'source' : m[2]}` : d.path] = d.message;
      }
      return planner(c, values, { mission: existing, errors: fieldErrors, message: err.message }, err.status);
    }
  };

  app.post('/missions', authorize('OPERATOR'), (c) => save(c));

  // ---- planner helpers (fragments) ----------------------------------------------------

  app.get('/missions/planner/task-row', authorize('OPERATOR'), async (c) => {
    const containerId = c.req.query('containerId') ?? '';
    const patterns = z.uuid().safeParse(containerId).success
      ? (await listPatterns(deps.sql, { containerId, limit: 200, offset: 0 }, currentWorkspace(c))).items : [];
    const key = `n${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
    return renderer.fragment(c, 'partials/missions/task-row', {
      task: newTaskRow(key, Number(c.req.query('order') ?? 0) || 0), patterns, ...(await agentChoices(deps.sql, currentWorkspace(c))), policies: SELECTION_POLICIES, errors: {},
    });
  });

  // Removing a row is the server answering with nothing in its place (no client script needed).
  app.delete('/missions/planner/task-row', authorize('OPERATOR'), (c) => c.html(''));

  app.get('/missions/planner/tasks', authorize('OPERATOR'), async (c) => {
    const values = valuesFromForm(c.req.queries() as Record<string, string[]>);
    const data = await plannerData(c, values);
    return renderer.fragment(c, 'partials/missions/planner-tasks', { ...data, errors: {} });
  });

  app.get('/missions/planner/cron', authorize('OPERATOR'), (c) => renderer.fragment(c, 'partials/schedules/cron-preview', { cron: cronPreview(c.req.query('cron') ?? '', c.req.query('timezone') ?? 'UTC') }));

  app.post('/missions/planner/json', authorize('OPERATOR'), async (c) => {
    const form = await readForm(c);
    // htmx posts the whole form; the field that changed is named in HX-Trigger-Name.
    const name = c.req.header('HX-Trigger-Name') ?? 'input';
    const text = form[name] ?? form.input;
    let error: string | null = null;
    try {
      jsonField(Array.isArray(text) ? text.at(-1)! : text ?? '', 'input');
    } catch (err) {
      error = (err as Error).message.replace(/^input: /, '');
    }
    return renderer.fragment(c, 'partials/shared/json-check', { error });
  });

  // ---- one mission ------------------------------------------------------------------------

  /** A mission's page; right after creation or rotation it also shows the trigger secret, once, never in a URL. */
  const missionPage = async (c: Context<AppEnv>, id: string, secret: string | null = null) => {
    const mission = await getMission(deps.sql, id, currentWorkspace(c));
    const [runs, schedule] = await Promise.all([
      listRuns(deps.temporal, { missionId: mission.id }, 10).catch(() => ({ runs: [], next: null })),
      mission.schedule ? describeSchedule(deps.temporal, mission).catch((err: Error) => ({ error: err.message })) : Promise.resolve(null),
    ]);
    if (secret) c.header('Cache-Control', 'no-store');
    // The next runs are Temporal's, as on the schedules page: none while the schedule (or the mission) is paused.
    const paused = !!schedule && !('error' in schedule) && (schedule.paused || mission.status === 'paused');
    const nextRuns = schedule && !('error' in schedule) && !paused ? schedule.nextRuns.map((at) => ({ at, text: formatInZone(at, schedule.timezone) })) : [];
    return renderer.respond(c, { page: 'pages/missions/mission', partial: 'pages/missions/mission' }, {
      title: mission.name, mission, runs: runs.runs, schedule, secret, paused, nextRuns,
      cron: mission.schedule ? cronPreview(mission.schedule.cron, mission.schedule.timezone) : null,
    });
  };

  app.get('/missions/:id', authorize('VIEWER'), valid('param', idParam), (c) => missionPage(c, c.req.valid('param').id));

  app.get('/missions/:id/edit', authorize('OPERATOR'), valid('param', idParam), async (c) => {
    const mission = await getMission(deps.sql, c.req.valid('param').id, currentWorkspace(c));
    return planner(c, valuesOf(mission), { mission });
  });

  app.post('/missions/:id', authorize('OPERATOR'), valid('param', idParam), async (c) => save(c, await getMission(deps.sql, c.req.valid('param').id, currentWorkspace(c))));

  app.post('/missions/:id/execute', authorize('OPERATOR'), valid('param', idParam), async (c) => {
    const form = await readForm(c);
    const input = str(form, 'input') ? jsonField(str(form, 'input'), 'Run input') : undefined;
    const run = await executeMission(deps.sql, deps.temporal, { missionId: c.req.valid('param').id, trigger: 'manual', actor: actorOf(c.get('user')!), input }, currentWorkspace(c));
    return redirect(c, `/runs/${encodeURIComponent(run.workflowId)}`);
  });

  for (const what of ['pause', 'resume'] as const) {
    app.post(`/missions/:id/${what}`, authorize('OPERATOR'), valid('param', idParam), async (c) => {
      const { id } = c.req.valid('param');
      const form = await readForm(c);
      const { reason } = reasonBody.parse({ reason: str(form, 'reason') || undefined });
      await setMissionPaused(deps.sql, deps.temporal, id, what === 'pause', actorOf(c.get('user')!), reason, currentWorkspace(c));
      return redirect(c, `/missions/${id}`);
    });
  }

  app.post('/missions/:id/trigger-secret', authorize('OPERATOR'), valid('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    return missionPage(c, id, await rotateTriggerSecret(deps.sql, id, actorOf(c.get('user')!), currentWorkspace(c)));
  });

  app.post('/missions/:id/delete', authorize('OPERATOR'), valid('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    await removeMission(deps.sql, deps.temporal, id, actorOf(c.get('user')!), currentWorkspace(c));
    return redirect(c, '/missions');
  });

  return app;
}

export interface CronPreview {
  ok: boolean;
  words: string;
  next: string[];
  error: string | null;
}

export function cronPreview(cron: string, timezone: string): CronPreview {
  const problem = cron ? cronError(cron) : 'is empty';
  if (problem) return { ok: false, words: '', next: [], error: `The cron expression ${problem}.` };
  const zoneProblem = timeZoneError(timezone);
  if (zoneProblem) return { ok: false, words: describeCron(cron), next: [], error: `The time zone ${zoneProblem}.` };
  return { ok: true, words: describeCron(cron), next: nextRuns(cron, timezone, 5).map((d) => formatInZone(d, timezone)), error: null };
}

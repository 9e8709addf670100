// Global pause (issue 12, seed 002's pause flags): one admin switch per workspace that
// holds every open run at its next task boundary (the API's pause Update, reason
// "global pause by <admin>: <reason>"), every schedule (../schedules/sync.ts pauses what
// the switch holds) and every agent dispatch (../agents/tasks.ts answers "no agent"),
// and a resume that restores exactly what it held. Each direction commits the switch
// with its audit entry first, then brings Temporal in line by a sweep that can be
// repeated: a crash or an outage halfway leaves what the next enable or disable (and,
// for schedules, the reconciler) completes.
import type { Sql, TxSql } from '../../db/sql';
import { AppError } from '../../lib/errors';
import type { TemporalHandle } from '../../lib/temporal';
import { appendAudit, type Actor } from '../audit/audit-log';
import { markSchedulePending, temporalError } from '../missions/mission-sync';
import { unavailable } from '../runs/temporal-errors';
import { runQuery, summarise, type RunWorkspace } from '../runs/visibility';
import { syncMissionSchedule } from '../schedules/sync';
import {
  GLOBAL_PAUSE_KEY, activeHold, getGlobalPause, holdRun, listHolds, readGlobalPause, releaseRun,
  type GlobalPause, type Hold, type StoredGlobalPause,
} from './global-pause-state';

export { getGlobalPause };

export interface GlobalPauseCounts {
  runs: number;
  schedules: number;
}

export interface EnableOutcome {
  globalPause: GlobalPause;
  /** What this request paused (a repeated enable pauses only what an earlier one missed). */
  paused: GlobalPauseCounts;
  /** Open runs someone had paused before: left as they are, and left paused by the resume. */
  pausedBefore: number;
}

export interface DisableOutcome {
  globalPause: GlobalPause;
  resumed: GlobalPauseCounts;
}

/** Temporal calls in flight at once during a sweep. */
const PARALLEL = 8;

export async function enableGlobalPause(sql: Sql, temporal: TemporalHandle, ws: RunWorkspace, actor: Actor, reason: string): Promise<EnableOutcome> {
  const { hold, missionIds } = await sql.begin(async (tx) => {
    // The safety settings' lock (./settings.ts): their switches apply one at a time.
    await tx`select pg_advisory_xact_lock(727004)`;
    if (!(await readGlobalPause(tx, ws.id)).enabled) {
      const at = new Date().toISOString();
      await putGlobalPause(tx, ws.id, { enabled: true, by: actor.name, byId: actor.id, at, reason, hold: `global pause by ${actor.name}: ${reason}` }, actor);
      await appendAudit(tx, { actor, action: 'safety.global_pause.enabled', entityType: 'settings', entityId: 'safety', details: { reason }, workspaceId: ws.id });
    }
    return { hold: (await activeHold(tx, ws.id))!, missionIds: await markSchedules(tx, ws.id) };
  });
  return sweeping('on', async () => {
    await syncSchedules(sql, temporal, missionIds);
    const schedules = await recordHeldSchedules(sql, ws.id, hold);
    let runs = 0;
    let pausedBefore = 0;
    await pool(await openRuns(sql, temporal, ws), async (run) => {
      // Turned off meanwhile: the resume owns the workspace's runs now.
      if (!(await readGlobalPause(sql, ws.id)).enabled) return;
      const outcome = await holdRun(sql, temporal, ws, run.workflowId, hold, actor, run.status);
      if (outcome === 'held') runs++;
      if (outcome === 'paused_before') pausedBefore++;
    });
    return { globalPause: await getGlobalPause(sql, ws.id), paused: { runs, schedules }, pausedBefore };
  });
}

export async function disableGlobalPause(sql: Sql, temporal: TemporalHandle, ws: RunWorkspace, actor: Actor): Promise<DisableOutcome> {
  const missionIds = await sql.begin(async (tx) => {
    // The safety settings' lock (./settings.ts): their switches apply one at a time.
    await tx`select pg_advisory_xact_lock(727004)`;
    const before = await readGlobalPause(tx, ws.id);
    if (before.enabled) {
      await putGlobalPause(tx, ws.id, { enabled: false, by: actor.name, byId: actor.id, at: new Date().toISOString(), reason: null, hold: null }, actor);
      await appendAudit(tx, {
        actor, action: 'safety.global_pause.disabled', entityType: 'settings', entityId: 'safety',
        details: { reason: before.reason, since: before.at, by: before.by }, workspaceId: ws.id,
      });
    }
    return markSchedules(tx, ws.id);
  });
  return sweeping('off', async () => {
    await syncSchedules(sql, temporal, missionIds);
    const [{ schedules }] = (await sql`
      with gone as (delete from global_pause_holds where workspace_id = ${ws.id} and kind = 'schedule' returning 1)
      select count(*)::int as schedules from gone`) as unknown as [{ schedules: number }];
    let runs = 0;
    await pool(await listHolds(sql, ws.id, 'run'), async (h) => {
      // Turned on again meanwhile: the hold stands.
      if ((await readGlobalPause(sql, ws.id)).enabled) return;
      if (await releaseRun(sql, temporal, ws.id, h.targetId, h.holdReason, actor)) runs++;
    });
    return { globalPause: await getGlobalPause(sql, ws.id), resumed: { runs, schedules } };
  });
}

async function putGlobalPause(tx: TxSql, workspaceId: string, value: StoredGlobalPause, actor: Actor): Promise<void> {
  await tx`
    insert into workspace_settings (workspace_id, key, value, updated_at, updated_by)
    values (${workspaceId}, ${GLOBAL_PAUSE_KEY}, ${tx.json(value as never)}, now(), ${actor.id})
    on conflict (workspace_id, key) do update set value = excluded.value, updated_at = now(), updated_by = excluded.updated_by`;
}

/** Every schedule of the workspace must be applied again (with or without the hold): now, or by the reconciler. */
async function markSchedules(tx: TxSql, workspaceId: string): Promise<string[]> {
  const ids = (await tx<{ id: string }[]>`select id from missions where workspace_id = ${workspaceId} and schedule is not null order by id`).map((r) => r.id);
  for (const id of ids) await markSchedulePending(tx, id);
  return ids;
}

async function syncSchedules(sql: Sql, temporal: TemporalHandle, missionIds: string[]): Promise<void> {
  // A schedule another replica is applying ('busy') stays pending: the reconciler applies it with the same rule.
  await pool(missionIds, async (id) => void (await syncMissionSchedule(sql, temporal, id, { waitMs: 5000 })));
}

/**
 * The schedules the switch holds: those whose own state is to run (not paused themselves, their mission
 * not paused). Read after the sync, which has taken over any pause made in Temporal meanwhile.
 */
async function recordHeldSchedules(sql: Sql, workspaceId: string, hold: Hold): Promise<number> {
  const rows = await sql`
    insert into global_pause_holds (workspace_id, kind, target_id, hold_reason)
    select workspace_id, 'schedule', id::text, ${hold.reason} from missions
    where workspace_id = ${workspaceId} and schedule is not null and status <> 'paused'
      and coalesce((schedule->>'paused')::boolean, false) = false
    on conflict do nothing
    returning 1`;
  return rows.length;
}

/**
 * The workspace's open runs by visibility, and the runs started in the last minutes by the audit log
 * (visibility may not list a run started a moment ago yet; one that has ended since answers as ended).
 */
async function openRuns(sql: Sql, temporal: TemporalHandle, ws: RunWorkspace): Promise<{ workflowId: string; status?: string }[]> {
  const runs = new Map<string, { workflowId: string; status?: string }>();
  const recent = await sql<{ workflowId: string }[]>`
    select distinct details->>'workflowId' as "workflowId" from audit_log
    where workspace_id = ${ws.id} and action = 'mission.executed' and at > now() - interval '5 minutes' and details ? 'workflowId'`;
  for (const r of recent) runs.set(r.workflowId, { workflowId: r.workflowId });
  try {
    for await (const info of temporal.client.workflow.list({ query: `${runQuery({ workspace: ws })} AND ExecutionStatus = 'Running'` })) {
      const run = summarise(info);
      runs.set(run.workflowId, { workflowId: run.workflowId, status: run.status });
    }
  } catch (err) {
    throw unavailable(err);
  }
  return [...runs.values()];
}

/** Runs `fn` over `items`, PARALLEL at a time; the first failure stops new work and is thrown. */
async function pool<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      await fn(item).catch((err) => {
        failed = true;
        throw err;
      });
    }
  }));
}

/** Temporal out: the switch is saved; the answer says what follows on its own and what needs the request again. */
async function sweeping<T>(to: 'on' | 'off', sweep: () => Promise<T>): Promise<T> {
  try {
    return await sweep();
  } catch (err) {
    const e = temporalError(err);
    if (!(e instanceof AppError) || e.status !== 503) throw err;
    const runs = to === 'on' ? 'some open runs may not be held yet' : 'some held runs may not be resumed yet';
    throw new AppError(503, 'temporal_unavailable',
      `Global pause is ${to} and saved. Temporal is not reachable right now: schedules follow automatically once it is back, but ${runs}; `
      + `${to === 'on' ? 'turn global pause on' : 'resume'} again then to finish.`, { saved: true });
  }
}

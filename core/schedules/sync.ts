// Mirrors a mission's schedule into the Temporal Schedule mission-<missionId>,
// after PostgreSQL has committed it (never inside a transaction). Idempotent:
// it reads the mission's latest version, makes Temporal match, and records the
// version applied; a write made meanwhile stays pending for the next pass. It
// also notices a paused state changed outside the app (the CLI, the Web UI),
// takes it over and audits it once. System code: it goes by mission id, in whatever
// workspace the mission row names (its callers have checked the caller's workspace).
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type ScheduleDescription, type ScheduleHandle, type ScheduleOptionsAction } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { Sql } from '../../db/sql';
import { MISSION_WORKFLOW_TYPE, missionScheduleId, missionWorkflowId } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import { newMissionInput, workspaceIdKey } from '../../workflows/messages';
import { appendAudit } from '../audit/audit-log';
import {
  forgetIfDone, markSchedulePending, readSync, savedButPending, scheduleSynced, syncFailed, temporalError, withSyncLock, type SyncRow,
} from '../missions/mission-sync';
import type { ScheduleInput } from '../missions/schemas';
import { getMissionAnyWorkspace, type Mission } from '../missions/missions';
import { activeHold } from '../safety/global-pause-state';
import { startOptions } from '../runs/start';

export const OVERLAP: Record<ScheduleInput['overlap'], ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  buffer_one: ScheduleOverlapPolicy.BUFFER_ONE,
  buffer_all: ScheduleOverlapPolicy.BUFFER_ALL,
  cancel_other: ScheduleOverlapPolicy.CANCEL_OTHER,
  terminate_other: ScheduleOverlapPolicy.TERMINATE_OTHER,
  allow_all: ScheduleOverlapPolicy.ALLOW_ALL,
};

/** Who changes a schedule's paused state outside the app, in the audit log. */
export const OUTSIDE_ACTOR = { id: null, name: 'temporal-cli' };

interface PauseState {
  paused: boolean;
  note: string | null;
}


function spec(s: ScheduleInput) {
  return {
    cronExpressions: [s.cron],
    timezone: s.timezone,
    ...(s.startDate ? { startAt: new Date(s.startDate) } : {}),
    ...(s.endDate ? { endAt: new Date(s.endDate) } : {}),
  };
}

function action(temporal: TemporalHandle, mission: Mission): ScheduleOptionsAction {
  const args = newMissionInput({ missionId: mission.id, trigger: 'scheduled' });
  return {
    type: 'startWorkflow',
    workflowType: MISSION_WORKFLOW_TYPE,
    taskQueue: temporal.taskQueue,
    // Temporal appends the scheduled time (to the second), giving mission-<id>-scheduled-<time>.
    workflowId: missionWorkflowId(mission.id, 'scheduled'),
    args: [args],
    ...startOptions({
      missionId: mission.id, missionName: mission.name, containerId: mission.containerId, priority: mission.priority,
      workspaceId: mission.workspaceId, taskCount: mission.taskCount,
    }, 'scheduled'),
  };
}

/** The schedule's own search attributes (`temporal schedule list --query "WorkspaceId='…'"`): the whole set, on create and on every update. */
const scheduleAttributes = (mission: Mission) => new TypedSearchAttributes([{ key: workspaceIdKey, value: mission.workspaceId }]);

/**
 * The schedule's own pause wins; else a paused mission pauses it; else the workspace's global pause
 * (`hold`, its note) holds it; else it runs. So a global resume restores each schedule's own state.
 */
function desiredState(s: ScheduleInput, mission: Mission, row: SyncRow | null, hold: string | null = null): PauseState {
  if (s.paused) return { paused: true, note: s.note || 'paused' };
  if (mission.status === 'paused') {
    return { paused: true, note: `mission paused by ${row?.pauseActor ?? 'an operator'}${row?.pauseReason ? `: ${row.pauseReason}` : ''}` };
  }
  if (hold) return { paused: true, note: hold };
  return { paused: false, note: s.note || 'unpaused' };
}

const seenState = (d: ScheduleDescription): PauseState => ({ paused: d.state.paused, note: d.state.note || null });
const same = (a: PauseState, b: PauseState) => a.paused === b.paused && (a.note ?? '') === (b.note ?? '');

async function describeOrNull(handle: ScheduleHandle): Promise<ScheduleDescription | null> {
  try {
    return await handle.describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
}

async function findMission(sql: Sql, missionId: string): Promise<Mission | null> {
  return getMissionAnyWorkspace(sql, missionId).catch((err: Error) => {
    if (err.name === 'NotFoundError') return null;
    throw err;
  });
}

/**
 * Someone paused, unpaused or re-noted the schedule outside the app since the app last
 * saw it: the mission takes the new state over, and the change is audited once (the row
 * is locked for this PostgreSQL-only transaction, and the entry has a key made from the
 * schedule's own change counter). A schedule seen for the first time is taken over
 * without an entry: nobody knows when it changed.
 */
async function adoptOutsideChange(sql: Sql, mission: Mission, d: ScheduleDescription, audit = true): Promise<boolean> {
  const missionId = mission.id;
  const seen = seenState(d);
  const scheduleId = missionScheduleId(missionId);
  const token = Buffer.from(d.raw.conflictToken ?? new Uint8Array()).toString('hex');
  return sql.begin(async (tx) => {
    const row = await readSync(tx, missionId, true);
    if (!row || (row.schedulePaused !== null && same(seen, { paused: row.schedulePaused, note: row.scheduleNote }))) return false;
    await tx`
      update missions set schedule = (schedule - 'note') || ${tx.json({ paused: seen.paused, ...(seen.note ? { note: seen.note } : {}) })}
      where id = ${missionId} and schedule is not null`;
    await tx`update mission_sync set schedule_paused = ${seen.paused}, schedule_note = ${seen.note}, updated_at = now() where mission_id = ${missionId}`;
    if (audit) await appendAudit(tx, {
      actor: OUTSIDE_ACTOR, action: seen.paused ? 'schedule.paused' : 'schedule.unpaused', entityType: 'schedule', entityId: scheduleId,
      details: { missionId, ...(seen.note ? { note: seen.note } : {}), source: 'temporal' },
      idempotencyKey: `schedule.state:${scheduleId}:${d.info.createdAt.toISOString()}:${token}`, workspaceId: mission.workspaceId,
    });
    return true;
  });
}

export type ScheduleSyncOutcome = 'busy' | 'none' | 'created' | 'updated' | 'deleted';

/**
 * Takes over a paused state changed outside the app: one that is neither what the app
 * last saw nor what it wanted (its own write, not yet recorded). A schedule seen for the
 * first time (from before mission_sync) keeps a pause found in Temporal, never undone.
 */
async function noticeOutsideChange(sql: Sql, mission: Mission, row: SyncRow, current: ScheduleDescription, hold: string | null): Promise<'audited' | 'taken' | null> {
  const seen = seenState(current);
  const wanted = desiredState(mission.schedule!, mission, row, hold);
  if (row.schedulePaused === null) return seen.paused && !wanted.paused && (await adoptOutsideChange(sql, mission, current, false)) ? 'taken' : null;
  if (same(seen, { paused: row.schedulePaused, note: row.scheduleNote }) || same(seen, wanted)) return null;
  return (await adoptOutsideChange(sql, mission, current)) ? 'audited' : null;
}

/** Makes Temporal show the mission's schedule; returns what it did and the paused state Temporal now has. */
async function push(temporal: TemporalHandle, handle: ScheduleHandle, mission: Mission | null, row: SyncRow, current: ScheduleDescription | null, hold: string | null) {
  const s = mission?.schedule;
  if (!s) {
    if (current) await handle.delete().catch((err) => { if (!(err instanceof ScheduleNotFoundError)) throw err; });
    return { outcome: current ? 'deleted' as const : 'none' as const, state: null };
  }
  const want = desiredState(s, mission!, row, hold);
  if (!current) {
    const state: PauseState = want.paused ? want : { paused: false, note: null }; // a new running schedule needs no note
    await temporal.client.schedule.create({
      scheduleId: missionScheduleId(mission!.id), spec: spec(s), action: action(temporal, mission!), typedSearchAttributes: scheduleAttributes(mission!),
      policies: { overlap: OVERLAP[s.overlap], catchupWindow: '1 minute' },
      state: { paused: state.paused, ...(state.note ? { note: state.note } : {}) },
    });
    return { outcome: 'created' as const, state };
  }
  if (row.scheduleSyncedVersion >= row.scheduleVersion) return { outcome: 'none' as const, state: seenState(current) };
  // One request: Temporal may apply a pause sent right after an update before the update itself.
  // The state stays as it is unless the app wants it otherwise.
  let state = seenState(current);
  await handle.update((prev: ScheduleDescription) => {
    const change = want.paused !== prev.state.paused;
    state = change ? want : seenState(prev);
    return {
      ...prev, spec: spec(s), action: action(temporal, mission!), policies: { ...prev.policies, overlap: OVERLAP[s.overlap] },
      searchAttributes: undefined, typedSearchAttributes: scheduleAttributes(mission!),
      state: change ? { ...prev.state, paused: want.paused, note: want.note ?? undefined } : prev.state,
    };
  });
  return { outcome: 'updated' as const, state };
}

/**
 * Brings Temporal in line with the mission's schedule. `observe` (the reconciler) also
 * describes a schedule that is up to date, to notice changes made outside the app and a
 * schedule deleted behind its back; without it only a pending change calls Temporal.
 */
export async function syncMissionSchedule(
  sql: Sql, temporal: TemporalHandle, missionId: string, opts: { observe?: boolean; waitMs?: number } = {},
): Promise<{ outcome: ScheduleSyncOutcome; adopted: boolean }> {
  const locked = await withSyncLock(sql, `schedule:${missionId}`, async () => {
    let mission = await findMission(sql, missionId);
    let row = await readSync(sql, missionId);
    if (!row && mission?.schedule) {
      await markSchedulePending(sql, missionId); // a schedule nobody marked yet: track it from now on
      row = await readSync(sql, missionId);
    }
    const upToDate = !!row && row.scheduleSyncedVersion >= row.scheduleVersion;
    // Up to date and nothing to look at (no observing, or no schedule to observe): Temporal is not called.
    if (!row || (upToDate && (!opts.observe || !mission?.schedule))) return { outcome: 'none' as const, adopted: false };
    const handle = temporal.client.schedule.getHandle(missionScheduleId(missionId));
    // While the workspace's global pause is on, its note is the one the schedule is held with.
    const hold = mission ? ((await activeHold(sql, mission.workspaceId))?.reason ?? null) : null;
    try {
      const current = await describeOrNull(handle);
      const noticed = current && mission?.schedule ? await noticeOutsideChange(sql, mission, row, current, hold) : null;
      if (noticed) {
        // Taken over while the global pause holds the workspace: the hold applies again at once.
        if (hold) await markSchedulePending(sql, missionId);
        mission = await findMission(sql, missionId);
        row = (await readSync(sql, missionId))!;
      }
      const { outcome, state } = await push(temporal, handle, mission, row, current, hold);
      const known = row.schedulePaused === null ? null : { paused: row.schedulePaused, note: row.scheduleNote };
      const unchanged = outcome === 'none' && upToDate && (state && known ? same(state, known) : state === known);
      if (!unchanged) await scheduleSynced(sql, missionId, row.scheduleVersion, state);
      if (!mission) await forgetIfDone(sql, missionId);
      return { outcome, adopted: noticed === 'audited' };
    } catch (err) {
      await syncFailed(sql, missionId, err).catch(() => undefined);
      throw temporalError(err);
    }
  }, opts.waitMs ?? 0);
  return locked.locked ? locked.value : { outcome: 'busy', adopted: false };
}

/**
 * Right after a commit: applies the schedule at once (waiting briefly for a replica that
 * is applying it). Temporal being down answers 503, saying the change is saved and follows.
 */
export async function applyScheduleAfterCommit(sql: Sql, temporal: TemporalHandle, missionId: string, saved: string, details: Record<string, unknown> = {}): Promise<void> {
  try {
    await syncMissionSchedule(sql, temporal, missionId, { waitMs: 5000 });
  } catch (err) {
    throw savedButPending(err, saved, 'its schedule will be brought up to date in Temporal automatically', { missionId, ...details });
  }
}

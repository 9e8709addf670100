// A mission's schedule is the Temporal Schedule `mission-<missionId>`. Its
// definition lives with the mission in PostgreSQL and is mirrored to Temporal
// in the same transaction; its state (paused, next runs) is read from Temporal.
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type ScheduleDescription, type ScheduleOptionsAction } from '@temporalio/client';
import type { TxSql } from '../../db/sql';
import { ConflictError, NotFoundError } from '../../lib/errors';
import { MISSION_WORKFLOW_TYPE, missionScheduleId, missionWorkflowId } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import type { MissionInput } from '../../workflows/messages';
import { appendAudit, type Actor } from '../audit/audit-log';
import type { ScheduleInput } from '../missions/schemas';
import { startOptions } from '../runs/start';
import { unavailable } from '../runs/temporal-errors';
import type { Mission } from '../missions/missions';

const OVERLAP: Record<ScheduleInput['overlap'], ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  buffer_one: ScheduleOverlapPolicy.BUFFER_ONE,
  buffer_all: ScheduleOverlapPolicy.BUFFER_ALL,
  cancel_other: ScheduleOverlapPolicy.CANCEL_OTHER,
  terminate_other: ScheduleOverlapPolicy.TERMINATE_OTHER,
  allow_all: ScheduleOverlapPolicy.ALLOW_ALL,
};

export interface ScheduleView {
  scheduleId: string;
  missionId: string;
  missionName: string;
  cron: string;
  timezone: string;
  startDate: string | null;
  endDate: string | null;
  overlap: string;
  paused: boolean;
  note: string | null;
  nextRuns: Date[];
  recentRuns: { scheduledAt: Date; workflowId: string }[];
  runningWorkflowIds: string[];
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
  const args: MissionInput = { missionId: mission.id, trigger: 'scheduled' };
  return {
    type: 'startWorkflow',
    workflowType: MISSION_WORKFLOW_TYPE,
    taskQueue: temporal.taskQueue,
    // Temporal appends the scheduled time, giving mission-<id>-scheduled-<time>.
    workflowId: missionWorkflowId(mission.id, 'scheduled'),
    args: [args],
    ...startOptions({ missionId: mission.id, missionName: mission.name, containerId: mission.containerId, priority: mission.priority }, 'scheduled'),
  };
}

/** Makes the Temporal Schedule match the mission: created, updated, or deleted when the mission has none. */
export async function syncSchedule(temporal: TemporalHandle, mission: Mission): Promise<void> {
  const handle = temporal.client.schedule.getHandle(missionScheduleId(mission.id));
  try {
    const existing = await handle.describe().catch((err) => {
      if (err instanceof ScheduleNotFoundError) return null;
      throw err;
    });
    const s = mission.schedule;
    if (!s) {
      if (existing) await handle.delete();
      return;
    }
    if (!existing) {
      await temporal.client.schedule.create({
        scheduleId: missionScheduleId(mission.id),
        spec: spec(s),
        action: action(temporal, mission),
        policies: { overlap: OVERLAP[s.overlap], catchupWindow: '1 minute' },
        state: { paused: s.paused || mission.status === 'paused', note: s.note ?? (s.paused ? 'created paused' : undefined) },
      });
      return;
    }
    await handle.update((prev: ScheduleDescription) => ({
      ...prev,
      spec: spec(s),
      action: action(temporal, mission),
      policies: { ...prev.policies, overlap: OVERLAP[s.overlap] },
    }));
  } catch (err) {
    throw unavailable(err);
  }
}

export async function deleteSchedule(temporal: TemporalHandle, missionId: string): Promise<void> {
  try {
    await temporal.client.schedule.getHandle(missionScheduleId(missionId)).delete();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return;
    throw unavailable(err);
  }
}

export async function describeSchedule(temporal: TemporalHandle, mission: Pick<Mission, 'id' | 'name' | 'schedule'>): Promise<ScheduleView> {
  let d: ScheduleDescription;
  try {
    d = await temporal.client.schedule.getHandle(missionScheduleId(mission.id)).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new NotFoundError('Schedule of this mission');
    throw unavailable(err);
  }
  const overlap = Object.entries(OVERLAP).find(([, v]) => v === d.policies.overlap)?.[0] ?? 'skip';
  return {
    scheduleId: d.scheduleId,
    missionId: mission.id,
    missionName: mission.name,
    cron: mission.schedule?.cron ?? '',
    timezone: d.spec.timezone ?? 'UTC',
    startDate: d.spec.startAt?.toISOString() ?? null,
    endDate: d.spec.endAt?.toISOString() ?? null,
    overlap,
    paused: d.state.paused,
    note: d.state.note ?? null,
    nextRuns: d.info.nextActionTimes.slice(0, 5),
    recentRuns: d.info.recentActions.slice(-5).reverse().map((a) => ({ scheduledAt: a.scheduledAt, workflowId: a.action.workflow.workflowId })),
    runningWorkflowIds: d.info.runningActions.map((a) => a.workflow.workflowId),
  };
}

export async function pauseSchedule(sql: TxSql, temporal: TemporalHandle, missionId: string, paused: boolean, note: string | undefined, actor: Actor): Promise<void> {
  const handle = temporal.client.schedule.getHandle(missionScheduleId(missionId));
  try {
    if (paused) await handle.pause(note || `paused by ${actor.name}`);
    else await handle.unpause(note || `unpaused by ${actor.name}`);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new NotFoundError('Schedule of this mission');
    throw unavailable(err);
  }
  await sql`update missions set schedule = jsonb_set(schedule, '{paused}', ${sql.json(paused)}), updated_at = now() where id = ${missionId} and schedule is not null`;
  await appendAudit(sql, {
    actor, action: paused ? 'schedule.paused' : 'schedule.unpaused', entityType: 'schedule', entityId: missionScheduleId(missionId),
    details: { missionId, ...(note ? { note } : {}) },
  });
}

export async function runScheduleNow(sql: TxSql, temporal: TemporalHandle, missionId: string, actor: Actor): Promise<void> {
  const [mission] = await sql<{ name: string; status: string }[]>`select name, status from missions where id = ${missionId}`;
  if (mission?.status === 'paused') throw new ConflictError(`Mission "${mission.name}" is paused; resume it before running it.`);
  try {
    // ALLOW_ALL: "run now" means now, even if a scheduled run is still going.
    await temporal.client.schedule.getHandle(missionScheduleId(missionId)).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new NotFoundError('Schedule of this mission');
    throw unavailable(err);
  }
  await appendAudit(sql, { actor, action: 'schedule.run_now', entityType: 'schedule', entityId: missionScheduleId(missionId), details: { missionId } });
}

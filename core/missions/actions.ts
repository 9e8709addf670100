// Mission-level pause and resume: they act on the mission's open runs and
// its schedule together, and are audited once on the mission.
import { ScheduleNotFoundError } from '@temporalio/client';
import type { Sql } from '../../db/sql';
import { ConflictError } from '../../lib/errors';
import { missionScheduleId } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import { pauseSignal, resumeSignal } from '../../workflows/messages';
import { appendAudit, type Actor } from '../audit/audit-log';
import { unavailable } from '../runs/temporal-errors';
import { openRuns } from '../runs/visibility';
import { deleteMission, getMission, setMissionStatus } from './missions';
import { deleteSchedule } from '../schedules/schedules';

const MISSION_PAUSE_NOTE = 'mission paused';

export async function setMissionPaused(
  sql: Sql, temporal: TemporalHandle, missionId: string, paused: boolean, actor: Actor, reason?: string,
): Promise<{ runs: number; schedule: boolean }> {
  return sql.begin(async (tx) => {
    const mission = await getMission(tx, missionId);
    if (paused && mission.status === 'paused') throw new ConflictError(`Mission "${mission.name}" is already paused.`);
    if (!paused && mission.status !== 'paused') throw new ConflictError(`Mission "${mission.name}" is not paused.`);
    await setMissionStatus(tx, missionId, paused ? 'paused' : 'active');
    // The schedule's own state is read from Temporal (an operator may have paused it from the CLI):
    // pausing the mission pauses a running schedule; resuming unpauses only what the mission paused.
    let schedule = false;
    try {
      if (mission.schedule) {
        const handle = temporal.client.schedule.getHandle(missionScheduleId(missionId));
        const { state } = await handle.describe();
        if (paused && !state.paused) {
          await handle.pause(`${MISSION_PAUSE_NOTE} by ${actor.name}${reason ? `: ${reason}` : ''}`);
          schedule = true;
        } else if (!paused && state.paused && state.note?.startsWith(MISSION_PAUSE_NOTE)) {
          await handle.unpause(`mission resumed by ${actor.name}`);
          schedule = true;
        }
      }
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw unavailable(err);
    }
    const open = (await openRuns(temporal, missionId)).filter((r) => (paused ? r.status !== 'Paused' : r.status === 'Paused'));
    for (const run of open) {
      const handle = temporal.client.workflow.getHandle(run.workflowId);
      try {
        if (paused) await handle.signal(pauseSignal, { reason, actor: actor.name });
        else await handle.signal(resumeSignal, { actor: actor.name });
      } catch (err) {
        throw unavailable(err);
      }
    }
    await appendAudit(tx, {
      actor, action: paused ? 'mission.paused' : 'mission.resumed', entityType: 'mission', entityId: missionId,
      details: { runs: open.map((r) => r.workflowId), schedule, ...(reason ? { reason } : {}) },
    });
    return { runs: open.length, schedule };
  });
}

/** Deletes a mission with no run in progress, and its schedule, in one transaction with the audit entry. */
export async function removeMission(sql: Sql, temporal: TemporalHandle, missionId: string, actor: Actor): Promise<void> {
  await deleteMission(sql, missionId, actor, async () => {
    const [open] = await openRuns(temporal, missionId, 1);
    if (open) throw new ConflictError('This mission has runs in progress; cancel them or let them finish before deleting it.', { workflowId: open.workflowId });
    await deleteSchedule(temporal, missionId);
  });
}

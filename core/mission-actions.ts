// Mission-level pause and resume: they act on the mission's open runs and
// its schedule together, and are audited once on the mission.
import { ScheduleNotFoundError } from '@temporalio/client';
import type { Sql } from '../db/sql';
import { ConflictError } from '../lib/errors';
import { missionScheduleId } from '../lib/names';
import type { TemporalHandle } from '../lib/temporal';
import { pauseSignal, resumeSignal } from '../workflows/messages';
import { appendAudit, type Actor } from './audit';
import { listRuns, unavailable } from './mission-runs';
import { getMission, setMissionStatus } from './missions';

export async function setMissionPaused(
  sql: Sql, temporal: TemporalHandle, missionId: string, paused: boolean, actor: Actor, reason?: string,
): Promise<{ runs: number; schedule: boolean }> {
  return sql.begin(async (tx) => {
    const mission = await getMission(tx, missionId);
    if (paused && mission.status === 'paused') throw new ConflictError(`Mission "${mission.name}" is already paused.`);
    if (!paused && mission.status !== 'paused') throw new ConflictError(`Mission "${mission.name}" is not paused.`);
    await setMissionStatus(tx, missionId, paused ? 'paused' : 'active');
    let schedule = false;
    try {
      if (mission.schedule && !mission.schedule.paused) {
        const handle = temporal.client.schedule.getHandle(missionScheduleId(missionId));
        if (paused) await handle.pause(`mission paused by ${actor.name}${reason ? `: ${reason}` : ''}`);
        else await handle.unpause(`mission resumed by ${actor.name}`);
        schedule = true;
      }
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw unavailable(err);
    }
    const open = (await Promise.all(
      (paused ? (['Running', 'NeedsApproval'] as const) : (['Paused'] as const)).map((status) => listRuns(temporal, { missionId, status }, 200)),
    )).flatMap((r) => r.runs);
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

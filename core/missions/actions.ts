// Mission-level pause, resume and delete. PostgreSQL decides and commits first
// (a paused mission starts no run from then on), then the mission's open runs
// and its schedule follow in Temporal; what Temporal could not take is retried
// by the reconciler, once per pause or resume. Operators act in their workspace
// (`ws`); the reconciler's part (applyMissionRuns) goes by mission id, in any.
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Sql } from '../../db/sql';
import { ConflictError, NotFoundError } from '../../lib/errors';
import type { TemporalHandle } from '../../lib/temporal';
import { pauseSignal, resumeSignal } from '../../workflows/messages';
import { appendAudit, type Actor } from '../audit/audit-log';
import { refuseWhileGloballyPaused } from '../safety/global-pause-state';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { openRuns } from '../runs/visibility';
import { applyScheduleAfterCommit, syncMissionSchedule } from '../schedules/sync';
import type { ScheduleInput } from './schemas';
import { deleteMission, getMission, setMissionStatus } from './missions';
import { forgetIfDone, markRunsPending, markSchedulePending, readSync, runsSynced, savedButPending, syncFailed, temporalError, withSyncLock } from './mission-sync';

/** A run that ended between the listing and the signal is done, not an error. */
export function runHasEnded(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || /already completed|execution not found/i.test(String((err as Error)?.message));
}

/**
 * Makes the mission's open runs follow its status, once per pause or resume: pauses the
 * running ones, or resumes the paused ones. Returns the runs signalled (null: another
 * replica is doing it). Runs that end meanwhile are skipped.
 */
export async function applyMissionRuns(sql: Sql, temporal: TemporalHandle, missionId: string, waitMs = 0): Promise<string[] | null> {
  const locked = await withSyncLock(sql, `runs:${missionId}`, async () => {
    const row = await readSync(sql, missionId);
    if (!row || row.runsSyncedVersion >= row.runsVersion) return [];
    const [mission] = await sql<{ status: string }[]>`select status from missions where id = ${missionId}`;
    if (!mission) {
      await runsSynced(sql, missionId, row.runsVersion);
      await forgetIfDone(sql, missionId);
      return [];
    }
    const paused = mission.status === 'paused';
    const actor = row.pauseActor ?? 'system';
    try {
      const runs = (await openRuns(temporal, missionId)).filter((r) => (paused ? r.status !== 'Paused' : r.status === 'Paused'));
      const signalled: string[] = [];
      for (let i = 0; i < runs.length; i += 10) {
        await Promise.all(runs.slice(i, i + 10).map(async ({ workflowId }) => {
          const handle = temporal.client.workflow.getHandle(workflowId);
          try {
            if (paused) await handle.signal(pauseSignal, { reason: row.pauseReason ?? undefined, actor });
            else await handle.signal(resumeSignal, { actor });
            signalled.push(workflowId);
          } catch (err) {
            if (!runHasEnded(err)) throw err;
          }
        }));
      }
      await runsSynced(sql, missionId, row.runsVersion);
      return signalled;
    } catch (err) {
      await syncFailed(sql, missionId, err).catch(() => undefined);
      throw temporalError(err);
    }
  }, waitMs);
  return locked.locked ? locked.value : null;
}

export async function setMissionPaused(
  sql: Sql, temporal: TemporalHandle, missionId: string, paused: boolean, actor: Actor, reason?: string, ws?: WorkspaceRef,
): Promise<{ runs: number; schedule: boolean }> {
  const mission = await sql.begin(async (tx) => {
    const [m] = await tx<{ name: string; status: string; schedule: ScheduleInput | null; workspaceId: string }[]>`
      select name, status, schedule, workspace_id as "workspaceId" from missions
      where id = ${missionId} and workspace_id = ${workspaceIdOf(tx, ws)} for update`;
    if (!m) throw new NotFoundError('Mission');
    if (!paused) await refuseWhileGloballyPaused(tx, m.workspaceId);
    if (paused === (m.status === 'paused')) {
      // Asked again while the last pause or resume is still being applied: apply it, change nothing.
      const row = await readSync(tx, missionId);
      if (row && row.runsSyncedVersion < row.runsVersion) return m;
      throw new ConflictError(paused ? `Mission "${m.name}" is already paused.` : `Mission "${m.name}" is not paused.`);
    }
    await setMissionStatus(tx, missionId, paused ? 'paused' : 'active');
    await markRunsPending(tx, missionId, actor, reason);
    if (m.schedule) {
      // Resuming notes why the schedule runs again, unless the schedule is paused itself (then it stays paused).
      if (!paused && !m.schedule.paused) await tx`update missions set schedule = schedule || ${tx.json({ note: `mission resumed by ${actor.name}` })} where id = ${missionId}`;
      await markSchedulePending(tx, missionId);
    }
    await appendAudit(tx, {
      actor, action: paused ? 'mission.paused' : 'mission.resumed', entityType: 'mission', entityId: missionId,
      details: { ...(reason ? { reason } : {}) }, workspaceId: m.workspaceId,
    });
    return m;
  });
  const saved = `Mission "${mission.name}" is ${paused ? 'paused' : 'resumed'} in Mission Control${paused ? ' and starts no new run' : ''}.`;
  const pending = `its open runs and its schedule will be ${paused ? 'paused' : 'resumed'} automatically`;
  try {
    const runs = await applyMissionRuns(sql, temporal, missionId, 5000);
    const schedule = mission.schedule ? await syncMissionSchedule(sql, temporal, missionId, { waitMs: 5000 }) : null;
    return { runs: runs?.length ?? 0, schedule: schedule?.outcome === 'updated' || schedule?.outcome === 'created' };
  } catch (err) {
    throw savedButPending(err, saved, pending, { missionId });
  }
}

/**
 * Deletes a mission with no run in progress: PostgreSQL first (with its audit entry),
 * then its schedule in Temporal (or later, by the reconciler).
 */
export async function removeMission(sql: Sql, temporal: TemporalHandle, missionId: string, actor: Actor, ws?: WorkspaceRef): Promise<void> {
  await getMission(sql, missionId, ws); // another workspace's mission is not found, before Temporal is asked anything
  const [open] = await openRuns(temporal, missionId, 1).catch((err) => {
    throw temporalError(err); // nothing is changed yet
  });
  if (open) throw new ConflictError('This mission has runs in progress; cancel them or let them finish before deleting it.', { workflowId: open.workflowId });
  await deleteMission(sql, missionId, actor, undefined, ws);
  await applyScheduleAfterCommit(sql, temporal, missionId, 'The mission is deleted.');
}

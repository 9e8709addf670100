// A mission's schedule is the Temporal Schedule `mission-<missionId>`. Its
// definition and the app's wish for its paused state live with the mission in
// PostgreSQL, are committed first and then mirrored to Temporal (./sync.ts);
// its live state (paused, next runs) is read from Temporal. Operators act in their
// workspace (`ws`): another workspace's mission has no schedule to them.
import { randomUUID } from 'node:crypto';
import { ScheduleNotFoundError, type ScheduleDescription } from '@temporalio/client';
import type { Sql } from '../../db/sql';
import { ConflictError, NotFoundError } from '../../lib/errors';
import { missionScheduleId } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import { appendAudit, type Actor } from '../audit/audit-log';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { markSchedulePending, temporalError } from '../missions/mission-sync';
import type { ScheduleInput } from '../missions/schemas';
import { executeMission } from '../runs/start';
import { getMission, type Mission } from '../missions/missions';
import { within } from './deadline';
import { applyScheduleAfterCommit, OVERLAP } from './sync';

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
  /** What Temporal's schedule started (its own times, the CLI's trigger, backfills), newest first. */
  recentRuns: { scheduledAt: Date; takenAt: Date; workflowId: string }[];
  runningWorkflowIds: string[];
}

/** How a schedule is described: by Temporal, cancelled when `signal` aborts. A seam: tests pass one that never answers. */
export type DescribeFn = (scheduleId: string, signal: AbortSignal) => Promise<ScheduleDescription>;

export function temporalDescribe(temporal: TemporalHandle): DescribeFn {
  return (scheduleId, signal) => temporal.connection.withAbortSignal(signal, () => temporal.client.schedule.getHandle(scheduleId).describe());
}

export interface DescribeOptions {
  /** Give up after this long with a DeadlineError (./deadline.ts); by default, wait for Temporal. */
  timeoutMs?: number;
  describe?: DescribeFn;
}

export async function describeSchedule(temporal: TemporalHandle, mission: Pick<Mission, 'id' | 'name' | 'schedule'>, opts: DescribeOptions = {}): Promise<ScheduleView> {
  let d: ScheduleDescription;
  const describe = opts.describe ?? temporalDescribe(temporal);
  try {
    d = await within(opts.timeoutMs, 'describe this schedule', (signal) => describe(missionScheduleId(mission.id), signal));
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new NotFoundError('Schedule of this mission');
    throw temporalError(err);
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
    recentRuns: d.info.recentActions.slice(-5).reverse().map((a) => ({ scheduledAt: a.scheduledAt, takenAt: a.takenAt, workflowId: a.action.workflow.workflowId })),
    runningWorkflowIds: d.info.runningActions.map((a) => a.workflow.workflowId),
  };
}

/**
 * Pauses or unpauses the schedule itself (not the mission): committed with its audit
 * entry, then applied to Temporal. While the mission is paused its schedule stays paused.
 */
export async function pauseSchedule(
  sql: Sql, temporal: TemporalHandle, missionId: string, paused: boolean, note: string | undefined, actor: Actor, ws?: WorkspaceRef,
): Promise<void> {
  const name = await sql.begin(async (tx) => {
    const [m] = await tx<{ name: string; status: string; schedule: ScheduleInput | null; workspaceId: string }[]>`
      select name, status, schedule, workspace_id as "workspaceId" from missions
      where id = ${missionId} and workspace_id = ${workspaceIdOf(tx, ws)} for update`;
    if (!m?.schedule) throw new NotFoundError('Schedule of this mission');
    if (!paused && m.status === 'paused') throw new ConflictError(`Mission "${m.name}" is paused, and so is its schedule; resume the mission instead.`);
    const text = note || `${paused ? 'paused' : 'unpaused'} by ${actor.name}`;
    await tx`update missions set schedule = schedule || ${tx.json({ paused, note: text })}, updated_at = now() where id = ${missionId}`;
    await markSchedulePending(tx, missionId);
    await appendAudit(tx, {
      actor, action: paused ? 'schedule.paused' : 'schedule.unpaused', entityType: 'schedule', entityId: missionScheduleId(missionId),
      details: { missionId, ...(note ? { note } : {}) }, workspaceId: m.workspaceId,
    });
    return m.name;
  });
  await applyScheduleAfterCommit(sql, temporal, missionId, `The schedule of "${name}" is ${paused ? 'paused' : 'unpaused'} in Mission Control.`);
}

/**
 * Runs the mission now, through the same start as the API, with a workflow id of its own
 * (mission-<id>-scheduled-now-<suffix>): unlike Temporal's trigger, it never skips because
 * a run is open and never collides with another start in the same second.
 */
export async function runScheduleNow(
  sql: Sql, temporal: TemporalHandle, missionId: string, actor: Actor, ws?: WorkspaceRef,
): Promise<{ workflowId: string; runId: string }> {
  const mission = await getMission(sql, missionId, ws);
  if (!mission.schedule) throw new NotFoundError('Schedule of this mission');
  const run = await executeMission(sql, temporal, { missionId, trigger: 'scheduled', actor, workflowSuffix: `scheduled-now-${randomUUID().slice(0, 13)}` }, { id: mission.workspaceId }).catch((err) => {
    throw temporalError(err);
  });
  await appendAudit(sql, { actor, action: 'schedule.run_now', entityType: 'schedule', entityId: missionScheduleId(missionId), details: { missionId, workflowId: run.workflowId },
    workspaceId: mission.workspaceId,
  });
  return run;
}

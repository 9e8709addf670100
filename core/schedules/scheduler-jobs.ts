// Scheduled jobs (seed 002 §5, §8): the missions that have a schedule, each with its cron, time zone, paused
// state and next firing (Temporal's), and its last firing and last outcome (the records, ./scheduler-runs.ts).
// Changing a job is changing its schedule, through the schedule's own code; "run now" is Temporal's schedule
// trigger, so its run is a firing of the job like any other, recorded as one, under the job's overlap policy.
// Everything is in the caller's workspace (`ws`): another workspace's job is not found.
import { ScheduleNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import type { Sql } from '../../db/sql';
import { AppError, ConflictError, NotFoundError } from '../../lib/errors';
import { missionScheduleId } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import { noteText } from '../../lib/text';
import type { WorkspaceRef } from '../access/users';
import { appendAudit, type Actor } from '../audit/audit-log';
import { temporalError } from '../missions/mission-sync';
import { getMission, listMissions, updateMission, type Mission } from '../missions/missions';
import { scheduleInput, type ScheduleInput } from '../missions/schemas';
import { isWorkflowNotFound } from '../runs/temporal-errors';
import { ROW_TIMEOUT_MS } from './overview';
import { lastOutcomes, recentFirings, type Firing } from './scheduler-runs';
import { describeSchedule, pauseSchedule, type ScheduleView } from './schedules';
import { applyScheduleAfterCommit, OVERLAP } from './sync';

/** A job's detail lists this many of its newest firings. */
export const JOB_FIRINGS = 20;
/** A single job's describe may take longer than a list's. */
const JOB_TIMEOUT_MS = 8000;

export interface SchedulerJob {
  /** The mission's id. */
  id: string;
  scheduleId: string;
  name: string;
  missionStatus: Mission['status'];
  cron: string;
  timezone: string;
  overlap: ScheduleInput['overlap'];
  /** As Temporal has it; as the app last asked for it when Temporal could not be read. */
  paused: boolean;
  note: string | null;
  nextFiringAt: Date | null;
  /** The newest record, whatever its status. */
  lastFiring: Firing | null;
  /** The newest record with an outcome: completed, failed, cancelled or skipped. */
  lastOutcome: Firing | null;
  /** Why Temporal's side is missing (paused and nextFiringAt are then PostgreSQL's), or null. */
  temporalError: string | null;
}

export const jobPatch = z
  .object({
    cron: scheduleInput.shape.cron.optional(),
    timezone: scheduleInput.shape.timezone.unwrap().optional(),
    overlap: scheduleInput.shape.overlap.unwrap().optional(),
    paused: z.boolean().optional(),
    note: noteText().optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: 'Name what to change: cron, timezone, overlap or paused (with an optional note).' })
  .refine((p) => p.note === undefined || p.paused !== undefined, { message: 'A note goes with pausing or unpausing: send paused too.', path: ['note'] });
export type JobPatch = z.infer<typeof jobPatch>;

const problem = (err: unknown) => (err instanceof AppError ? err.message : 'Temporal could not describe this schedule right now.');

function jobOf(m: Mission, view: ScheduleView | null, error: unknown, last: Firing | null, outcome: Firing | null): SchedulerJob {
  const s = m.schedule!;
  return {
    id: m.id, scheduleId: missionScheduleId(m.id), name: m.name, missionStatus: m.status,
    cron: s.cron, timezone: view?.timezone ?? s.timezone, overlap: s.overlap,
    paused: view ? view.paused : s.paused || m.status === 'paused', note: view ? view.note : s.note ?? null,
    nextFiringAt: view && !view.paused ? view.nextRuns[0] ?? null : null,
    lastFiring: last, lastOutcome: outcome, temporalError: view ? null : problem(error),
  };
}

async function jobsOf(sql: Sql, temporal: TemporalHandle, missions: Mission[], timeoutMs: number, ws: WorkspaceRef): Promise<SchedulerJob[]> {
  const ids = missions.map((m) => m.id);
  const [described, latest, outcomes] = await Promise.all([
    Promise.all(missions.map((m) => describeSchedule(temporal, m, { timeoutMs }).then((view) => ({ view, error: null }), (error: unknown) => ({ view: null, error })))),
    recentFirings(sql, ids, 1, ws),
    lastOutcomes(sql, ids, ws),
  ]);
  return missions.map((m, i) => jobOf(m, described[i]!.view, described[i]!.error, latest.get(m.id)?.[0] ?? null, outcomes.get(m.id) ?? null));
}

async function scheduledMission(sql: Sql, id: string, ws: WorkspaceRef): Promise<Mission> {
  const mission = await getMission(sql, id, ws);
  if (!mission.schedule) throw new NotFoundError('Scheduled job');
  return mission;
}

/** One page of the workspace's scheduled jobs, each described on its own deadline. */
export async function listJobs(sql: Sql, temporal: TemporalHandle, page: { limit: number; offset: number }, ws: WorkspaceRef) {
  const { items, total } = await listMissions(sql, { scheduled: true, ...page }, ws);
  return { jobs: await jobsOf(sql, temporal, items, ROW_TIMEOUT_MS, ws), total, ...page };
}

/** One job with its newest firings. */
export async function getJob(sql: Sql, temporal: TemporalHandle, id: string, ws: WorkspaceRef): Promise<{ job: SchedulerJob; firings: Firing[] }> {
  const mission = await scheduledMission(sql, id, ws);
  const [[job], firings] = await Promise.all([jobsOf(sql, temporal, [mission], JOB_TIMEOUT_MS, ws), recentFirings(sql, [id], JOB_FIRINGS, ws)]);
  return { job: job!, firings: firings.get(id) ?? [] };
}

/**
 * Changes a job: its cron, time zone or overlap as the mission's schedule (saved, audited and applied to Temporal
 * as PUT /api/missions/:id/schedule does), then its paused state as the schedule's pause and unpause do.
 */
export async function updateJob(sql: Sql, temporal: TemporalHandle, id: string, patch: JobPatch, actor: Actor, ws: WorkspaceRef) {
  const mission = await scheduledMission(sql, id, ws);
  const { paused, note, ...spec } = patch;
  if (Object.keys(spec).length) {
    const saved = await updateMission(sql, id, { schedule: { ...mission.schedule!, ...spec } }, actor, undefined, ws);
    await applyScheduleAfterCommit(sql, temporal, id, `The schedule of "${saved.name}" is saved.`);
  }
  if (paused !== undefined) await pauseSchedule(sql, temporal, id, paused, note, actor, ws);
  return getJob(sql, temporal, id, ws);
}

/**
 * Fires the job now through Temporal's schedule trigger, under the job's own overlap policy: with `skip`, a
 * firing while a run of the schedule is open starts nothing and is recorded as skipped (overlap). Audited
 * (`schedule.triggered`). A paused mission is refused: its run would stop at once.
 */
export async function triggerJob(sql: Sql, temporal: TemporalHandle, id: string, actor: Actor, ws: WorkspaceRef) {
  const mission = await scheduledMission(sql, id, ws);
  if (mission.status === 'paused') {
    throw new ConflictError(`Mission "${mission.name}" is paused, so a firing of its schedule would stop at once; resume the mission first.`);
  }
  const scheduleId = missionScheduleId(id);
  const overlap = mission.schedule!.overlap;
  try {
    await temporal.client.schedule.getHandle(scheduleId).trigger(OVERLAP[overlap]);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError || isWorkflowNotFound(err)) throw new NotFoundError('Schedule of this mission');
    throw temporalError(err);
  }
  const requestedAt = new Date();
  await appendAudit(sql, {
    actor, action: 'schedule.triggered', entityType: 'schedule', entityId: scheduleId, details: { missionId: id, overlap }, workspaceId: mission.workspaceId,
  });
  return { jobId: id, scheduleId, overlap, requestedAt };
}

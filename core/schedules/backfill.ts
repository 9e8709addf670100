// Backfill: starts the runs a mission's schedule would have started in a past time
// range, through Temporal's own schedule backfill (the runs are
// mission-<id>-scheduled-<time>, MissionTrigger=scheduled, as if on time). The range is
// bounded, and so is the number of runs, counted first by Temporal itself.
import { ScheduleNotFoundError } from '@temporalio/client';
import { msNumberToTs, tsToDate } from '@temporalio/common/lib/time';
import { z } from 'zod';
import type { Sql } from '../../db/sql';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import { missionScheduleId } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import { appendAudit, type Actor } from '../audit/audit-log';
import type { WorkspaceRef } from '../access/users';
import { temporalError } from '../missions/mission-sync';
import { getMission } from '../missions/missions';
import { OVERLAP_POLICIES, type ScheduleInput } from '../missions/schemas';
import { isWorkflowNotFound } from '../runs/temporal-errors';
import { OVERLAP } from './sync';

export const MAX_BACKFILL_DAYS = 31;
export const MAX_BACKFILL_RUNS = 50;
/** Backfilled runs are for past times, each on its own: by default they all start, none skipped. */
export const DEFAULT_BACKFILL_OVERLAP: ScheduleInput['overlap'] = 'allow_all';

export const backfillBody = z.object({
  start: z.iso.datetime({ offset: true, message: 'must be a date and time with its offset, like 2026-11-30T09:00:00Z' }),
  end: z.iso.datetime({ offset: true, message: 'must be a date and time with its offset, like 2026-11-30T11:00:00Z' }),
  overlap: z.enum(OVERLAP_POLICIES, { message: `must be one of ${OVERLAP_POLICIES.join(', ')}` }).optional(),
}).strict();

export interface BackfillRange {
  start: Date;
  end: Date;
  overlap?: ScheduleInput['overlap'];
}

export interface BackfillResult {
  missionId: string;
  scheduleId: string;
  start: string;
  end: string;
  overlap: ScheduleInput['overlap'];
  /** The times Temporal was asked to start runs for, oldest first. */
  scheduledTimes: string[];
}

const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');

/** The range's own rules, before anything is asked of Temporal. */
export function checkBackfillRange(r: BackfillRange, now = new Date()): void {
  for (const [label, d] of [['start', r.start], ['end', r.end]] as const) {
    if (Number.isNaN(d.getTime())) throw new ValidationError(`${label}: not a date and time.`, [{ path: label, message: 'not a date and time' }]);
  }
  if (r.end.getTime() <= r.start.getTime()) {
    throw new ValidationError(`The end (${iso(r.end)}) must be after the start (${iso(r.start)}).`, [{ path: 'end', message: 'must be after the start' }]);
  }
  if (r.end.getTime() > now.getTime()) {
    throw new ValidationError(`A backfill covers past times only: the end (${iso(r.end)}) is later than now (${iso(now)}).`, [{ path: 'end', message: 'is in the future' }]);
  }
  if (r.end.getTime() - r.start.getTime() > MAX_BACKFILL_DAYS * 86_400_000) {
    throw new ValidationError(`A backfill covers at most ${MAX_BACKFILL_DAYS} days at a time; split a longer range.`, [{ path: 'end', message: `more than ${MAX_BACKFILL_DAYS} days after the start` }]);
  }
}

/**
 * The times in [start, end] at which the schedule starts a run, as Temporal computes them
 * (its spec, time zone and window). Temporal's list is (start, end] while a backfill takes
 * [start, end], hence the millisecond; it stops at 1000 times.
 */
async function matchingTimes(temporal: TemporalHandle, scheduleId: string, r: BackfillRange): Promise<Date[]> {
  const { startTime } = await temporal.connection.workflowService.listScheduleMatchingTimes({
    namespace: temporal.namespace, scheduleId, startTime: msNumberToTs(r.start.getTime() - 1), endTime: msNumberToTs(r.end.getTime()),
  });
  return (startTime ?? []).map(tsToDate);
}

/**
 * Backfills the mission's schedule over the range and audits it once (`schedule.backfilled`).
 * Refused whole, with nothing started: a bad or empty range, more than MAX_BACKFILL_RUNS
 * runs, and a paused mission (its runs would only stop at once: a paused mission starts nothing).
 */
export async function backfillSchedule(
  sql: Sql, temporal: TemporalHandle, missionId: string, r: BackfillRange, actor: Actor, now = new Date(), ws?: WorkspaceRef,
): Promise<BackfillResult> {
  checkBackfillRange(r, now);
  const mission = await getMission(sql, missionId, ws);
  if (!mission.schedule) throw new NotFoundError('Schedule of this mission');
  if (mission.status === 'paused') {
    throw new ConflictError(`Mission "${mission.name}" is paused, so the runs a backfill starts would stop at once; resume the mission first.`);
  }
  const scheduleId = missionScheduleId(missionId);
  const overlap = r.overlap ?? DEFAULT_BACKFILL_OVERLAP;
  let times: Date[];
  try {
    times = await matchingTimes(temporal, scheduleId, r);
    const range = `${iso(r.start)} and ${iso(r.end)}`;
    if (!times.length) throw new ValidationError(`The schedule of "${mission.name}" starts no run between ${range}: there is nothing to backfill.`);
    if (times.length > MAX_BACKFILL_RUNS) {
      const count = times.length >= 1000 ? 'at least 1000' : String(times.length);
      throw new ValidationError(
        `Between ${range} the schedule of "${mission.name}" starts ${count} runs; a backfill starts at most ${MAX_BACKFILL_RUNS}, so choose a shorter range.`,
        [{ path: 'end', message: `more than ${MAX_BACKFILL_RUNS} runs` }],
      );
    }
    await temporal.client.schedule.getHandle(scheduleId).backfill([{ start: r.start, end: r.end, overlap: OVERLAP[overlap] }]);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError || (!(err instanceof ValidationError) && isWorkflowNotFound(err))) {
      throw new NotFoundError('Schedule of this mission');
    }
    throw temporalError(err);
  }
  const result = { missionId, scheduleId, start: iso(r.start), end: iso(r.end), overlap, scheduledTimes: times.map(iso) };
  await appendAudit(sql, {
    actor, action: 'schedule.backfilled', entityType: 'schedule', entityId: scheduleId,
    details: { missionId, start: result.start, end: result.end, overlap, runs: times.length }, workspaceId: mission.workspaceId,
  });
  return result;
}

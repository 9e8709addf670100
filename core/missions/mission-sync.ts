// What Temporal still has to catch up on for a mission (mission_sync, db/migrations/0006):
// a write marks it in its own transaction; after the commit the change is applied
// to Temporal, and the reconciler retries until it has been applied once. The
// per-key lock keeps two replicas from applying the same mission at once.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sql, TxSql } from '../../db/sql';
import { AppError } from '../../lib/errors';
import type { Actor } from '../audit/audit-log';
import { unavailable } from '../runs/temporal-errors';

export interface SyncRow {
  missionId: string;
  scheduleVersion: number;
  scheduleSyncedVersion: number;
  /** Temporal's paused state and note as last applied or seen (null: never seen). */
  schedulePaused: boolean | null;
  scheduleNote: string | null;
  runsVersion: number;
  runsSyncedVersion: number;
  pauseActorId: string | null;
  pauseActor: string | null;
  pauseReason: string | null;
  attempts: number;
  lastError: string | null;
}

const columns = (sql: TxSql) => sql`
  mission_id as "missionId", schedule_version as "scheduleVersion", schedule_synced_version as "scheduleSyncedVersion",
  schedule_paused as "schedulePaused", schedule_note as "scheduleNote", runs_version as "runsVersion",
  runs_synced_version as "runsSyncedVersion", pause_actor_id as "pauseActorId", pause_actor as "pauseActor",
  pause_reason as "pauseReason", attempts, last_error as "lastError"`;

/** The mission's schedule must be applied to Temporal again (created, changed or deleted). */
export async function markSchedulePending(tx: TxSql, missionId: string): Promise<void> {
  await tx`
    insert into mission_sync (mission_id, schedule_version) values (${missionId}, 1)
    on conflict (mission_id) do update set
      schedule_version = mission_sync.schedule_version + 1, attempts = 0, last_error = null, retry_at = now(), updated_at = now()`;
}

/** The mission's open runs must follow its new status (paused or active), once. */
export async function markRunsPending(tx: TxSql, missionId: string, actor: Actor, reason: string | undefined): Promise<void> {
  await tx`
    insert into mission_sync (mission_id, runs_version, pause_actor_id, pause_actor, pause_reason)
    values (${missionId}, 1, ${actor.id}, ${actor.name}, ${reason ?? null})
    on conflict (mission_id) do update set
      runs_version = mission_sync.runs_version + 1, pause_actor_id = excluded.pause_actor_id, pause_actor = excluded.pause_actor,
      pause_reason = excluded.pause_reason, attempts = 0, last_error = null, retry_at = now(), updated_at = now()`;
}

export async function readSync(sql: TxSql, missionId: string, lock = false): Promise<SyncRow | null> {
  const [row] = await sql<SyncRow[]>`select ${columns(sql)} from mission_sync where mission_id = ${missionId} ${lock ? sql`for update` : sql``}`;
  return row ?? null;
}

/** Version `version` of the schedule is in Temporal, which now shows `observed` (null: no schedule). */
export async function scheduleSynced(sql: TxSql, missionId: string, version: number, observed: { paused: boolean; note: string | null } | null): Promise<void> {
  await sql`
    update mission_sync set
      schedule_synced_version = greatest(schedule_synced_version, ${version}),
      schedule_paused = ${observed?.paused ?? null}, schedule_note = ${observed?.note ?? null},
      attempts = 0, last_error = null, updated_at = now()
    where mission_id = ${missionId}`;
}

export async function runsSynced(sql: TxSql, missionId: string, version: number): Promise<void> {
  await sql`
    update mission_sync set runs_synced_version = greatest(runs_synced_version, ${version}), attempts = 0, last_error = null, updated_at = now()
    where mission_id = ${missionId}`;
}

/** Applying failed: try again later, backing off up to five minutes. */
export async function syncFailed(sql: TxSql, missionId: string, err: unknown): Promise<void> {
  await sql`
    update mission_sync set
      attempts = attempts + 1, last_error = ${String((err as Error)?.message ?? err).slice(0, 500)},
      retry_at = now() + least(300, power(2, least(attempts, 9))) * interval '1 second', updated_at = now()
    where mission_id = ${missionId}`;
}

/** A deleted mission's row goes once nothing is left to apply. */
export async function forgetIfDone(sql: TxSql, missionId: string): Promise<void> {
  await sql`
    delete from mission_sync s
    where s.mission_id = ${missionId} and s.schedule_synced_version >= s.schedule_version and s.runs_synced_version >= s.runs_version
      and not exists (select 1 from missions m where m.id = s.mission_id)`;
}

/** Missions with something left to apply whose retry time has come. */
export async function pendingMissionIds(sql: TxSql, limit: number): Promise<string[]> {
  const rows = await sql<{ missionId: string }[]>`
    select mission_id as "missionId" from mission_sync
    where (schedule_synced_version < schedule_version or runs_synced_version < runs_version) and retry_at <= now()
    order by retry_at limit ${limit}`;
  return rows.map((r) => r.missionId);
}

const LOCK_CLASS = 727_006; // arbitrary, constant: "mission control: applying to Temporal"

// Each lock holds a pooled connection while `fn` runs its own queries on others: cap how many
// a process holds, or a burst of applies could take every connection and wait on itself.
const MAX_HELD = 3;
const slots = new WeakMap<Sql, { held: number; waiting: (() => void)[] }>();

async function takeSlot(sql: Sql): Promise<() => void> {
  const s = slots.get(sql) ?? { held: 0, waiting: [] };
  slots.set(sql, s);
  if (s.held >= MAX_HELD) await new Promise<void>((resolve) => s.waiting.push(resolve));
  else s.held++;
  // A waiter is handed the slot directly, so `held` stays counted.
  return () => {
    const next = s.waiting.shift();
    if (next) next();
    else s.held--;
  };
}

/**
 * Runs `fn` holding a session advisory lock on `key` (on a reserved connection, in no
 * transaction, so no row stays locked while `fn` calls Temporal). Waits up to `waitMs`
 * for a lock another replica holds; gives up with `{ locked: false }`. The lock goes
 * with the connection if the process dies.
 */
export async function withSyncLock<T>(sql: Sql, key: string, fn: () => Promise<T>, waitMs = 0): Promise<{ locked: true; value: T } | { locked: false }> {
  const releaseSlot = await takeSlot(sql);
  const conn = await sql.reserve().catch((err) => {
    releaseSlot();
    throw err;
  });
  try {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const [row] = await conn<{ locked: boolean }[]>`select pg_try_advisory_lock(${LOCK_CLASS}, hashtext(${key})) as locked`;
      if (row!.locked) break;
      if (Date.now() >= deadline) return { locked: false };
      await sleep(50);
    }
    try {
      return { locked: true, value: await fn() };
    } finally {
      await conn`select pg_advisory_unlock(${LOCK_CLASS}, hashtext(${key}))`.catch(() => undefined);
    }
  } finally {
    conn.release();
    releaseSlot();
  }
}

/** Temporal's client wraps the gRPC error (UNAVAILABLE) in a ServiceError: look at the cause too. */
export function temporalError(err: unknown): Error {
  const direct = unavailable(err);
  if (direct instanceof AppError) return direct;
  const cause = unavailable((err as { cause?: unknown })?.cause ?? {});
  return cause instanceof AppError && cause.status === 503 ? cause : direct;
}

/**
 * The answer when PostgreSQL has committed a change and Temporal could not take its
 * part: a 503 saying what was saved and that the rest follows on its own (the
 * reconciler applies it). Any other error is passed on as it is.
 */
export function savedButPending(err: unknown, saved: string, pending: string, details: Record<string, unknown>): Error {
  const e = temporalError(err);
  if (!(e instanceof AppError) || e.status !== 503) return e;
  return new AppError(503, 'temporal_unavailable', `${saved} Temporal is not reachable right now, so ${pending} as soon as it is back; there is no need to repeat the request.`, { ...details, saved: true });
}

// A workspace's global pause switch, a safety setting ('safety.global_pause' in
// workspace_settings), the record of what it holds (global_pause_holds,
// db/migrations/0012_global_pause.sql), and holding or releasing one run. Read where
// runs start, where schedules are synced and where agent tasks are dispatched;
// switched by ./global-pause.ts.
import type { TxSql } from '../../db/sql';
import { AppError, ConflictError } from '../../lib/errors';
import type { TemporalHandle } from '../../lib/temporal';
import { progressQuery, type MissionPlan } from '../../workflows/messages';
import type { Actor } from '../audit/audit-log';
import { systemComment } from '../collab/comments';
import { controlRun } from '../runs/control';
import { describeRun } from '../runs/detail';
import { unavailable } from '../runs/temporal-errors';
import type { RunWorkspace } from '../runs/visibility';

export const GLOBAL_PAUSE_KEY = 'safety.global_pause';

/** What the API and the pages show. */
export interface GlobalPause {
  enabled: boolean;
  /** Who switched it last (on or off) and when; null when it never was. */
  by: string | null;
  at: string | null;
  /** The admin's reason for turning it on; null while off. */
  reason: string | null;
}

/** As stored: also who, by id, and the pause reason the workspace's runs and schedules are held with. */
export interface StoredGlobalPause extends GlobalPause {
  byId: string | null;
  hold: string | null;
}

export const GLOBAL_PAUSE_OFF: StoredGlobalPause = { enabled: false, by: null, byId: null, at: null, reason: null, hold: null };

export type HoldKind = 'run' | 'schedule';

export async function readGlobalPause(sql: TxSql, workspaceId: string): Promise<StoredGlobalPause> {
  const [row] = await sql<{ value: Partial<StoredGlobalPause> }[]>`
    select value from workspace_settings where workspace_id = ${workspaceId} and key = ${GLOBAL_PAUSE_KEY}`;
  const v = row?.value ?? {};
  if (v.enabled !== true) return { ...GLOBAL_PAUSE_OFF, by: v.by ?? null, byId: v.byId ?? null, at: v.at ?? null };
  return { enabled: true, by: v.by ?? null, byId: v.byId ?? null, at: v.at ?? null, reason: v.reason ?? null, hold: v.hold ?? 'global pause' };
}

export const globalPauseView = (s: StoredGlobalPause): GlobalPause => ({ enabled: s.enabled, by: s.by, at: s.at, reason: s.reason });

export async function getGlobalPause(sql: TxSql, workspaceId: string): Promise<GlobalPause> {
  return globalPauseView(await readGlobalPause(sql, workspaceId));
}

/** A resume someone asks for while the switch is on (a run, a mission): refused, saying who paused and how it ends. */
export async function refuseWhileGloballyPaused(sql: TxSql, workspaceId: string): Promise<void> {
  const pause = await getGlobalPause(sql, workspaceId);
  if (!pause.enabled) return;
  throw new ConflictError(`The workspace is globally paused (by ${pause.by ?? 'an admin'}${pause.reason ? `: ${pause.reason}` : ''}); an admin ends the global pause in Settings, and that resumes what it paused.`);
}

export interface Hold {
  /** The pause reason runs are held with, and the note held schedules show. */
  reason: string;
  /** The admin who turned the switch on: runs record their pause as theirs. */
  actor: Actor;
}

/** While the switch is on, what the workspace's runs and schedules are held with; else null. */
export async function activeHold(sql: TxSql, workspaceId: string): Promise<Hold | null> {
  const s = await readGlobalPause(sql, workspaceId);
  return s.enabled ? { reason: s.hold!, actor: { id: s.byId, name: s.by ?? 'system' } } : null;
}

/**
 * Records that the global pause holds this run or schedule (idempotent: a retry records it once), and says so on
 * a held run's page as a SYSTEM comment, once per hold (keyed by when the hold began; a retry finds it written).
 */
export async function recordHold(sql: TxSql, workspaceId: string, kind: HoldKind, targetId: string, holdReason: string): Promise<boolean> {
  const rows = await sql`
    insert into global_pause_holds (workspace_id, kind, target_id, hold_reason) values (${workspaceId}, ${kind}, ${targetId}, ${holdReason})
    on conflict do nothing returning 1`;
  if (kind === 'run') {
    const [hold] = await sql<{ heldAt: Date }[]>`
      select held_at as "heldAt" from global_pause_holds where workspace_id = ${workspaceId} and kind = 'run' and target_id = ${targetId}`;
    if (hold) {
      await systemComment(sql, workspaceId, { workflowId: targetId }, `Held by the ${holdReason}. It goes on by itself when an admin ends the global pause.`,
        `global-hold:${targetId}:${hold.heldAt.getTime()}`).catch(() => false); // the explanation never stands in the hold's way
    }
  }
  return rows.length > 0;
}

export async function dropHold(sql: TxSql, workspaceId: string, kind: HoldKind, targetId: string): Promise<void> {
  await sql`delete from global_pause_holds where workspace_id = ${workspaceId} and kind = ${kind} and target_id = ${targetId}`;
}

export async function listHolds(sql: TxSql, workspaceId: string, kind: HoldKind): Promise<{ targetId: string; holdReason: string }[]> {
  return sql<{ targetId: string; holdReason: string }[]>`
    select target_id as "targetId", hold_reason as "holdReason" from global_pause_holds
    where workspace_id = ${workspaceId} and kind = ${kind} order by held_at, target_id`;
}

export type HoldOutcome = 'held' | 'already_held' | 'paused_before' | 'ended';

/**
 * Pauses one open run through the API's own pause (the pause Update), and records the hold when the pause
 * is the global pause's: the run was not paused, or is already paused with this very reason (a sweep that
 * stopped before recording it). A run someone else paused is left alone and unrecorded. `listedStatus` is
 * what visibility said, for the oldest runs that only take the signal (no state comes back).
 */
export async function holdRun(
  sql: TxSql, temporal: TemporalHandle, ws: RunWorkspace, workflowId: string, hold: Hold, actor: Actor, listedStatus?: string,
): Promise<HoldOutcome> {
  let state;
  try {
    state = await controlRun(sql, temporal, workflowId, 'pause', actor, hold.reason, ws);
  } catch (err) {
    if (err instanceof AppError && (err.status === 404 || err.status === 409)) return 'ended';
    throw err;
  }
  const ours = state ? state.changed || state.pauseReason === hold.reason : listedStatus !== 'Paused';
  if (!ours) return 'paused_before';
  await recordHold(sql, ws.id, 'run', workflowId, hold.reason);
  return state && !state.changed ? 'already_held' : 'held';
}

/**
 * A run that started without the hold while the switch went on (its start read the switch just before):
 * held like the runs the sweep found. Best effort: the run has started either way, and a later enable's
 * sweep finds it if this fails.
 */
export async function holdStartedRun(sql: TxSql, temporal: TemporalHandle, workspaceId: string, workflowId: string): Promise<void> {
  try {
    const hold = await activeHold(sql, workspaceId);
    if (hold) await holdRun(sql, temporal, { id: workspaceId, isDefault: false }, workflowId, hold, hold.actor);
  } catch {
    // The run has started; the caller learns that, not this.
  }
}

/**
 * Resumes one run the global pause holds, only if it is still paused with the hold's reason and its mission
 * is not paused (an operator may have resumed it, paused it again for a reason of their own, or paused its
 * mission: then it stays as they left it), and forgets the hold. Temporal not answering leaves the hold for
 * the next resume.
 */
export async function releaseRun(sql: TxSql, temporal: TemporalHandle, workspaceId: string, workflowId: string, holdReason: string, actor: Actor): Promise<boolean> {
  let resumed = false;
  try {
    const { summary } = await describeRun(temporal, workflowId, { progress: false });
    if (!summary.closeTime) {
      const p = await temporal.client.workflow.getHandle(workflowId).query(progressQuery).catch((err) => {
        throw unavailable(err);
      });
      const [mission] = await sql<{ status: string }[]>`select status from missions where id = ${p.missionId}`;
      if (p.paused && p.pauseReason === holdReason && mission?.status !== 'paused') {
        await controlRun(sql, temporal, workflowId, 'resume', actor);
        resumed = true;
      }
    }
  } catch (err) {
    if (!(err instanceof AppError && (err.status === 404 || err.status === 409))) throw err;
  }
  await dropHold(sql, workspaceId, 'run', workflowId);
  return resumed;
}

/**
 * A run Temporal started by itself (a schedule triggered from the CLI, a backfill) meets the global pause when
 * it loads its plan: recorded as held, and told the pause it starts under (the workflow pauses before its first task).
 */
export async function holdLoadedRun(sql: TxSql, plan: MissionPlan, workspaceId: string, workflowId: string): Promise<MissionPlan> {
  const hold = await activeHold(sql, workspaceId);
  if (!hold) return plan;
  await recordHold(sql, workspaceId, 'run', workflowId, hold.reason);
  return { ...plan, hold: { reason: hold.reason, actor: hold.actor.name } };
}

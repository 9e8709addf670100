// Runs of missions, as Temporal knows them: start, list by search
// attributes, describe with the progress query, pause, resume, cancel.
// Temporal is the source of truth; nothing here copies run state to PostgreSQL.
import { randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type WorkflowExecutionDescription, type WorkflowExecutionInfo,
} from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { TxSql } from '../db/sql';
import { AppError, ConflictError, NotFoundError } from '../lib/errors';
import { MISSION_STATUSES, MISSION_WORKFLOW_TYPE, missionWorkflowId, type MissionStatus, type MissionTrigger } from '../lib/names';
import type { TemporalHandle } from '../lib/temporal';
import {
  containerIdKey, missionIdKey, missionStatusKey, missionTriggerKey, pauseSignal, progressQuery, resumeSignal,
  type MissionInput, type MissionPlan, type Progress,
} from '../workflows/messages';
import { appendAudit, type Actor } from './audit';
import { buildPlan, getMission } from './missions';

export interface RunSummary {
  workflowId: string;
  runId: string;
  missionId: string;
  missionName: string;
  containerId: string;
  status: MissionStatus;
  trigger: MissionTrigger | null;
  priority: string | null;
  startTime: Date;
  closeTime: Date | null;
}

/** Options shared by API starts and schedule actions: ids, search attributes, memo and the Web UI summary. */
export function startOptions(plan: Pick<MissionPlan, 'missionId' | 'missionName' | 'containerId' | 'priority'>, trigger: MissionTrigger) {
  return {
    typedSearchAttributes: new TypedSearchAttributes([
      { key: missionIdKey, value: plan.missionId },
      { key: containerIdKey, value: plan.containerId },
      { key: missionStatusKey, value: 'Running' },
      { key: missionTriggerKey, value: trigger },
    ]),
    memo: { missionName: plan.missionName, priority: plan.priority },
    staticSummary: `${plan.missionName} (${trigger})`,
  };
}

export async function executeMission(
  sql: TxSql,
  temporal: TemporalHandle,
  req: { missionId: string; trigger: MissionTrigger; actor: Actor; input?: unknown; workflowSuffix?: string },
): Promise<{ workflowId: string; runId: string }> {
  const mission = await getMission(sql, req.missionId);
  if (mission.status === 'paused') throw new ConflictError(`Mission "${mission.name}" is paused; resume it before running it.`);
  const plan = await buildPlan(sql, req.missionId);
  const workflowId = missionWorkflowId(req.missionId, req.workflowSuffix ?? randomUUID().slice(0, 13));
  const args: MissionInput = { missionId: req.missionId, trigger: req.trigger, plan, input: req.input, startedBy: req.actor };
  try {
    const handle = await temporal.client.workflow.start(MISSION_WORKFLOW_TYPE, {
      taskQueue: temporal.taskQueue,
      workflowId,
      args: [args],
      ...startOptions(plan, req.trigger),
    });
    if (mission.status === 'draft') await sql`update missions set status = 'active', updated_at = now() where id = ${mission.id} and status = 'draft'`;
    await appendAudit(sql, {
      actor: req.actor, action: 'mission.executed', entityType: 'mission', entityId: req.missionId,
      details: { workflowId, runId: handle.firstExecutionRunId, trigger: req.trigger }, idempotencyKey: `mission.executed:${workflowId}`,
    });
    return { workflowId, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new ConflictError(`A run with id ${workflowId} already exists.`, { workflowId });
    throw unavailable(err);
  }
}

/** Temporal being down is not the client's fault, and not ours to hide behind a 500. */
export function unavailable(err: unknown): Error {
  if (err instanceof AppError) return err;
  const code = (err as { code?: number }).code;
  if (code === 14 || code === 4 || /UNAVAILABLE|DEADLINE|connect/i.test(String((err as Error).message))) {
    return new AppError(503, 'temporal_unavailable', 'Temporal is not reachable right now; try again shortly.');
  }
  return err as Error;
}

const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export interface RunFilter {
  missionId?: string;
  /** Any of these missions (the board's search and priority filters). */
  missionIds?: string[];
  containerId?: string;
  status?: MissionStatus;
  trigger?: MissionTrigger;
  /** Keyset paging: runs started before this time. */
  before?: Date;
}

/** A visibility query for missionWorkflow runs; live statuses also require an open execution. */
export function runQuery(f: RunFilter): string {
  const parts = [`WorkflowType = ${quote(MISSION_WORKFLOW_TYPE)}`];
  if (f.missionId) parts.push(`MissionId = ${quote(f.missionId)}`);
  if (f.missionIds) parts.push(f.missionIds.length ? `MissionId IN (${f.missionIds.map(quote).join(', ')})` : `MissionId = 'none'`);
  if (f.containerId) parts.push(`ContainerId = ${quote(f.containerId)}`);
  if (f.trigger) parts.push(`MissionTrigger = ${quote(f.trigger)}`);
  if (f.status === 'Running' || f.status === 'Paused' || f.status === 'NeedsApproval') {
    parts.push(`MissionStatus = ${quote(f.status)}`, `ExecutionStatus = 'Running'`);
  } else if (f.status === 'Completed') parts.push(`ExecutionStatus = 'Completed'`);
  else if (f.status === 'Failed') parts.push(`ExecutionStatus IN ('Failed', 'TimedOut')`);
  else if (f.status === 'Cancelled') parts.push(`ExecutionStatus IN ('Canceled', 'Terminated')`);
  if (f.before) parts.push(`StartTime < ${quote(f.before.toISOString())}`);
  return parts.join(' AND ');
}

function effectiveStatus(info: Omit<WorkflowExecutionInfo, 'raw'>): MissionStatus {
  switch (info.status.name) {
    case 'COMPLETED':
      return 'Completed';
    case 'FAILED':
    case 'TIMED_OUT':
      return 'Failed';
    case 'CANCELLED':
    case 'TERMINATED':
      return 'Cancelled';
    default: {
      const sa = info.typedSearchAttributes.get(missionStatusKey);
      return sa && (MISSION_STATUSES as readonly string[]).includes(sa) ? (sa as MissionStatus) : 'Running';
    }
  }
}

export function summarise(info: Omit<WorkflowExecutionInfo, 'raw'>): RunSummary {
  const memo = (info.memo ?? {}) as { missionName?: string; priority?: string };
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    missionId: info.typedSearchAttributes.get(missionIdKey) ?? '',
    missionName: memo.missionName ?? info.workflowId,
    containerId: info.typedSearchAttributes.get(containerIdKey) ?? '',
    status: effectiveStatus(info),
    trigger: (info.typedSearchAttributes.get(missionTriggerKey) as MissionTrigger | undefined) ?? null,
    priority: memo.priority ?? null,
    startTime: info.startTime,
    closeTime: info.closeTime ?? null,
  };
}

export async function listRuns(temporal: TemporalHandle, f: RunFilter, limit: number): Promise<{ runs: RunSummary[]; next: string | null }> {
  const runs: RunSummary[] = [];
  try {
    for await (const info of temporal.client.workflow.list({ query: runQuery(f), pageSize: limit })) {
      runs.push(summarise(info));
      if (runs.length >= limit) break;
    }
  } catch (err) {
    throw unavailable(err);
  }
  return { runs, next: runs.length === limit ? runs.at(-1)!.startTime.toISOString() : null };
}

/** A mission's runs that have not ended, whatever their MissionStatus (one visibility call). */
export async function openRuns(temporal: TemporalHandle, missionId: string, limit = 200): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  try {
    const query = `${runQuery({ missionId })} AND ExecutionStatus = 'Running'`;
    for await (const info of temporal.client.workflow.list({ query, pageSize: limit })) {
      runs.push(summarise(info));
      if (runs.length >= limit) break;
    }
  } catch (err) {
    throw unavailable(err);
  }
  return runs;
}

export async function countRuns(temporal: TemporalHandle, f: RunFilter): Promise<number> {
  try {
    return (await temporal.client.workflow.count(runQuery(f))).count;
  } catch (err) {
    throw unavailable(err);
  }
}

/** Runs matching the filter (its status aside), grouped by Temporal's execution status. */
export async function countRunsByExecutionStatus(temporal: TemporalHandle, f: RunFilter): Promise<Record<string, number>> {
  try {
    const { groups } = await temporal.client.workflow.count(`${runQuery({ ...f, status: undefined })} GROUP BY ExecutionStatus`);
    return Object.fromEntries(groups.map((g) => [String(g.groupValues[0]), g.count]));
  } catch (err) {
    throw unavailable(err);
  }
}

export interface RunDetail {
  summary: RunSummary;
  progress: Progress | null;
  historyLength: number;
}

export async function describeRun(temporal: TemporalHandle, workflowId: string): Promise<RunDetail> {
  const handle = temporal.client.workflow.getHandle(workflowId);
  let info: WorkflowExecutionDescription;
  try {
    info = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError('Run');
    throw unavailable(err);
  }
  if (info.type !== MISSION_WORKFLOW_TYPE) throw new NotFoundError('Run');
  const summary = summarise(info);
  // The query replays the run on a worker (without one it cannot answer, and the summary still can).
  // A closed run never changes again, so its last answer is kept.
  const closed = summary.closeTime ? closedProgress.get(info.runId) : undefined;
  const progress = closed ?? (await handle.query(progressQuery).catch(() => null));
  if (summary.closeTime && progress && !closed) {
    if (closedProgress.size >= 500) closedProgress.delete(closedProgress.keys().next().value!);
    closedProgress.set(info.runId, progress);
  }
  return { summary, progress, historyLength: info.historyLength };
}

const closedProgress = new Map<string, Progress>();

export async function signalRun(
  sql: TxSql,
  temporal: TemporalHandle,
  workflowId: string,
  what: 'pause' | 'resume' | 'cancel',
  actor: Actor,
  reason?: string,
): Promise<RunDetail> {
  const detail = await describeRun(temporal, workflowId);
  if (detail.summary.closeTime) throw new ConflictError(`This run has already ended (${detail.summary.status}).`);
  const handle = temporal.client.workflow.getHandle(workflowId);
  try {
    if (what === 'pause') await handle.signal(pauseSignal, { reason, actor: actor.name });
    else if (what === 'resume') await handle.signal(resumeSignal, { actor: actor.name });
    else {
      await appendAudit(sql, {
        actor, action: 'run.cancel_requested', entityType: 'run', entityId: workflowId,
        details: { missionId: detail.summary.missionId, ...(reason ? { reason } : {}) },
      });
      await handle.cancel();
    }
  } catch (err) {
    throw unavailable(err);
  }
  return detail;
}

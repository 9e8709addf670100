// Lists and counts of runs from Temporal's visibility store, by search
// attributes: Temporal is the source of truth, nothing is copied to PostgreSQL.
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { MISSION_STATUSES, MISSION_WORKFLOW_TYPE, type MissionStatus, type MissionTrigger } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import { containerIdKey, missionIdKey, missionStatusKey, missionTriggerKey } from '../../workflows/messages';
import { unavailable } from './temporal-errors';

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

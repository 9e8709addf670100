// Starting a run of a mission: the plan snapshot, the workflow id, search
// attributes and memo, and the audit entry. While the workspace's global pause is
// on (core/safety/global-pause.ts) a run starts held: signal-with-start delivers the
// pause with the start itself, before the run's first task boundary.
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type WorkflowStartOptions } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { TxSql } from '../../db/sql';
import { ConflictError } from '../../lib/errors';
import { MISSION_WORKFLOW_TYPE, missionWorkflowId, type MissionTrigger } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import {
  containerIdKey, missionIdKey, missionStatusKey, missionTriggerKey, newMissionInput, pauseSignal, workspaceIdKey, type MissionPlan,
} from '../../workflows/messages';
import { appendAudit, type Actor } from '../audit/audit-log';
import type { WorkspaceRef } from '../access/users';
import { buildPlan, getMission, getMissionAnyWorkspace } from '../missions/missions';
import { activeHold, holdStartedRun, recordHold, type Hold } from '../safety/global-pause-state';
import { unavailable } from './temporal-errors';

/**
 * Options shared by API starts and schedule actions: ids, search attributes, memo and the Web UI summary.
 * Every run the app starts names its mission's workspace; only a caller that starts a run the way an older
 * release did (the release tests, the benches) leaves `workspaceId` out.
 */
export function startOptions(
  plan: Pick<MissionPlan, 'missionId' | 'missionName' | 'containerId' | 'priority'> & { workspaceId?: string; taskCount?: number; tasks?: unknown[] },
  trigger: MissionTrigger,
) {
  const taskCount = plan.tasks?.length ?? plan.taskCount;
  return {
    typedSearchAttributes: new TypedSearchAttributes([
      { key: missionIdKey, value: plan.missionId },
      { key: containerIdKey, value: plan.containerId },
      { key: missionStatusKey, value: 'Running' },
      { key: missionTriggerKey, value: trigger },
      ...(plan.workspaceId ? [{ key: workspaceIdKey, value: plan.workspaceId }] : []),
    ]),
    // The board's progress bar reads how many tasks the run has from here (one list, no query per card).
    memo: { missionName: plan.missionName, priority: plan.priority, ...(taskCount !== undefined ? { taskCount } : {}) },
    staticSummary: `${plan.missionName} (${trigger})`,
  };
}

export async function executeMission(
  sql: TxSql,
  temporal: TemporalHandle,
  req: { missionId: string; trigger: MissionTrigger; actor: Actor; input?: unknown; workflowSuffix?: string },
  ws?: WorkspaceRef,
): Promise<{ workflowId: string; runId: string }> {
  // A caller acting in a workspace starts only its missions; the system's own starts (triggers, the reconciler)
  // start the mission in the workspace it belongs to. The run reads its plan from there alone.
  const mission = ws ? await getMission(sql, req.missionId, ws) : await getMissionAnyWorkspace(sql, req.missionId);
  if (mission.status === 'paused') throw new ConflictError(`Mission "${mission.name}" is paused; resume it before running it.`);
  const [archived] = await sql<{ name: string }[]>`select name from workspaces where id = ${mission.workspaceId} and archived_at is not null`;
  if (archived) throw new ConflictError(`The workspace "${archived.name}" is archived; nothing runs in it.`);
  const plan = await buildPlan(sql, req.missionId, { id: mission.workspaceId });
  const workflowId = missionWorkflowId(req.missionId, req.workflowSuffix ?? randomUUID().slice(0, 13));
  const args = newMissionInput({ missionId: req.missionId, trigger: req.trigger, plan, input: req.input, startedBy: req.actor });
  const options = { taskQueue: temporal.taskQueue, workflowId, args: [args], ...startOptions({ ...plan, workspaceId: mission.workspaceId }, req.trigger) };
  // Recorded before the start, so a crash in between leaves the hold for the global resume to find.
  const hold = await activeHold(sql, mission.workspaceId);
  if (hold) await recordHold(sql, mission.workspaceId, 'run', workflowId, hold.reason);
  try {
    const handle = hold ? await startHeld(temporal, options, hold) : await temporal.client.workflow.start(MISSION_WORKFLOW_TYPE, options);
    // The switch went on while this run was starting: the run is held like the ones it found open.
    if (!hold) await holdStartedRun(sql, temporal, mission.workspaceId, workflowId);
    if (mission.status === 'draft') await sql`update missions set status = 'active', updated_at = now() where id = ${mission.id} and status = 'draft'`;
    await appendAudit(sql, {
      actor: req.actor, action: 'mission.executed', entityType: 'mission', entityId: req.missionId,
      details: { workflowId, runId: handle.firstExecutionRunId, trigger: req.trigger }, idempotencyKey: `mission.executed:${workflowId}`,
      workspaceId: mission.workspaceId,
    });
    return { workflowId, runId: handle.firstExecutionRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new ConflictError(`A run with id ${workflowId} already exists.`, { workflowId });
    throw unavailable(err);
  }
}

/** Starts the run with the global pause's pause as its first message, so it holds before its first task. */
async function startHeld(temporal: TemporalHandle, options: WorkflowStartOptions & { workflowId: string }, hold: Hold): Promise<{ firstExecutionRunId: string }> {
  // Signal-with-start takes no FAIL policy (it would signal the open run): an open run of this id is refused here, as start() refuses it.
  const open = await temporal.client.workflow.getHandle(options.workflowId).describe().then(
    (d) => d.status.name === 'RUNNING',
    (err) => {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    },
  );
  if (open) throw new WorkflowExecutionAlreadyStartedError('Workflow execution already started', options.workflowId, MISSION_WORKFLOW_TYPE);
  const handle = await temporal.client.workflow.signalWithStart(MISSION_WORKFLOW_TYPE, {
    ...options, signal: pauseSignal, signalArgs: [{ reason: hold.reason, actor: hold.actor.name }],
  });
  return { firstExecutionRunId: handle.signaledRunId };
}

// The names outside clients rely on (DESIGN.md, "Names outside clients rely on").
// Defined once here and imported everywhere, workflows included: keep this file
// free of Node imports so it can enter the workflow bundle.

export const DEFAULT_TASK_QUEUE = 'mission-control';
export const MISSION_WORKFLOW_TYPE = 'missionWorkflow';

export const SEARCH_ATTRIBUTES = {
  missionId: 'MissionId',
  containerId: 'ContainerId',
  missionStatus: 'MissionStatus',
  missionTrigger: 'MissionTrigger',
  workspaceId: 'WorkspaceId',
  /** The agent a command workflow (agentCommandWorkflow) is for. */
  agentId: 'AgentId',
} as const;

export const MISSION_STATUSES = ['Running', 'Paused', 'NeedsApproval', 'Completed', 'Failed', 'Cancelled'] as const;
export type MissionStatus = (typeof MISSION_STATUSES)[number];

export const MISSION_TRIGGERS = ['manual', 'scheduled', 'triggered'] as const;
export type MissionTrigger = (typeof MISSION_TRIGGERS)[number];

/** Workflow id of a run: `mission-<missionId>-<unique suffix>`. */
export function missionWorkflowId(missionId: string, suffix: string): string {
  return `mission-${missionId}-${suffix}`;
}

/** Prefix that every run of one mission shares, for listing by id. */
export function missionWorkflowIdPrefix(missionId: string): string {
  return `mission-${missionId}-`;
}

/** A mission's schedule is the Temporal Schedule `mission-<missionId>`. */
export function missionScheduleId(missionId: string): string {
  return `mission-${missionId}`;
}

/** A user's role in one workspace (memberships); a CLOSER works approved leads and drafts (seed 002). */
export const ROLES = ['ADMIN', 'OPERATOR', 'CLOSER', 'VIEWER'] as const;
export type Role = (typeof ROLES)[number];

/** Higher rank includes every permission of the lower ones. */
export const ROLE_RANK: Record<Role, number> = { VIEWER: 1, CLOSER: 2, OPERATOR: 3, ADMIN: 4 };

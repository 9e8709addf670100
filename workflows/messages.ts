// missionWorkflow's contract with the outside: its input, its signals and
// query, and the search attributes it keeps current. Clients (the API, the
// tests, the CLI docs) import these constants; nobody retypes the strings.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { SEARCH_ATTRIBUTES, type MissionStatus, type MissionTrigger } from '../lib/names';

export const DECISION_ACTIONS = ['approve', 'reject', 'request_changes', 'edit_inline_approve', 'approve_with_notes'] as const;
export type DecisionAction = (typeof DECISION_ACTIONS)[number];

export type RetryPolicyKind = 'none' | 'linear' | 'exponential';
export type ApprovalTimeoutAction = 'reject' | 'approve' | 'fail';
export type TaskSelection = 'fixed' | 'default_first' | 'random' | 'success_weighted';

export interface PinnedPattern {
  patternId: string;
  patternName: string;
  versionId: string;
  version: number;
  config: { timeout: number; retryCount: number; failureAction: 'skip' | 'retry' | 'abort' };
}

export interface PlanTask {
  id: string;
  name: string;
  order: number;
  selection: TaskSelection;
  /** Fixed tasks are pinned to the pattern version current when the run started. */
  pattern: PinnedPattern | null;
  input: unknown;
  requiresApproval: boolean;
  approvalTimeoutSeconds: number | null;
}

export interface MissionConfig {
  maxConcurrency: number;
  retryPolicy: RetryPolicyKind;
  alertOnFailure: boolean;
  onApprovalTimeout: ApprovalTimeoutAction;
  /** First retry delay; linear keeps it, exponential doubles it. */
  retryDelayMs: number;
}

export interface Actor {
  id: string | null;
  name: string;
}

/** The snapshot of a mission a run works from: editing the mission never changes a run in flight. */
export interface MissionPlan {
  missionId: string;
  missionName: string;
  containerId: string;
  priority: string;
  config: MissionConfig;
  tasks: PlanTask[];
}

/** Either a full plan (API execute) or a reference the workflow resolves by activity (schedules, triggers). */
export interface MissionInput {
  missionId: string;
  trigger: MissionTrigger;
  plan?: MissionPlan;
  input?: unknown;
  startedBy?: Actor;
}

export interface DecisionSignal {
  taskId: string;
  action: DecisionAction;
  notes?: string;
  output?: unknown;
  actor?: string;
}

export type TaskStatus =
  | 'pending'
  | 'running'
  | 'awaiting_approval'
  | 'completed'
  | 'failed'
  | 'skipped'
  | 'rejected'
  | 'cancelled';

export interface DecisionRecord {
  action: DecisionAction | 'timeout';
  actor: string;
  notes?: string;
  at: string;
}

export interface TaskProgress {
  id: string;
  name: string;
  order: number;
  status: TaskStatus;
  requiresApproval: boolean;
  attempts: number;
  runs: number;
  pattern: { id: string; name: string; version: number } | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  output?: unknown;
  originalOutput?: unknown;
  error?: { kind: string; message: string };
  notes: string[];
  decisions: DecisionRecord[];
  approval?: { requestedAt: string; deadline: string | null };
}

export interface Progress {
  missionId: string;
  missionName: string;
  status: MissionStatus;
  trigger: MissionTrigger;
  paused: boolean;
  pauseReason: string | null;
  startedAt: string;
  finishedAt: string | null;
  percent: number;
  tasks: TaskProgress[];
  pendingApprovals: { taskId: string; taskName: string; output: unknown; requestedAt: string; deadline: string | null }[];
  refusedDecisions: { taskId: string; action: string; actor: string; reason: string; at: string }[];
  error: string | null;
}

export const decisionSignal = defineSignal<[DecisionSignal]>('decision');
export const pauseSignal = defineSignal<[{ reason?: string; actor?: string }?]>('pause');
export const resumeSignal = defineSignal<[{ actor?: string }?]>('resume');
export const progressQuery = defineQuery<Progress>('progress');

export const missionIdKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.missionId, SearchAttributeType.KEYWORD);
export const containerIdKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.containerId, SearchAttributeType.KEYWORD);
export const missionStatusKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.missionStatus, SearchAttributeType.KEYWORD);
export const missionTriggerKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.missionTrigger, SearchAttributeType.KEYWORD);

// missionWorkflow's contract with the outside: its input, its signals and
// query, and the search attributes it keeps current. Clients (the API, the
// tests, the CLI docs) import these constants; nobody retypes the strings.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
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

/** A task that runs on an agent: which one (a fixed agent, or the least busy with a capability), of which definition version. */
export interface PinnedAgent {
  selection: 'fixed' | 'capability';
  agentId?: string;
  capability?: string;
  definitionId: string;
  definitionName: string;
  definitionVersion: number;
  /** As a pattern's: the attempt's timeout (ms), retries of the agent's own failures, what a final failure does. */
  config: PinnedPattern['config'];
  /** With no heartbeat relayed for this long, Temporal gives the attempt up (the agent died) and tries again. */
  heartbeatTimeoutMs: number;
}

export interface PlanTask {
  id: string;
  name: string;
  order: number;
  selection: TaskSelection;
  /** Fixed tasks are pinned to the pattern version current when the run started. */
  pattern: PinnedPattern | null;
  /** Set when the task runs on an agent instead of a pattern (then `pattern` is null). */
  agent?: PinnedAgent;
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
  /** Set when loadPlan found the workspace on global pause (a run Temporal started by itself): it pauses before its first task. */
  hold?: { reason: string; actor: string };
}

/**
 * The input's shape. 1: the first release (outputs inline). 2: outputs by
 * reference, Updates (runs started without a version tell it by the patch
 * marker `outputs-by-reference`). 3: as 2, and the input says so, so the run
 * records no marker. 4: as 3, and the run's own events (run.completed,
 * approval.requested, run.paused, …) are recorded by local activities: no
 * activity task, no extra workflow task. A run keeps the behaviour of the
 * version it started with.
 */
export const MISSION_INPUT_VERSION = 4;

/** A run's input as this release starts it. */
export function newMissionInput(fields: Omit<MissionInput, 'version' | 'carried'>): MissionInput {
  return { version: MISSION_INPUT_VERSION, ...fields };
}

/** Either a full plan (API execute) or a reference the workflow resolves by activity (schedules, triggers). */
export interface MissionInput {
  /** MISSION_INPUT_VERSION when the run was started; absent in runs of the first release. */
  version?: number;
  missionId: string;
  trigger: MissionTrigger;
  plan?: MissionPlan;
  input?: unknown;
  startedBy?: Actor;
  /** What a run that continued as new carries over from the run before it. */
  carried?: CarriedState;
}

/** A task's output as a run keeps it: a reference to PostgreSQL plus a bounded preview. */
export interface OutputRef {
  ref: string;
  bytes: number;
  /** The output itself when it is small (at most PREVIEW_INLINE_BYTES of JSON); never sent to activities. */
  value?: unknown;
  /** The first PREVIEW_TEXT_CHARS characters of its JSON otherwise. */
  preview?: string;
}

/** Outputs up to this size travel with their reference (in progress, approvals, the result). */
export const PREVIEW_INLINE_BYTES = 1024;
export const PREVIEW_TEXT_CHARS = 256;

export interface CarriedState {
  startedAt: string;
  tasks: TaskProgress[];
  refused: Progress['refusedDecisions'];
  paused: boolean;
  pauseReason: string | null;
  events: number;
  outputs: Record<string, OutputRef>;
  continuedFrom: string[];
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
  /** The output when small; otherwise see outputRef (GET /api/runs/:id/tasks/:taskId/output has it whole). */
  output?: unknown;
  originalOutput?: unknown;
  outputRef?: { ref: string; bytes: number; preview?: string };
  originalOutputRef?: { ref: string; bytes: number; preview?: string };
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
  pendingApprovals: {
    taskId: string; taskName: string; output: unknown; outputRef?: TaskProgress['outputRef']; requestedAt: string; deadline: string | null;
  }[];
  refusedDecisions: { taskId: string; action: string; actor: string; reason: string; at: string }[];
  error: string | null;
  /** Earlier runs of this execution chain (continue-as-new), oldest first. */
  continuedFrom?: string[];
}

/** What a decision Update answers: the task as the decision left it. */
export type DecisionResult = TaskProgress;

export interface PauseRequest {
  reason?: string;
  actor?: string;
}

/** What pause and resume Updates answer. */
export interface RunState {
  status: MissionStatus;
  paused: boolean;
  pauseReason: string | null;
  /** False when the run was already in the state asked for. */
  changed: boolean;
}

export const decisionSignal = defineSignal<[DecisionSignal]>('decision');
export const pauseSignal = defineSignal<[PauseRequest?]>('pause');
export const resumeSignal = defineSignal<[{ actor?: string }?]>('resume');
// Updates of the same names: the API and the UI get the outcome in the same round trip.
export const decisionUpdate = defineUpdate<DecisionResult, [DecisionSignal]>('decision');
export const pauseUpdate = defineUpdate<RunState, [PauseRequest]>('pause');
export const resumeUpdate = defineUpdate<RunState, [{ actor?: string }]>('resume');
export const progressQuery = defineQuery<Progress>('progress');

export const missionIdKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.missionId, SearchAttributeType.KEYWORD);
export const containerIdKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.containerId, SearchAttributeType.KEYWORD);
export const missionStatusKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.missionStatus, SearchAttributeType.KEYWORD);
export const missionTriggerKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.missionTrigger, SearchAttributeType.KEYWORD);
/** Set when a run or a schedule is created; runs from before workspaces have none (the default workspace's). */
export const workspaceIdKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.workspaceId, SearchAttributeType.KEYWORD);

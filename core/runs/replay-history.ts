// One task's story as one Temporal history tells it (pure: events in, steps
// out), for core/runs/replay.ts to join with what PostgreSQL recorded. A
// retried activity leaves only its last attempt in the history (its started
// event names the attempt and the failure before it); the attempts before come
// from the database.
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal as proto } from '@temporalio/proto';
import type { MissionInput, PlanTask } from '../../workflows/messages';
import { previewOf } from './timeline';

export type HistoryEvent = proto.api.history.v1.IHistoryEvent;
type Payloads = proto.api.common.v1.IPayloads | null | undefined;

/** A value by reference: its size and the start of its JSON, never the value itself. */
export interface PayloadRef { bytes: number; preview?: string }
export interface OutputReference extends PayloadRef { ref?: string; url?: string }

export interface ReplayStep {
  at: string;
  /** The history event (null for a database record), numbered within its Temporal run (`runId`). */
  eventId: number | null;
  runId: string;
  kind: string;
  source: 'history' | 'events' | 'outbound' | 'audit';
  execSeq?: number;
  attempt?: number;
  identity?: string;
  message?: string;
  failureType?: string;
  final?: boolean;
  actor?: string;
  action?: string;
  notes?: string;
  reason?: string;
  via?: 'update' | 'signal';
  input?: PayloadRef;
  output?: OutputReference;
  retry?: { initialIntervalMs: number; backoffCoefficient: number; maximumIntervalMs: number | null; maximumAttempts: number | null };
  retryDelayMs?: number;
  deadline?: string;
  agent?: { id?: string; name?: string; selection?: string; capability?: string; definition?: string };
  outbound?: { channel: string; status: string; attempts: number; error: string | null; payload: PayloadRef };
}

/** A step with what orders it: time first, then the history's own order. */
export type TimedStep = ReplayStep & { ms: number; seq: number };

/** One execution of the task (a request for changes runs it again): where its attempts sit in the history. */
export interface Execution { execSeq: number; scheduledEventId: number; scheduledMs: number; startedMs?: number; finalAttempt?: number; lastFailure?: string; endMs?: number }

export interface TaskHistory {
  runId: string;
  /** The run this one continued from (continue-as-new), when there is one. */
  continuedFrom: string | null;
  /** The task as the run's plan has it (null when the plan does not name it). */
  planTask: PlanTask | null;
  /** The carried state says the task had started in an earlier run of the chain. */
  startedBefore: boolean;
  executions: Execution[];
  steps: TimedStep[];
  /** Pause, resume, cancel and the run's end: kept when they fall while the task is in flight. */
  runSteps: TimedStep[];
}

const TASK_ACTIVITIES = new Set(['runMissionTask', 'runAgentTask']);

export function decode(payloads: Payloads): unknown[] {
  return (payloads?.payloads ?? []).map((p) => {
    try {
      return defaultPayloadConverter.fromPayload(p);
    } catch {
      return undefined; // kept outside the history (external storage) or not JSON
    }
  });
}

export const timeMs = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
const durationMs = (d: { seconds?: unknown; nanos?: number | null } | null | undefined) => (d ? Number(d.seconds ?? 0) * 1000 + Math.floor((d.nanos ?? 0) / 1e6) : null);

export function payloadRef(value: unknown, raw?: Payloads): PayloadRef {
  if (value === undefined) return { bytes: (raw?.payloads ?? []).reduce((n, p) => n + (p.data?.length ?? 0), 0) };
  return { bytes: Buffer.byteLength(JSON.stringify(value ?? null)), preview: previewOf(value) };
}

type Result = { outputRef?: { ref: string; bytes: number; value?: unknown; preview?: string }; output?: unknown };
function outputOf(result: Result | undefined): OutputReference | undefined {
  if (!result) return undefined;
  const r = result.outputRef;
  if (r) return { ref: r.ref, bytes: r.bytes, preview: r.value !== undefined ? previewOf(r.value) : previewOf(r.preview, true) };
  return result.output !== undefined ? payloadRef(result.output) : undefined;
}

/** "mission-control:<username>" is the app cancelling for someone; the CLI's identity names its user and host. */
const who = (identity: string | null | undefined) => (identity?.startsWith('mission-control:') ? identity.slice('mission-control:'.length) : identity || undefined);

type Arg = { taskId?: string; action?: string; notes?: string; actor?: string; reason?: string } | undefined;
type TaskInput = { taskId?: string; taskName?: string; execSeq?: number; input?: unknown; notes?: string[]; requiresApproval?: boolean; agent?: PlanTask['agent']; pattern?: { patternId: string; patternName: string; version: number } };

/** Reads one run's history for one task. */
export function readTaskHistory(events: HistoryEvent[], taskId: string, runId: string): TaskHistory {
  const h: TaskHistory = { runId, continuedFrom: null, planTask: null, startedBefore: false, executions: [], steps: [], runSteps: [] };
  const scheduled = new Map<number, { type: string; exec?: Execution; arg?: Record<string, unknown> }>();
  const updates = new Map<number, { name: string; arg: Arg; ours: boolean; checked: boolean; accepted?: HistoryEvent }>();
  let gate: { execSeq: number } | null = null;
  const push = (list: TimedStep[], e: HistoryEvent, step: Omit<ReplayStep, 'at' | 'eventId' | 'runId' | 'source'>) => {
    const ms = timeMs(e);
    list.push({ at: new Date(ms).toISOString(), eventId: Number(e.eventId), runId, source: 'history', ...step, ms, seq: Number(e.eventId) });
  };
  const task = (e: HistoryEvent, step: Omit<ReplayStep, 'at' | 'eventId' | 'runId' | 'source'>) => push(h.steps, e, step);
  const run = (e: HistoryEvent, step: Omit<ReplayStep, 'at' | 'eventId' | 'runId' | 'source'>) => push(h.runSteps, e, step);

  for (const e of events) {
    const id = Number(e.eventId);
    if (e.workflowExecutionStartedEventAttributes) {
      const a = e.workflowExecutionStartedEventAttributes;
      h.continuedFrom = a.continuedExecutionRunId || null;
      const [input] = decode(a.input) as [MissionInput?];
      h.planTask = input?.plan?.tasks.find((t) => t.id === taskId) ?? null;
      const carried = input?.carried?.tasks.find((t) => t.id === taskId);
      h.startedBefore = !!carried && carried.status !== 'pending';
    } else if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      const type = a.activityType?.name ?? '';
      const [arg] = decode(a.input) as [(TaskInput & Record<string, unknown>)?];
      if (type === 'raiseAlert' && String(arg?.key ?? '').startsWith(`approval-timeout/${taskId}/`)) {
        task(e, { kind: 'approval.timed_out', message: String(arg?.message ?? '') });
      }
      if (type === 'loadPlan' || arg?.taskId !== taskId) {
        scheduled.set(id, { type });
        continue;
      }
      if (TASK_ACTIVITIES.has(type)) {
        const exec: Execution = { execSeq: arg.execSeq ?? h.executions.length + 1, scheduledEventId: id, scheduledMs: timeMs(e) };
        h.executions.push(exec);
        scheduled.set(id, { type, exec });
        const r = a.retryPolicy;
        const agent = arg.agent ? { id: arg.agent.agentId, selection: arg.agent.selection, capability: arg.agent.capability, definition: `${arg.agent.definitionName} v${arg.agent.definitionVersion}` } : undefined;
        task(e, {
          kind: 'attempt.scheduled', execSeq: exec.execSeq, input: payloadRef(arg.input),
          ...(arg.notes?.length ? { notes: arg.notes.join('\n\n') } : {}), ...(agent ? { agent } : {}),
          ...(r ? { retry: { initialIntervalMs: durationMs(r.initialInterval) ?? 0, backoffCoefficient: r.backoffCoefficient ?? 1, maximumIntervalMs: durationMs(r.maximumInterval), maximumAttempts: r.maximumAttempts || null } } : {}),
        });
        continue;
      }
      scheduled.set(id, { type, arg });
      if (type === 'authorizeDecision') {
        // The oldest decision received for this task is the one being checked now.
        const pending = [...updates.values()].find((u) => u.ours && u.name === 'decision' && !u.checked);
        if (pending) pending.checked = true;
      }
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      const s = scheduled.get(Number(a.scheduledEventId));
      const [result] = decode(a.result) as [Record<string, unknown>?];
      if (s?.type === 'loadPlan' && !h.planTask) h.planTask = (result as { tasks?: PlanTask[] } | undefined)?.tasks?.find((t) => t.id === taskId) ?? null;
      if (s?.exec) {
        s.exec.endMs = timeMs(e);
        task(e, { kind: 'attempt.completed', execSeq: s.exec.execSeq, attempt: s.exec.finalAttempt ?? (result as { attempt?: number } | undefined)?.attempt, identity: a.identity || undefined, output: outputOf(result as Result) });
        if (h.planTask?.requiresApproval) gate = { execSeq: s.exec.execSeq };
      } else if (s?.type === 'authorizeDecision' && s.arg) {
        const r = (result ?? {}) as { accepted?: boolean; reason?: string; actor?: { name?: string } };
        const base = { execSeq: Number(s.arg.execSeq) || undefined, actor: r.actor?.name ?? String(s.arg.actor ?? ''), action: String(s.arg.action ?? ''), ...(s.arg.notes ? { notes: String(s.arg.notes) } : {}) };
        task(e, r.accepted ? { kind: 'decision.taken', ...base } : { kind: 'decision.refused', ...base, reason: r.reason ?? 'not allowed' });
      } else if (s?.type === 'storeOutput' && s.arg) {
        task(e, { kind: 'output.edited', execSeq: Number(s.arg.execSeq) || undefined, output: outputOf({ outputRef: result as Result['outputRef'] }) });
      }
    } else if (e.activityTaskStartedEventAttributes) {
      const a = e.activityTaskStartedEventAttributes;
      const exec = scheduled.get(Number(a.scheduledEventId))?.exec;
      if (!exec) continue;
      exec.startedMs = timeMs(e);
      exec.finalAttempt = a.attempt ?? 1;
      exec.lastFailure = a.lastFailure?.message || undefined;
      task(e, { kind: 'attempt.started', execSeq: exec.execSeq, attempt: exec.finalAttempt, identity: a.identity || undefined });
    } else if (e.activityTaskFailedEventAttributes) {
      const a = e.activityTaskFailedEventAttributes;
      const exec = scheduled.get(Number(a.scheduledEventId))?.exec;
      if (!exec) continue;
      exec.endMs = timeMs(e);
      const f = a.failure;
      task(e, { kind: 'attempt.failed', execSeq: exec.execSeq, attempt: exec.finalAttempt, identity: a.identity || undefined, message: f?.message ?? 'unknown error', failureType: f?.applicationFailureInfo?.type || undefined, final: true });
    } else if (e.activityTaskTimedOutEventAttributes) {
      const a = e.activityTaskTimedOutEventAttributes;
      const exec = scheduled.get(Number(a.scheduledEventId))?.exec;
      if (!exec) continue;
      exec.endMs = timeMs(e);
      task(e, { kind: 'attempt.timed_out', execSeq: exec.execSeq, attempt: exec.finalAttempt, message: a.failure?.message ?? 'timed out', final: true });
    } else if (e.activityTaskCanceledEventAttributes) {
      const exec = scheduled.get(Number(e.activityTaskCanceledEventAttributes.scheduledEventId))?.exec;
      if (!exec) continue;
      exec.endMs = timeMs(e);
      task(e, { kind: 'attempt.cancelled', execSeq: exec.execSeq, attempt: exec.finalAttempt });
    } else if (e.workflowTaskCompletedEventAttributes && gate) {
      // The workflow task after a gated task's output is the one in which the run began to wait for a decision.
      const seconds = h.planTask?.approvalTimeoutSeconds;
      task(e, { kind: 'approval.requested', execSeq: gate.execSeq, ...(seconds ? { deadline: new Date(timeMs(e) + seconds * 1000).toISOString() } : {}) });
      gate = null;
    } else if (e.workflowExecutionUpdateAcceptedEventAttributes) {
      const req = e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest;
      const name = req?.input?.name ?? '';
      const [arg] = decode(req?.input?.args) as [Arg];
      const ours = name === 'decision' && arg?.taskId === taskId;
      updates.set(id, { name, arg, ours, checked: false, accepted: e });
      if (ours) task(e, { kind: 'decision.received', via: 'update', actor: arg?.actor, action: arg?.action, ...(arg?.notes ? { notes: arg.notes } : {}), identity: req?.meta?.identity || undefined });
    } else if (e.workflowExecutionUpdateCompletedEventAttributes) {
      const a = e.workflowExecutionUpdateCompletedEventAttributes;
      const u = updates.get(Number(a.acceptedEventId));
      const failure = a.outcome?.failure?.message;
      if (u?.ours && failure && !u.checked) task(e, { kind: 'decision.refused', actor: u.arg?.actor, action: u.arg?.action, reason: failure });
      if (u && (u.name === 'pause' || u.name === 'resume') && !failure) {
        const [state] = decode(a.outcome?.success) as [{ changed?: boolean }?];
        // Told at its acceptance, when the run paused or resumed (its answer, later, says whether it changed anything).
        if (state?.changed !== false) run(u.accepted ?? e, { kind: u.name === 'pause' ? 'run.paused' : 'run.resumed', via: 'update', actor: u.arg?.actor, ...(u.arg?.reason ? { reason: u.arg.reason } : {}) });
      }
    } else if (e.workflowExecutionSignaledEventAttributes) {
      const a = e.workflowExecutionSignaledEventAttributes;
      const [arg] = decode(a.input) as [Arg];
      const actor = arg?.actor ?? (who(a.identity) || undefined);
      if (a.signalName === 'decision' && arg?.taskId === taskId) {
        updates.set(id, { name: 'decision', arg, ours: true, checked: false });
        task(e, { kind: 'decision.received', via: 'signal', actor, action: arg.action, ...(arg.notes ? { notes: arg.notes } : {}), identity: a.identity || undefined });
      } else if (a.signalName === 'pause' || a.signalName === 'resume') {
        run(e, { kind: a.signalName === 'pause' ? 'run.paused' : 'run.resumed', via: 'signal', actor, ...(arg?.reason ? { reason: arg.reason } : {}) });
      }
    } else if (e.workflowExecutionCancelRequestedEventAttributes) {
      const a = e.workflowExecutionCancelRequestedEventAttributes;
      run(e, { kind: 'run.cancel_requested', actor: who(a.identity), ...(a.cause ? { reason: a.cause } : {}) });
    } else if (e.workflowExecutionCompletedEventAttributes) run(e, { kind: 'run.completed' });
    else if (e.workflowExecutionFailedEventAttributes) run(e, { kind: 'run.failed', message: e.workflowExecutionFailedEventAttributes.failure?.message ?? undefined });
    else if (e.workflowExecutionCanceledEventAttributes) run(e, { kind: 'run.cancelled' });
    else if (e.workflowExecutionTerminatedEventAttributes) run(e, { kind: 'run.terminated', reason: e.workflowExecutionTerminatedEventAttributes.reason ?? undefined });
    else if (e.workflowExecutionTimedOutEventAttributes) run(e, { kind: 'run.timed_out' });
    else if (e.workflowExecutionContinuedAsNewEventAttributes) run(e, { kind: 'run.continued_as_new' });
  }
  return h;
}

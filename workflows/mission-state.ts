// The live state of one mission run, as the `progress` query reports it.
// Deterministic: time comes from the workflow clock, and every status change
// is mirrored into the MissionStatus search attribute. Outputs are kept as
// references with bounded previews, so the state stays small whatever the
// tasks return.
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { MissionStatus } from '../lib/names';
import {
  DECISION_ACTIONS, missionStatusKey,
  type CarriedState, type DecisionRecord, type DecisionSignal, type MissionInput, type MissionPlan, type OutputRef, type PlanTask,
  type Progress, type RunState, type TaskProgress,
} from './messages';

const TERMINAL = new Set(['completed', 'failed', 'skipped', 'rejected', 'cancelled']);
const MAX_REFUSED = 20;

/** A decision waiting to be checked; `outcome` is set once it was accepted or refused. */
interface QueuedDecision {
  seq: number;
  decision: DecisionSignal;
  /** `audited`: the refusal is in the audit log already (the authorization check writes it). */
  outcome?: { accepted: true } | { accepted: false; reason: string; audited?: boolean };
}

/** The reason a decision cannot be taken now, or null when it is well-formed for a waiting task. */
export function decisionProblem(task: TaskProgress | undefined, d: DecisionSignal | undefined): string | null {
  if (!d || typeof d !== 'object') return 'a decision must be an object';
  if (!task) return 'unknown task';
  if (!DECISION_ACTIONS.includes(d.action)) return `unknown action ${String(d.action)}`;
  if (task.status !== 'awaiting_approval') return 'the task is not waiting for a decision';
  if (!d.actor) return 'a decision must name its actor';
  if (d.action === 'edit_inline_approve' && d.output === undefined) return 'edit_inline_approve needs the edited output';
  return null;
}

export class MissionRun {
  plan: MissionPlan | null = null;
  paused = false;
  pauseReason: string | null = null;
  failure: string | null = null;
  /** Run events recorded so far (their audit keys are numbered). */
  events = 0;
  private status: MissionStatus = 'Running';
  private finishedAt: string | null = null;
  private readonly startedAt: string;
  private readonly tasks = new Map<string, TaskProgress>();
  /** Task outputs by task id, as references (runs of the first release keep values inline). */
  private readonly refs = new Map<string, OutputRef>();
  private readonly queue = new Map<string, QueuedDecision[]>();
  private readonly settled = new Map<number, QueuedDecision>();
  private nextDecision = 1;
  private readonly applied = new Set<number>();
  private readonly refused: Progress['refusedDecisions'];
  private readonly continuedFrom: string[];

  /** @param v2 the run started under MISSION_INPUT_VERSION 2 or later (see mission-workflow.ts). */
  constructor(readonly input: MissionInput, readonly v2 = true) {
    const c = input.carried;
    this.startedAt = c?.startedAt ?? new Date().toISOString();
    this.refused = c ? [...c.refused] : [];
    this.continuedFrom = c ? [...c.continuedFrom] : [];
    if (c) {
      this.paused = c.paused;
      this.pauseReason = c.pauseReason;
      this.events = c.events;
      for (const [id, ref] of Object.entries(c.outputs)) this.refs.set(id, ref);
    }
  }

  setPlan(plan: MissionPlan): void {
    this.plan = plan;
    const carried = new Map((this.input.carried?.tasks ?? []).map((t) => [t.id, t]));
    for (const t of plan.tasks) {
      this.tasks.set(t.id, carried.get(t.id) ?? {
        id: t.id, name: t.name, order: t.order, status: 'pending', requiresApproval: t.requiresApproval, attempts: 0, runs: 0,
        pattern: null, startedAt: null, finishedAt: null, durationMs: null, notes: [], decisions: [],
      });
    }
    this.refreshStatus();
  }

  task(id: string): TaskProgress {
    return this.tasks.get(id)!;
  }

  isDone(taskId: string): boolean {
    return TERMINAL.has(this.task(taskId).status);
  }

  /** What later tasks see as ctx.previous: finished tasks' outputs by task name, as references. */
  outputs(): Record<string, OutputRef | { value: unknown }> {
    const out: Record<string, OutputRef | { value: unknown }> = {};
    for (const t of this.tasks.values()) {
      if (t.status !== 'completed') continue;
      const ref = this.refs.get(t.id);
      // Only the reference: every later task's input carries this map, so it must stay small.
      if (ref) out[t.name] = { ref: ref.ref, bytes: ref.bytes };
      else if (t.output !== undefined) out[t.name] = { value: t.output };
    }
    return out;
  }

  /** Tasks of an earlier order that did not complete: their outputs (if any) are not ctx.previous. */
  notCompletedBefore(order: number): string[] {
    return [...this.tasks.values()].filter((t) => t.order < order && t.status !== 'completed').map((t) => t.id);
  }

  /** Everything a continued run needs to go on where this one stops. */
  carry(runId: string): CarriedState {
    return {
      startedAt: this.startedAt, tasks: [...this.tasks.values()], refused: [...this.refused], paused: this.paused,
      pauseReason: this.pauseReason, events: this.events, outputs: Object.fromEntries(this.refs), continuedFrom: [...this.continuedFrom, runId],
    };
  }

  // ---- status ---------------------------------------------------------------

  /** A pending approval shows over a pause: the inbox must never lose it. */
  private refreshStatus(): void {
    if (this.finishedAt) return;
    const awaiting = [...this.tasks.values()].some((t) => t.status === 'awaiting_approval');
    // Runs of the first release let a pause hide the approval; their histories must replay as recorded.
    if (!this.v2) this.setStatus(this.paused ? 'Paused' : awaiting ? 'NeedsApproval' : 'Running');
    else this.setStatus(awaiting ? 'NeedsApproval' : this.paused ? 'Paused' : 'Running');
  }

  private setStatus(status: MissionStatus): void {
    if (status === this.status) return;
    this.status = status;
    upsertSearchAttributes([{ key: missionStatusKey, value: status }]);
  }

  get finished(): boolean {
    return this.finishedAt !== null;
  }

  finish(status: 'Completed' | 'Failed' | 'Cancelled', error?: string): void {
    if (this.finishedAt) return;
    this.finishedAt = new Date().toISOString();
    if (error) this.failure = error;
    for (const t of this.tasks.values()) {
      if (status === 'Cancelled' && !TERMINAL.has(t.status)) t.status = 'cancelled';
      if (t.status === 'awaiting_approval') t.status = 'cancelled';
    }
    for (const list of this.queue.values()) for (const q of list) this.settle(q, { accepted: false, reason: `the run ended (${status})` });
    this.queue.clear();
    this.setStatus(status);
  }

  state(changed: boolean): RunState {
    return { status: this.status, paused: this.paused, pauseReason: this.pauseReason, changed };
  }

  pause(reason: string | null): boolean {
    if (this.paused || this.finishedAt) return false;
    this.paused = true;
    this.pauseReason = reason;
    this.refreshStatus();
    return true;
  }

  resume(): boolean {
    if (!this.paused || this.finishedAt) return false;
    this.paused = false;
    this.pauseReason = null;
    this.refreshStatus();
    return true;
  }

  fail(message: string): void {
    this.failure ??= message;
  }

  // ---- tasks ----------------------------------------------------------------

  taskStarted(task: PlanTask, pattern: { id: string; name: string; version: number }): void {
    const t = this.task(task.id);
    t.status = 'running';
    t.pattern = pattern;
    t.runs++;
    t.startedAt = new Date().toISOString();
    t.finishedAt = null;
    t.error = undefined;
    this.refreshStatus();
  }

  /** Records a task's output: a reference (this release) or the value itself (runs of the first release). */
  taskProduced(taskId: string, result: { output?: unknown; outputRef?: OutputRef; attempt: number; durationMs: number }): void {
    const t = this.task(taskId);
    this.setOutput(t, result.outputRef, result.output);
    t.originalOutput = undefined;
    t.originalOutputRef = undefined;
    t.attempts += result.attempt;
    t.durationMs = Math.round(result.durationMs * 100) / 100;
  }

  /** A reviewer's edited output replaces the task's own, which is kept as the original. */
  outputEdited(taskId: string, edited: { ref?: OutputRef; value?: unknown }): void {
    const t = this.task(taskId);
    t.originalOutput = t.output;
    t.originalOutputRef = t.outputRef;
    this.setOutput(t, edited.ref, edited.value);
  }

  private setOutput(t: TaskProgress, ref: OutputRef | undefined, value: unknown): void {
    if (ref) {
      this.refs.set(t.id, ref);
      t.output = ref.value;
      t.outputRef = { ref: ref.ref, bytes: ref.bytes, ...(ref.preview !== undefined ? { preview: ref.preview } : {}) };
    } else {
      this.refs.delete(t.id);
      t.output = value;
      t.outputRef = undefined;
    }
  }

  taskEnded(taskId: string, status: 'completed' | 'failed' | 'skipped' | 'rejected' | 'cancelled', error?: { kind: string; message: string; attempts?: number }): void {
    const t = this.task(taskId);
    t.status = status;
    t.finishedAt = new Date().toISOString();
    t.approval = undefined;
    if (error) {
      t.error = { kind: error.kind, message: error.message };
      if (error.attempts) t.attempts += error.attempts;
    }
    this.refreshStatus();
  }

  // ---- approvals --------------------------------------------------------------

  awaitApproval(taskId: string, deadline: string | null): void {
    const t = this.task(taskId);
    t.status = 'awaiting_approval';
    t.approval = { requestedAt: new Date().toISOString(), deadline };
    this.refreshStatus();
  }

  /** The Update validator: throws the reason a decision cannot be taken, before it enters history. */
  validateDecision(d: DecisionSignal): void {
    const problem = decisionProblem(d && typeof d.taskId === 'string' ? this.tasks.get(d.taskId) : undefined, d);
    if (problem) throw new Error(problem);
  }

  /** Queues a well-formed decision for a waiting task; returns its number, or the reason it was refused. */
  receiveDecision(d: DecisionSignal): { seq: number } | { refused: string } {
    const task = d && typeof d.taskId === 'string' ? this.tasks.get(d.taskId) : undefined;
    const problem = decisionProblem(task, d);
    if (problem) {
      this.refuse(d, problem);
      return { refused: problem };
    }
    const q: QueuedDecision = { seq: this.nextDecision++, decision: d };
    this.queue.set(task!.id, [...(this.queue.get(task!.id) ?? []), q]);
    return { seq: q.seq };
  }

  /** How a queued decision ended, once it has. */
  outcome(seq: number): QueuedDecision['outcome'] {
    return this.settled.get(seq)?.outcome;
  }

  forgetOutcome(seq: number): void {
    this.settled.delete(seq);
    this.applied.delete(seq);
  }

  /** The accepted decision has had its effect (output stored, task ended or queued to run again). */
  markApplied(seq: number | undefined): void {
    if (seq !== undefined) this.applied.add(seq);
  }

  isApplied(seq: number): boolean {
    return this.applied.has(seq) || this.finished;
  }

  /** A decided task leaves the approval state at once, so a pause cannot keep it in the inbox (v2). */
  leaveApproval(taskId: string): void {
    if (!this.v2) return;
    const t = this.task(taskId);
    if (t.status !== 'awaiting_approval') return;
    t.status = 'pending';
    t.approval = undefined;
    this.refreshStatus();
  }

  refuse(d: Partial<DecisionSignal> | undefined, reason: string): void {
    this.refused.push({ taskId: String(d?.taskId ?? ''), action: String(d?.action ?? ''), actor: String(d?.actor ?? ''), reason, at: new Date().toISOString() });
    if (this.refused.length > MAX_REFUSED) this.refused.shift();
  }

  hasDecision(taskId: string): boolean {
    return (this.queue.get(taskId)?.length ?? 0) > 0;
  }

  takeDecision(taskId: string): { seq: number; decision: DecisionSignal } {
    const q = this.queue.get(taskId)!.shift()!;
    return { seq: q.seq, decision: q.decision };
  }

  /** A taken decision that its check refused. */
  refuseTaken(taken: { seq: number; decision: DecisionSignal }, reason: string): void {
    this.refuse(taken.decision, reason);
    this.settle({ ...taken }, { accepted: false, reason, audited: true });
  }

  /** Records the decision that settled a gate; any others still queued for it are refused. */
  decided(taskId: string, record: DecisionRecord, seq?: number): void {
    this.task(taskId).decisions.push(record);
    if (seq !== undefined) this.settle({ seq, decision: {} as DecisionSignal }, { accepted: true });
    for (const late of this.queue.get(taskId) ?? []) {
      this.refuse(late.decision, 'the task was already decided');
      this.settle(late, { accepted: false, reason: 'the task was already decided' });
    }
    this.queue.delete(taskId);
  }

  private settle(q: QueuedDecision, outcome: NonNullable<QueuedDecision['outcome']>): void {
    this.settled.set(q.seq, { ...q, outcome });
  }

  // ---- the query ----------------------------------------------------------------

  progress(): Progress {
    const tasks = [...this.tasks.values()].sort((a, b) => a.order - b.order);
    const done = tasks.filter((t) => TERMINAL.has(t.status)).length;
    return {
      missionId: this.input.missionId,
      missionName: this.plan?.missionName ?? '',
      status: this.status,
      trigger: this.input.trigger,
      paused: this.paused,
      pauseReason: this.pauseReason,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      percent: tasks.length ? Math.round((done / tasks.length) * 100) : this.finishedAt ? 100 : 0,
      tasks,
      pendingApprovals: tasks
        .filter((t) => t.status === 'awaiting_approval')
        .map((t) => ({
          taskId: t.id, taskName: t.name, output: t.output, ...(t.outputRef ? { outputRef: t.outputRef } : {}),
          requestedAt: t.approval!.requestedAt, deadline: t.approval!.deadline,
        })),
      refusedDecisions: [...this.refused],
      error: this.failure,
      ...(this.continuedFrom.length ? { continuedFrom: [...this.continuedFrom] } : {}),
    };
  }
}

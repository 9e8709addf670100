// The live state of one mission run, as the `progress` query reports it.
// Deterministic: time comes from the workflow clock, and every status change
// is mirrored into the MissionStatus search attribute.
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { MissionStatus } from '../lib/names';
import {
  DECISION_ACTIONS, missionStatusKey,
  type DecisionRecord, type DecisionSignal, type MissionInput, type MissionPlan, type PlanTask, type Progress, type TaskProgress,
} from './messages';

const TERMINAL = new Set(['completed', 'failed', 'skipped', 'rejected', 'cancelled']);
const MAX_REFUSED = 20;

export class MissionRun {
  plan: MissionPlan | null = null;
  paused = false;
  pauseReason: string | null = null;
  failure: string | null = null;
  private status: MissionStatus = 'Running';
  private finishedAt: string | null = null;
  private readonly startedAt = new Date().toISOString();
  private readonly tasks = new Map<string, TaskProgress>();
  /** Decisions waiting to be checked, per task, in arrival order. */
  private readonly decisions = new Map<string, DecisionSignal[]>();
  private readonly refused: Progress['refusedDecisions'] = [];

  constructor(readonly input: MissionInput) {}

  setPlan(plan: MissionPlan): void {
    this.plan = plan;
    for (const t of plan.tasks) {
      this.tasks.set(t.id, {
        id: t.id, name: t.name, order: t.order, status: 'pending', requiresApproval: t.requiresApproval, attempts: 0, runs: 0,
        pattern: null, startedAt: null, finishedAt: null, durationMs: null, notes: [], decisions: [],
      });
    }
  }

  task(id: string): TaskProgress {
    return this.tasks.get(id)!;
  }

  /** Outputs of finished tasks, by task name: what later tasks see as ctx.previous. */
  outputs(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const t of this.tasks.values()) if (t.status === 'completed' && t.output !== undefined) out[t.name] = t.output;
    return out;
  }

  // ---- status ---------------------------------------------------------------

  private refreshStatus(): void {
    if (this.finishedAt) return;
    const awaiting = [...this.tasks.values()].some((t) => t.status === 'awaiting_approval');
    this.setStatus(this.paused ? 'Paused' : awaiting ? 'NeedsApproval' : 'Running');
  }

  private setStatus(status: MissionStatus): void {
    if (status === this.status) return;
    this.status = status;
    upsertSearchAttributes([{ key: missionStatusKey, value: status }]);
  }

  finish(status: 'Completed' | 'Failed' | 'Cancelled', error?: string): void {
    if (this.finishedAt) return;
    this.finishedAt = new Date().toISOString();
    if (error) this.failure = error;
    for (const t of this.tasks.values()) {
      if (status === 'Cancelled' && !TERMINAL.has(t.status)) t.status = 'cancelled';
      if (t.status === 'awaiting_approval') t.status = 'cancelled';
    }
    this.setStatus(status);
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

  taskProduced(taskId: string, result: { output: unknown; attempt: number; durationMs: number }): void {
    const t = this.task(taskId);
    t.output = result.output;
    t.originalOutput = undefined;
    t.attempts += result.attempt;
    t.durationMs = Math.round(result.durationMs * 100) / 100;
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

  /** Signal handler: accepts a well-formed decision for a task that is waiting, refuses anything else. */
  receiveDecision(d: DecisionSignal): void {
    const t = d && typeof d.taskId === 'string' ? this.tasks.get(d.taskId) : undefined;
    const reason = !t
      ? 'unknown task'
      : !DECISION_ACTIONS.includes(d.action)
        ? `unknown action ${String(d.action)}`
        : t.status !== 'awaiting_approval'
          ? 'the task is not waiting for a decision'
          : !d.actor
              ? 'a decision must name its actor'
              : d.action === 'edit_inline_approve' && d.output === undefined
                ? 'edit_inline_approve needs the edited output'
                : null;
    if (reason) return this.refuse(d, reason);
    this.decisions.set(t!.id, [...(this.decisions.get(t!.id) ?? []), d]);
  }

  refuse(d: Partial<DecisionSignal> | undefined, reason: string): void {
    this.refused.push({ taskId: String(d?.taskId ?? ''), action: String(d?.action ?? ''), actor: String(d?.actor ?? ''), reason, at: new Date().toISOString() });
    if (this.refused.length > MAX_REFUSED) this.refused.shift();
  }

  hasDecision(taskId: string): boolean {
    return (this.decisions.get(taskId)?.length ?? 0) > 0;
  }

  takeDecision(taskId: string): DecisionSignal {
    return this.decisions.get(taskId)!.shift()!;
  }

  /** Records the decision that settled a gate; any others still queued for it are refused. */
  decided(taskId: string, record: DecisionRecord): void {
    this.task(taskId).decisions.push(record);
    for (const late of this.decisions.get(taskId) ?? []) this.refuse(late, 'the task was already decided');
    this.decisions.delete(taskId);
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
        .map((t) => ({ taskId: t.id, taskName: t.name, output: t.output, requestedAt: t.approval!.requestedAt, deadline: t.approval!.deadline })),
      refusedDecisions: [...this.refused],
      error: this.failure,
    };
  }
}

// Running a mission's tasks: groups by order, lanes up to maxConcurrency,
// one activity per task (plus a selection activity for policy tasks), the
// failure actions, and the approval gate with its five decisions.
import {
  ActivityCancellationType, ActivityFailure, ApplicationFailure, CancellationScope, TimeoutFailure, condition, isCancellation, proxyActivities,
} from '@temporalio/workflow';
import type { MissionActivities, RunTaskResult } from '../activities/mission-activities';
import type { MissionRun } from './mission-state';
import type { DecisionSignal, MissionConfig, MissionInput, MissionPlan, PinnedPattern, PlanTask } from './messages';

const NON_RETRYABLE = ['PatternSyntax', 'PatternOutput', 'PatternBlocked', 'PatternCancelled', 'PatternExhausted', 'Validation'];

const { selectPattern, authorizeDecision, raiseAlert } = proxyActivities<MissionActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 10, initialInterval: '1s', nonRetryableErrorTypes: ['Validation'] },
});

type Proxies = Map<string, MissionActivities>;

/** The task activity with this pattern's timeout and this mission's retry shape (one proxy per shape and run). */
function taskActivities(proxies: Proxies, pattern: PinnedPattern, config: MissionConfig): MissionActivities {
  const key = `${pattern.config.timeout}/${pattern.config.retryCount}/${pattern.config.failureAction}/${config.retryPolicy}/${config.retryDelayMs}`;
  let proxy = proxies.get(key);
  if (!proxy) proxies.set(key, (proxy = makeTaskActivities(pattern, config)));
  return proxy;
}

function makeTaskActivities(pattern: PinnedPattern, config: MissionConfig) {
  const linear = config.retryPolicy === 'linear';
  return proxyActivities<MissionActivities>({
    // The pattern's own timeout is enforced in the sandbox; this one also covers waiting for a free thread.
    startToCloseTimeout: pattern.config.timeout + 60_000,
    heartbeatTimeout: '5s',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      // Pattern failures are counted by the activity (maxPatternAttempts); the spare attempts
      // cover lost workers, so a crash never fails a task that has retries left.
      maximumAttempts: maxPatternAttempts(pattern, config) + 3,
      initialInterval: config.retryDelayMs,
      backoffCoefficient: linear ? 1 : 2,
      maximumInterval: linear ? config.retryDelayMs : 60_000,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });
}

export function maxPatternAttempts(pattern: PinnedPattern, config: MissionConfig): number {
  return config.retryPolicy === 'none' || pattern.config.failureAction === 'abort' ? 1 : pattern.config.retryCount + 1;
}

export async function runTasks(run: MissionRun, plan: MissionPlan, input: MissionInput): Promise<void> {
  const proxies: Proxies = new Map();
  const orders = [...new Set(plan.tasks.map((t) => t.order))].sort((a, b) => a - b);
  for (const order of orders) {
    const queue = plan.tasks.filter((t) => t.order === order);
    // A scope per group: an aborting task cancels its running siblings.
    const scope = new CancellationScope();
    const lanes = Math.max(1, Math.min(plan.config.maxConcurrency, queue.length));
    // The lanes start inside the scope, so cancelling it reaches every activity they run.
    await scope.run(() =>
      Promise.all(
        Array.from({ length: lanes }, async () => {
          for (let task = queue.shift(); task && !run.failure; task = queue.shift()) {
            await executeTask(run, plan, input, task, scope, proxies);
          }
        }),
      ),
    );
    if (run.failure) return;
  }
}

interface Failure {
  kind: string;
  message: string;
  attempts?: number;
}

function describeFailure(err: unknown): Failure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure) return { kind: 'timeout', message: `The task timed out (${cause.timeoutType}).` };
  if (cause instanceof ApplicationFailure) {
    const d = (cause.details?.[0] ?? {}) as { kind?: string; attempt?: number };
    return { kind: d.kind ?? cause.type ?? 'error', message: cause.message, attempts: d.attempt };
  }
  return { kind: 'error', message: err instanceof Error ? err.message : String(err) };
}

async function executeTask(run: MissionRun, plan: MissionPlan, input: MissionInput, task: PlanTask, group: CancellationScope, proxies: Proxies): Promise<void> {
  const notes: string[] = [];
  let reruns = 0;
  for (let execSeq = 1; ; execSeq++) {
    if (run.paused && !run.failure) await condition(() => !run.paused || !!run.failure);
    if (run.failure) return;
    const pattern = task.pattern ?? (await selectPattern({ containerId: plan.containerId, policy: task.selection as 'random', taskId: task.id }));
    run.taskStarted(task, { id: pattern.patternId, name: pattern.patternName, version: pattern.version });
    let result: RunTaskResult;
    try {
      result = await taskActivities(proxies, pattern, plan.config).runMissionTask({
        missionId: plan.missionId, missionName: plan.missionName, taskId: task.id, taskName: task.name, execSeq, pattern,
        input: task.input, previous: run.outputs(), notes, runInput: input.input ?? null,
        maxPatternAttempts: maxPatternAttempts(pattern, plan.config), startedBy: input.startedBy ?? null,
      });
    } catch (err) {
      if (isCancellation(err)) {
        run.taskEnded(task.id, 'cancelled');
        if (run.failure) return; // a sibling aborted the mission
        throw err;
      }
      const f = describeFailure(err);
      if (pattern.config.failureAction === 'skip') return run.taskEnded(task.id, 'skipped', f);
      run.taskEnded(task.id, 'failed', f);
      run.fail(`Task "${task.name}" failed: ${f.message}`);
      if (pattern.config.failureAction === 'abort') group.cancel();
      return;
    }
    run.taskProduced(task.id, result);
    if (!task.requiresApproval) return run.taskEnded(task.id, 'completed');

    const decision = await awaitDecision(run, plan, task, execSeq);
    const t = run.task(task.id);
    const timedOut = decision.action === 'timeout';
    const action = timedOut ? ({ approve: 'approve', reject: 'reject', fail: 'fail' } as const)[plan.config.onApprovalTimeout] : decision.action;
    switch (action) {
      case 'approve':
        return run.taskEnded(task.id, 'completed');
      case 'approve_with_notes':
        if ('notes' in decision && decision.notes) t.notes.push(decision.notes);
        return run.taskEnded(task.id, 'completed');
      case 'edit_inline_approve':
        t.originalOutput = t.output;
        t.output = (decision as DecisionSignal).output;
        return run.taskEnded(task.id, 'completed');
      case 'request_changes':
        if ((decision as DecisionSignal).notes) notes.push((decision as DecisionSignal).notes!);
        t.notes = [...notes];
        continue; // run the task again, with the notes handed to the pattern
      case 'fail':
        run.taskEnded(task.id, 'failed', { kind: 'approval_timeout', message: 'No decision arrived before the approval timeout.' });
        run.fail(`Task "${task.name}" waited too long for approval.`);
        return;
      case 'reject': {
        const failureAction = pattern.config.failureAction;
        if (failureAction === 'retry' && reruns < pattern.config.retryCount) {
          reruns++;
          continue; // "retry": run the task again, up to its retry count
        }
        run.taskEnded(task.id, 'rejected', { kind: 'rejected', message: timedOut ? 'Rejected: the approval timed out.' : 'Rejected by a reviewer.' });
        if (failureAction !== 'skip') {
          run.fail(`Task "${task.name}" was rejected.`);
          if (failureAction === 'abort') group.cancel();
        }
        return;
      }
    }
  }
}

/** Waits for an authorized decision (or the approval timeout) on a task's output. */
async function awaitDecision(run: MissionRun, plan: MissionPlan, task: PlanTask, execSeq: number): Promise<DecisionSignal | { action: 'timeout' }> {
  const timeoutMs = task.approvalTimeoutSeconds ? task.approvalTimeoutSeconds * 1000 : null;
  const deadline = timeoutMs ? Date.now() + timeoutMs : null;
  run.awaitApproval(task.id, deadline ? new Date(deadline).toISOString() : null);
  for (;;) {
    const arrived = deadline ? await condition(() => run.hasDecision(task.id), Math.max(1, deadline - Date.now())) : (await condition(() => run.hasDecision(task.id)), true);
    if (!arrived) {
      run.decided(task.id, { action: 'timeout', actor: 'system', at: new Date().toISOString() });
      await raiseAlert({
        key: `approval-timeout/${task.id}/${execSeq}`, missionId: plan.missionId, kind: 'approval_timeout',
        message: `"${task.name}" in ${plan.missionName} waited ${task.approvalTimeoutSeconds} s without a decision; applying "${plan.config.onApprovalTimeout}".`,
      });
      return { action: 'timeout' };
    }
    const d = run.takeDecision(task.id);
    const auth = await authorizeDecision({
      actor: d.actor!, action: d.action, taskId: task.id, taskName: task.name, execSeq, missionId: plan.missionId,
      notes: d.notes ?? null, edited: d.action === 'edit_inline_approve',
    });
    if (!auth.accepted) {
      run.refuse(d, auth.reason ?? 'not allowed');
      continue;
    }
    run.decided(task.id, { action: d.action, actor: auth.actor.name, ...(d.notes ? { notes: d.notes } : {}), at: new Date().toISOString() });
    return d;
  }
}

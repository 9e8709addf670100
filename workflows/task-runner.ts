// Running a mission's tasks: groups by order, lanes up to maxConcurrency,
// one activity per task (plus a selection activity for policy tasks), the
// failure actions, and the approval gate with its five decisions.
import {
  ActivityCancellationType, ActivityFailure, ApplicationFailure, CancellationScope, TimeoutFailure, condition, isCancellation, proxyActivities, proxyLocalActivities,
} from '@temporalio/workflow';
import type { MissionActivities, RunTaskResult } from '../activities/mission-activities';
import type { AgentActivities } from '../activities/agent-activities';
import type { MissionRun } from './mission-state';
import type { DecisionSignal, MissionConfig, MissionInput, MissionPlan, PinnedAgent, PinnedPattern, PlanTask } from './messages';

const NON_RETRYABLE = ['PatternSyntax', 'PatternOutput', 'PatternBlocked', 'PatternCancelled', 'PatternExhausted', 'Validation'];

/** How long an agent's answer may take to come back after the task's own timeout (its post, a slow network). */
const AGENT_ANSWER_SLACK_MS = 15_000;

// A database or Temporal outage only delays these: they retry until it is over.
const { selectPattern, authorizeDecision, raiseAlert, storeOutput, recordRunEvent } = proxyActivities<MissionActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: ['Validation'] },
});

// From input version 4 on, on the worker that runs the workflow: a marker in the history instead of a
// scheduled activity and the workflow task that follows its completion. Retried as long as an outage lasts.
const { recordRunEvent: recordRunEventLocally } = proxyLocalActivities<MissionActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: ['Validation'] },
});

/** Records a run event (an audit entry and its event), numbered in the run so a retry records it once. */
export function recorder(run: MissionRun, input: MissionInput) {
  const record = (input.version ?? 1) >= 4 ? recordRunEventLocally : recordRunEvent;
  return (action: string, actor: string | undefined, details: Record<string, unknown> = {}) =>
    record({ key: `event/${++run.events}`, action, actor: actor || 'temporal-cli', missionId: input.missionId, details });
}

/** Request-changes rounds a task may go through before it fails: a loop of reviews must end. */
export const MAX_CHANGE_REQUESTS = 25;

type Proxies = Map<string, unknown>;

/** The task activity with this pattern's timeout and this mission's retry shape (one proxy per shape and run). */
function taskActivities(proxies: Proxies, pattern: PinnedPattern, config: MissionConfig): MissionActivities {
  const key = `${pattern.config.timeout}/${pattern.config.retryCount}/${pattern.config.failureAction}/${config.retryPolicy}/${config.retryDelayMs}`;
  let proxy = proxies.get(key) as MissionActivities | undefined;
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
      // No attempt limit (maximumAttempts unset): the activity counts the pattern's own failures (maxPatternAttempts)
      // and fails for good when they are spent; lost workers and database or Temporal outages
      // retry on their own budget (the activity sets their delay), so they only delay a run.
      initialInterval: config.retryDelayMs,
      backoffCoefficient: linear ? 1 : 2,
      maximumInterval: linear ? config.retryDelayMs : 60_000,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });
}

/**
 * A task on an agent: one attempt is dispatched and then completed by the agent's answer (async completion).
 * Its heartbeats are the agent's, relayed; cancelling does not wait for the agent (it is told, and its answer refused).
 */
function agentTaskActivities(proxies: Map<string, unknown>, agent: PinnedAgent, config: MissionConfig): AgentActivities {
  const key = `agent/${agent.config.timeout}/${agent.heartbeatTimeoutMs}/${config.retryPolicy}/${config.retryDelayMs}`;
  let proxy = proxies.get(key) as AgentActivities | undefined;
  if (!proxy) {
    const linear = config.retryPolicy === 'linear';
    proxy = proxyActivities<AgentActivities>({
      startToCloseTimeout: agent.config.timeout + AGENT_ANSWER_SLACK_MS,
      heartbeatTimeout: agent.heartbeatTimeoutMs,
      cancellationType: ActivityCancellationType.TRY_CANCEL,
      retry: { initialInterval: config.retryDelayMs, backoffCoefficient: linear ? 1 : 2, maximumInterval: linear ? config.retryDelayMs : 60_000, nonRetryableErrorTypes: NON_RETRYABLE },
    });
    proxies.set(key, proxy);
  }
  return proxy;
}

/** An agent task carries its runner's settings where a pattern task carries its pattern's: the failure actions read them alike. */
function agentAsPattern(agent: PinnedAgent): PinnedPattern {
  return { patternId: agent.definitionId, patternName: `${agent.definitionName} (agent)`, versionId: '', version: agent.definitionVersion, config: agent.config };
}

export function maxPatternAttempts(pattern: PinnedPattern, config: MissionConfig): number {
  return config.retryPolicy === 'none' || pattern.config.failureAction === 'abort' ? 1 : pattern.config.retryCount + 1;
}

export async function runTasks(run: MissionRun, plan: MissionPlan, input: MissionInput, betweenGroups: () => Promise<void> = async () => {}): Promise<void> {
  const proxies: Proxies = new Map();
  const orders = [...new Set(plan.tasks.map((t) => t.order))].sort((a, b) => a - b);
  for (const order of orders) {
    // After a continue-as-new, the tasks that already finished are not run again.
    const queue = plan.tasks.filter((t) => t.order === order && !run.isDone(t.id));
    if (!queue.length) continue;
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
    await betweenGroups();
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

/** What one task's loop of runs keeps between them. */
interface TaskLoop {
  notes: string[];
  reruns: number;
  changeRequests: number;
}

async function executeTask(run: MissionRun, plan: MissionPlan, input: MissionInput, task: PlanTask, group: CancellationScope, proxies: Proxies): Promise<void> {
  const loop: TaskLoop = { notes: [], reruns: 0, changeRequests: 0 };
  for (let execSeq = 1; ; execSeq++) {
    if (run.paused && !run.failure) await condition(() => !run.paused || !!run.failure);
    if (run.failure) return;
    const pattern = task.agent ? agentAsPattern(task.agent)
      : task.pattern ?? (await selectPattern({ missionId: plan.missionId, containerId: plan.containerId, policy: task.selection as 'random', taskId: task.id }));
    // A pause that arrived while the pattern was being chosen holds the task too (runs of the first release did not wait).
    if (run.v2 && run.paused && !run.failure) await condition(() => !run.paused || !!run.failure);
    if (run.failure) return;
    run.taskStarted(task, { id: pattern.patternId, name: pattern.patternName, version: pattern.version });
    let result: RunTaskResult;
    // Tasks of the same order see what came before them the same way, whichever runs them.
    const earlier = plan.tasks.some((t) => t.order < task.order) ? { earlier: { before: task.order, excluded: run.notCompletedBefore(task.order) } } : {};
    try {
      result = task.agent ? await agentTaskActivities(proxies, task.agent, plan.config).runAgentTask({
        missionId: plan.missionId, missionName: plan.missionName, trigger: input.trigger, taskId: task.id, taskName: task.name, order: task.order, execSeq,
        agent: task.agent, input: task.input, notes: loop.notes, runInput: input.input ?? null, ...earlier,
        maxAttempts: maxPatternAttempts(pattern, plan.config), startedBy: input.startedBy ?? null, requiresApproval: task.requiresApproval,
      }) : await taskActivities(proxies, pattern, plan.config).runMissionTask({
        missionId: plan.missionId, missionName: plan.missionName, taskId: task.id, taskName: task.name, execSeq, pattern,
        input: task.input, order: task.order, notes: loop.notes, runInput: input.input ?? null,
        // This release's runs name only what the database cannot know (tasks that did not complete), so a task's
        // input stays the same size however many came before it (and a task of the first order reads nothing);
        // runs of the first release pass their outputs.
        ...(!run.v2 ? { previous: run.outputs(), previousByRef: true } : earlier),
        maxPatternAttempts: maxPatternAttempts(pattern, plan.config), startedBy: input.startedBy ?? null, requiresApproval: task.requiresApproval,
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

    const { decision, seq } = await awaitDecision(run, plan, input, task, execSeq);
    run.leaveApproval(task.id);
    const next = await applyDecision(run, plan, task, pattern, group, decision, execSeq, loop);
    run.markApplied(seq); // the Update that brought the decision answers now
    if (next === 'done') return;
  }
}

/** Carries out a decision on a task's output: 'again' runs the task once more. */
async function applyDecision(
  run: MissionRun, plan: MissionPlan, task: PlanTask, pattern: PinnedPattern, group: CancellationScope,
  decision: DecisionSignal | { action: 'timeout' }, execSeq: number, loop: TaskLoop,
): Promise<'again' | 'done'> {
  const t = run.task(task.id);
  const timedOut = decision.action === 'timeout';
  const d = decision as DecisionSignal;
  const action = timedOut ? ({ approve: 'approve', reject: 'reject', fail: 'fail' } as const)[plan.config.onApprovalTimeout] : d.action;
  switch (action) {
    case 'approve_with_notes':
      if (d.notes) t.notes.push(d.notes);
      run.taskEnded(task.id, 'completed');
      return 'done';
    case 'approve':
      run.taskEnded(task.id, 'completed');
      return 'done';
    case 'edit_inline_approve':
      // The edit is stored like any output, so later tasks and the result carry only its reference.
      if (run.v2) run.outputEdited(task.id, { ref: await storeOutput({ missionId: plan.missionId, taskId: task.id, taskName: task.name, order: task.order, execSeq, output: d.output }) });
      else run.outputEdited(task.id, { value: d.output });
      run.taskEnded(task.id, 'completed');
      return 'done';
    case 'request_changes':
      if (d.notes) loop.notes.push(d.notes);
      t.notes = [...loop.notes];
      if (run.v2 && ++loop.changeRequests >= MAX_CHANGE_REQUESTS) {
        run.taskEnded(task.id, 'failed', { kind: 'too_many_changes', message: `Changes were requested ${loop.changeRequests} times; the task stops here.` });
        run.fail(`Task "${task.name}" had changes requested ${loop.changeRequests} times.`);
        return 'done';
      }
      return 'again'; // run the task again, with the notes handed to the pattern
    case 'fail':
      run.taskEnded(task.id, 'failed', { kind: 'approval_timeout', message: 'No decision arrived before the approval timeout.' });
      run.fail(`Task "${task.name}" waited too long for approval.`);
      return 'done';
    case 'reject': {
      const failureAction = pattern.config.failureAction;
      if (failureAction === 'retry' && loop.reruns < pattern.config.retryCount) {
        loop.reruns++;
        return 'again'; // "retry": run the task again, up to its retry count
      }
      run.taskEnded(task.id, 'rejected', { kind: 'rejected', message: timedOut ? 'Rejected: the approval timed out.' : 'Rejected by a reviewer.' });
      if (failureAction !== 'skip') {
        run.fail(`Task "${task.name}" was rejected.`);
        if (failureAction === 'abort') group.cancel();
      }
      return 'done';
    }
  }
}

/** Waits for an authorized decision (or the approval timeout) on a task's output. */
async function awaitDecision(
  run: MissionRun, plan: MissionPlan, input: MissionInput, task: PlanTask, execSeq: number,
): Promise<{ decision: DecisionSignal | { action: 'timeout' }; seq?: number }> {
  const timeoutMs = task.approvalTimeoutSeconds ? task.approvalTimeoutSeconds * 1000 : null;
  const deadline = timeoutMs ? Date.now() + timeoutMs : null;
  run.awaitApproval(task.id, deadline ? new Date(deadline).toISOString() : null);
  // Runs of input version 3 on say so once the run shows the task waiting (the event stream's approval.requested).
  if ((input.version ?? 1) >= 3) await recorder(run, input)('approval.requested', 'temporal', { taskId: task.id, taskName: task.name, execSeq });
  for (;;) {
    const arrived = deadline ? await condition(() => run.hasDecision(task.id), Math.max(1, deadline - Date.now())) : (await condition(() => run.hasDecision(task.id)), true);
    if (!arrived) {
      run.decided(task.id, { action: 'timeout', actor: 'system', at: new Date().toISOString() });
      await raiseAlert({
        key: `approval-timeout/${task.id}/${execSeq}`, missionId: plan.missionId, kind: 'approval_timeout',
        message: `"${task.name}" in ${plan.missionName} waited ${task.approvalTimeoutSeconds} s without a decision; applying "${plan.config.onApprovalTimeout}".`,
      });
      return { decision: { action: 'timeout' } };
    }
    const taken = run.takeDecision(task.id);
    const d = taken.decision;
    const auth = await authorizeDecision({
      actor: d.actor!, action: d.action, taskId: task.id, taskName: task.name, execSeq, missionId: plan.missionId,
      notes: d.notes ?? null, edited: d.action === 'edit_inline_approve',
    });
    if (!auth.accepted) {
      run.refuseTaken(taken, auth.reason ?? 'not allowed');
      continue;
    }
    run.decided(task.id, { action: d.action, actor: auth.actor.name, ...(d.notes ? { notes: d.notes } : {}), at: new Date().toISOString() }, taken.seq);
    return { decision: d, seq: taken.seq };
  }
}

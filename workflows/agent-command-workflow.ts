// agentCommandWorkflow: one command to one agent, start to outcome. The first
// activity checks and records it (the API has done so already; a CLI start is
// checked here, for the actor it names); then the command waits for the
// agent: an HTTP agent's answer completes the dispatching activity by its task
// token (async completion), a worker agent runs the activity on its own task
// queue. The outcome (succeeded, failed, timed_out, cancelled) is written once
// and is the workflow's result, which every caller waits on.
import { ActivityFailure, ApplicationFailure, type ActivityOptions, CancellationScope, TimeoutFailure, isCancellation, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { AgentActivities } from '../activities/agent-activities';
import { agentTaskQueue, AGENT_COMMAND_ACTIVITY, type CommandResult, type SignedFrame } from '../client/agent/protocol';
import type { CommandOutcome } from '../core/agents/commands';

export interface AgentCommandInput {
  agentId: string;
  type: string;
  payload?: unknown;
  timeoutMs?: number;
  /** Who sends it: a CLI start names its user, who must hold the command's role in the agent's workspace. */
  actor?: string;
  /** Set by the app, which recorded the command before starting this workflow. */
  commandId?: string;
}

const steps: ActivityOptions = {
  startToCloseTimeout: '30s',
  // A database outage only delays these; a refused command fails at once.
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: ['CommandRefused'] },
};
/**
 * Recording the command and writing its outcome are quick database writes: as local activities they run
 * inside the workflow task that needs them, sparing a command two round trips through the server. Runs
 * started before that change replay with the activities they scheduled.
 */
const LOCAL_STEPS_PATCH = 'agent-command-local-steps';
const localSteps = proxyLocalActivities<AgentActivities>(steps);
const scheduledSteps = proxyActivities<AgentActivities>(steps);

export async function agentCommandWorkflow(input: AgentCommandInput): Promise<CommandOutcome> {
  const { prepareAgentCommand, settleAgentCommand } = patched(LOCAL_STEPS_PATCH) ? localSteps : scheduledSteps;
  const cmd = await prepareAgentCommand(input);
  const remaining = Math.max(1000, Date.parse(cmd.expiresAt) - Date.now());
  const waiting = { scheduleToCloseTimeout: remaining, startToCloseTimeout: remaining, retry: { maximumAttempts: 1 } };
  let outcome: CommandOutcome;
  try {
    const answer: CommandResult = cmd.kind === 'worker'
      ? await (proxyActivities({ ...waiting, taskQueue: agentTaskQueue(cmd.agentId) }) as Record<string, (f: SignedFrame) => Promise<CommandResult>>)[AGENT_COMMAND_ACTIVITY]!(cmd.frame)
      : await proxyActivities<AgentActivities>(waiting).dispatchAgentCommand({ commandId: cmd.commandId });
    outcome = answer.ok
      ? { commandId: cmd.commandId, status: 'succeeded', result: answer.result ?? null }
      : { commandId: cmd.commandId, status: 'failed', error: answer.error };
  } catch (err) {
    if (isCancellation(err)) outcome = { commandId: cmd.commandId, status: 'cancelled', error: { code: 'cancelled', message: 'The command was cancelled.' } };
    else outcome = failureOutcome(cmd.commandId, err, remaining);
  }
  await CancellationScope.nonCancellable(() => settleAgentCommand(outcome));
  return outcome;
}

function failureOutcome(commandId: string, err: unknown, timeoutMs: number): CommandOutcome {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure) {
    return { commandId, status: 'timed_out', error: { code: 'timeout', message: `The agent did not answer within ${Math.round(timeoutMs / 1000)} s.` } };
  }
  const message = cause instanceof ApplicationFailure || cause instanceof Error ? cause.message : String(cause);
  return { commandId, status: 'failed', error: { code: cause instanceof ApplicationFailure ? (cause.type ?? 'error') : 'error', message } };
}

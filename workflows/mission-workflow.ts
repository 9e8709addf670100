// missionWorkflow: one run of a mission. Tasks run by order, those sharing
// an order in parallel up to maxConcurrency; decisions, pause and resume
// arrive as Updates (API, UI: the caller gets the outcome) or as signals of
// the same names (CLI); `progress` answers what the run is doing now.
import {
  ActivityFailure, ApplicationFailure, CancellationScope, ContinueAsNew, allHandlersFinished, condition, continueAsNew, isCancellation, patched,
  proxyActivities, setHandler, workflowInfo,
} from '@temporalio/workflow';
import type { MissionActivities } from '../activities/mission-activities';
import { MissionRun } from './mission-state';
import {
  MISSION_INPUT_VERSION, decisionSignal, decisionUpdate, pauseSignal, pauseUpdate, progressQuery, resumeSignal, resumeUpdate,
  type DecisionSignal, type MissionInput, type PauseRequest, type Progress,
} from './messages';
import { recorder, runTasks } from './task-runner';

const { loadPlan, raiseAlert } = proxyActivities<MissionActivities>({
  startToCloseTimeout: '30s',
  // A database outage only delays these: they retry until it is over.
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: ['Validation'] },
});

/**
 * Runs started before outputs went by reference (MISSION_INPUT_VERSION 1) replay
 * and finish on their old path; see README "Changing the workflow safely".
 */
export const OUTPUTS_BY_REFERENCE_PATCH = 'outputs-by-reference';
/** Runs whose plan said they start under the global pause pause themselves before their first task. */
export const GLOBAL_HOLD_PATCH = 'global-hold-at-start';

export async function missionWorkflow(input: MissionInput): Promise<Progress> {
  // Inputs of version 3 or later say what they are; older runs (no version, or 2 after a continue-as-new)
  // tell by the patch marker, which costs each run a marker and a search attribute upsert.
  const v3 = (input.version ?? 1) >= 3;
  const v2 = v3 || patched(OUTPUTS_BY_REFERENCE_PATCH);
  const run = new MissionRun(input, v2);
  const record = recorder(run, input);

  const pause = async (p?: PauseRequest) => {
    const changed = run.pause(p?.reason ?? null);
    if (changed) await record('run.paused', p?.actor, p?.reason ? { reason: p.reason } : {});
    return run.state(changed);
  };
  const resume = async (p?: { actor?: string }) => {
    const changed = run.resume();
    if (changed) await record('run.resumed', p?.actor);
    return run.state(changed);
  };
  const notFinished = (_request: unknown) => {
    if (run.finished) throw new Error('the run has already ended');
  };

  setHandler(progressQuery, () => run.progress());
  setHandler(decisionSignal, async (d) => {
    const queued = run.receiveDecision(d);
    // A refusal of the CLI's decision is audited (an Update's is refused before it enters history; the API audits it).
    if (v2 && 'refused' in queued) await auditRefusal(d, queued.refused);
  });
  setHandler(pauseSignal, async (p) => void (await pause(p)));
  setHandler(resumeSignal, async (p) => void (await resume(p)));
  if (v2) {
    setHandler(decisionUpdate, async (d) => {
      const queued = run.receiveDecision(d);
      // Refused after its validator passed (the state moved on in between): audited here, like the signal's.
      if ('refused' in queued) {
        await auditRefusal(d, queued.refused);
        throw ApplicationFailure.nonRetryable(`The run refused the decision: ${queued.refused}.`, 'DecisionRefused');
      }
      await condition(() => run.outcome(queued.seq) !== undefined);
      const outcome = run.outcome(queued.seq)!;
      if (!outcome.accepted) {
        run.forgetOutcome(queued.seq);
        if (!outcome.audited) await auditRefusal(d, outcome.reason);
        throw ApplicationFailure.nonRetryable(`The run refused the decision: ${outcome.reason}.`, 'DecisionRefused');
      }
      // The answer comes once the decision had its effect (an edited output stored, the task completed or queued again).
      await condition(() => run.isApplied(queued.seq));
      run.forgetOutcome(queued.seq);
      return run.task(d.taskId);
    }, { validator: (d) => run.validateDecision(d) });
    setHandler(pauseUpdate, pause, { validator: notFinished });
    setHandler(resumeUpdate, resume, { validator: notFinished });
  }

  async function auditRefusal(d: DecisionSignal, reason: string) {
    if (!d?.actor || typeof d.actor !== 'string') return; // nobody to name: progress lists it under refusedDecisions
    await record('approval.refused', d.actor, { taskId: String(d.taskId ?? ''), action: String(d.action ?? ''), reason });
  }

  try {
    const plan = input.plan ?? (await loadPlan({ missionId: input.missionId, trigger: input.trigger, startedBy: input.startedBy }));
    run.setPlan(plan);
    // Held by the workspace's global pause from its start, as runs the app starts are (core/safety/global-pause.ts).
    if (plan.hold && patched(GLOBAL_HOLD_PATCH)) await pause(plan.hold);
    await runTasks(run, plan, input, async () => {
      // A long mission starts a fresh history between groups, carrying its state; the run id changes, the workflow id stays.
      if (!v2 || !workflowInfo().continueAsNewSuggested) return;
      await condition(allHandlersFinished);
      await continueAsNew<typeof missionWorkflow>({ ...input, version: MISSION_INPUT_VERSION, plan, carried: run.carry(workflowInfo().runId) });
    });
    if (run.failure) throw ApplicationFailure.nonRetryable(run.failure, 'MissionFailed');
    run.finish('Completed');
    // Runs of input version 3 on record their completion too (the event stream's run.completed).
    if (v3) await record('run.completed', 'temporal', { trigger: input.trigger });
    await condition(allHandlersFinished);
    return run.progress();
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err; // not a failure: the run goes on in a fresh history
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        run.finish('Cancelled');
        await record('run.cancelled', 'temporal');
      });
      throw err;
    }
    const message = run.failure ?? failureMessage(err);
    run.finish('Failed', message);
    if (run.plan?.config.alertOnFailure ?? true) {
      await raiseAlert({ key: 'failure', missionId: input.missionId, kind: 'mission_failed', message: `${run.plan?.missionName ?? 'A mission'} failed: ${message}` });
    }
    await record('run.failed', 'temporal', { error: message, workflowId: workflowInfo().workflowId, trigger: input.trigger });
    throw err instanceof ApplicationFailure ? err : ApplicationFailure.nonRetryable(message, 'MissionFailed');
  }
}

/** The real reason: an activity's failure carries it in its cause ("Activity task failed" says nothing). */
function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

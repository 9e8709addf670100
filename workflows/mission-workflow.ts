// missionWorkflow: one run of a mission. Tasks run by order, those sharing
// an order in parallel up to maxConcurrency; approvals, pause and resume
// arrive as signals; `progress` answers what the run is doing now.
import {
  ApplicationFailure, CancellationScope, allHandlersFinished, condition, isCancellation, proxyActivities, setHandler, workflowInfo,
} from '@temporalio/workflow';
import type { MissionActivities } from '../activities/mission-activities';
import { MissionRun } from './mission-state';
import { decisionSignal, pauseSignal, progressQuery, resumeSignal, type MissionInput, type Progress } from './messages';
import { runTasks } from './task-runner';

const { loadPlan, recordRunEvent, raiseAlert } = proxyActivities<MissionActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 10, initialInterval: '1s' },
});

export async function missionWorkflow(input: MissionInput): Promise<Progress> {
  const run = new MissionRun(input);
  let events = 0;
  const record = (action: string, actor: string | undefined, details: Record<string, unknown> = {}) =>
    recordRunEvent({ key: `event/${++events}`, action, actor: actor || 'temporal-cli', missionId: input.missionId, details });

  setHandler(progressQuery, () => run.progress());
  setHandler(decisionSignal, (d) => run.receiveDecision(d));
  setHandler(pauseSignal, async (p) => {
    if (run.pause(p?.reason ?? null)) await record('run.paused', p?.actor, p?.reason ? { reason: p.reason } : {});
  });
  setHandler(resumeSignal, async (p) => {
    if (run.resume()) await record('run.resumed', p?.actor);
  });

  try {
    const plan = input.plan ?? (await loadPlan({ missionId: input.missionId, trigger: input.trigger, startedBy: input.startedBy }));
    run.setPlan(plan);
    await runTasks(run, plan, input);
    if (run.failure) throw ApplicationFailure.nonRetryable(run.failure, 'MissionFailed');
    run.finish('Completed');
    await condition(allHandlersFinished);
    return run.progress();
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        run.finish('Cancelled');
        await record('run.cancelled', 'temporal');
      });
      throw err;
    }
    const message = run.failure ?? (err instanceof Error ? err.message : String(err));
    run.finish('Failed', message);
    if (run.plan?.config.alertOnFailure ?? true) {
      await raiseAlert({ key: 'failure', missionId: input.missionId, kind: 'mission_failed', message: `${run.plan?.missionName ?? 'A mission'} failed: ${message}` });
    }
    await record('run.failed', 'temporal', { error: message, workflowId: workflowInfo().workflowId });
    throw err instanceof ApplicationFailure ? err : ApplicationFailure.nonRetryable(message, 'MissionFailed');
  }
}

// One run as the run page shows it: its summary from describe and its live
// state from the progress query (kept once the run has closed).
import { WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import { NotFoundError } from '../../lib/errors';
import { MISSION_WORKFLOW_TYPE } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import { progressQuery, type Progress } from '../../workflows/messages';
import { unavailable } from './temporal-errors';
import { ownsRun, summarise, type RunSummary, type RunWorkspace } from './visibility';

export interface RunDetail {
  summary: RunSummary;
  progress: Progress | null;
  historyLength: number;
}

/**
 * The run, when it belongs to `ws`: this is the ownership gate every single-run read and change goes
 * through first, and another workspace's run is the same NotFoundError as a run that does not exist.
 */
export async function describeRun(
  temporal: TemporalHandle, workflowId: string, opts: { progress?: boolean } = {}, ws?: RunWorkspace,
): Promise<RunDetail> {
  const handle = temporal.client.workflow.getHandle(workflowId);
  let info: WorkflowExecutionDescription;
  try {
    info = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError('Run');
    throw unavailable(err);
  }
  if (info.type !== MISSION_WORKFLOW_TYPE) throw new NotFoundError('Run');
  const summary = summarise(info);
  if (ws && !ownsRun(summary, ws)) throw new NotFoundError('Run');
  if (opts.progress === false) return { summary, progress: null, historyLength: info.historyLength };
  // The query replays the run on a worker (without one it cannot answer, and the summary still can).
  // A closed run never changes again, so its last answer is kept.
  const closed = summary.closeTime ? closedProgress.get(info.runId) : undefined;
  const progress = closed ?? (await handle.query(progressQuery).catch(() => null));
  if (summary.closeTime && progress && !closed) {
    if (closedProgress.size >= 500) closedProgress.delete(closedProgress.keys().next().value!);
    closedProgress.set(info.runId, progress);
  }
  return { summary, progress, historyLength: info.historyLength };
}

// Keyed by runId, and read only after the gate above.
const closedProgress = new Map<string, Progress>();

/** Throws the unknown run's NotFoundError unless the run belongs to `ws` (one describe, no progress query). */
export async function assertRunInWorkspace(temporal: TemporalHandle, workflowId: string, ws?: RunWorkspace): Promise<RunSummary> {
  return (await describeRun(temporal, workflowId, { progress: false }, ws)).summary;
}

// One run as the run page shows it: its summary from describe and its live
// state from the progress query (kept once the run has closed).
import { WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import { NotFoundError } from '../../lib/errors';
import { MISSION_WORKFLOW_TYPE } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import { progressQuery, type Progress } from '../../workflows/messages';
import { unavailable } from './temporal-errors';
import { summarise, type RunSummary } from './visibility';

export interface RunDetail {
  summary: RunSummary;
  progress: Progress | null;
  historyLength: number;
}

export async function describeRun(temporal: TemporalHandle, workflowId: string, opts: { progress?: boolean } = {}): Promise<RunDetail> {
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

const closedProgress = new Map<string, Progress>();

// Cancelling many runs at once (the Runs page's "Cancel selected" and
// POST /api/runs/cancel). Each run goes through controlRun, so each is audited
// once and named in its own history; a run that has already ended is one
// run's answer, not the whole batch's failure.
import type { TxSql } from '../../db/sql';
import { AppError, ValidationError } from '../../lib/errors';
import type { TemporalHandle } from '../../lib/temporal';
import type { Actor } from '../audit/audit-log';
import { controlRun } from './control';
import { isWorkflowNotFound } from './temporal-errors';
import type { RunWorkspace } from './visibility';

export const MAX_BATCH_CANCEL = 100;
/** Cancels in flight at once: a full batch takes a few round trips, not a hundred. */
const PARALLEL = 8;

export type CancelOutcome =
  | { workflowId: string; outcome: 'cancel_requested' }
  | { workflowId: string; outcome: 'already_ended' | 'not_found'; message: string };

export async function cancelRuns(
  sql: TxSql, temporal: TemporalHandle, workflowIds: string[], actor: Actor, reason?: string, ws?: RunWorkspace,
): Promise<CancelOutcome[]> {
  const ids = [...new Set(workflowIds)];
  if (!ids.length) throw new ValidationError('Select at least one run to cancel.');
  if (ids.length > MAX_BATCH_CANCEL) throw new ValidationError(`At most ${MAX_BATCH_CANCEL} runs can be cancelled at once; ${ids.length} were selected.`);
  const outcomes: CancelOutcome[] = new Array(ids.length);
  let next = 0;
  let failed = false;
  await Promise.all(Array.from({ length: Math.min(PARALLEL, ids.length) }, async () => {
    // After a failure (Temporal or the database down) nothing more is started.
    while (!failed && next < ids.length) {
      const i = next++;
      try {
        outcomes[i] = await cancelOne(sql, temporal, ids[i]!, actor, reason, ws);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  }));
  return outcomes;
}

async function cancelOne(sql: TxSql, temporal: TemporalHandle, workflowId: string, actor: Actor, reason?: string, ws?: RunWorkspace): Promise<CancelOutcome> {
  try {
    // Another workspace's run fails the gate with the unknown run's 404: the same `not_found`.
    await controlRun(sql, temporal, workflowId, 'cancel', actor, reason, ws);
    return { workflowId, outcome: 'cancel_requested' };
  } catch (err) {
    if (err instanceof AppError && err.status === 409) return { workflowId, outcome: 'already_ended', message: err.message };
    if (err instanceof AppError && err.status === 404) return { workflowId, outcome: 'not_found', message: 'No such run.' };
    // It ended between the check and the request: Temporal answers NOT_FOUND for a closed run.
    if (isWorkflowNotFound(err)) return { workflowId, outcome: 'already_ended', message: 'This run ended before it could be cancelled.' };
    throw err;
  }
}

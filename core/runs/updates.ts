// Calling a run's Updates from the API and the UI: the caller gets the
// outcome in the same round trip. Errors are mapped once: an unknown run is
// a 404, a refused or invalid request a 409 (it never entered the run's
// history), no worker answering in time a 503.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { AppError, NotFoundError, UnavailableError } from '../../lib/errors';
import type { TemporalHandle } from '../../lib/temporal';
import { unavailable } from './temporal-errors';

/** How long a caller waits for a worker to take the Update. */
export const UPDATE_DEADLINE_MS = 15_000;

/** Why an Update did not apply: `refused` is the run's own answer, `invalid` its validator's. */
export class UpdateRefusedError extends AppError {
  constructor(
    message: string,
    readonly reason: string,
    readonly rejectedByValidator: boolean,
  ) {
    super(409, 'refused', message);
  }
}

export async function executeRunUpdate<R, A extends [unknown, ...unknown[]]>(
  temporal: TemporalHandle,
  workflowId: string,
  def: UpdateDefinition<R, A, string>,
  args: A,
): Promise<R> {
  const handle = temporal.client.workflow.getHandle(workflowId);
  try {
    return await temporal.connection.withDeadline(Date.now() + UPDATE_DEADLINE_MS, () => handle.executeUpdate(def, { args }));
  } catch (err) {
    throw updateError(err);
  }
}

const RUN_ENDED = /already completed|workflow execution.*(not running|completed)/i;

function updateError(err: unknown): Error {
  // Temporal answers an Update to a run that has closed as "not found": the run exists, it has ended.
  if (err instanceof WorkflowNotFoundError && !RUN_ENDED.test(err.message)) return new NotFoundError('Run');
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || (err as { code?: number }).code === 4) {
    return new UnavailableError('The run did not answer in time (is a worker running?); nothing was changed. Try again shortly.');
  }
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    const reason = (cause?.message ?? err.message).replace(/^The run refused the decision: /, '').replace(/\.$/, '');
    // The run's own refusal is an ApplicationFailure from its handler; the validator's rejection carries no type.
    const byValidator = !(cause instanceof ApplicationFailure && cause.type === 'DecisionRefused');
    return new UpdateRefusedError(`The run refused this: ${reason}.`, reason, byValidator);
  }
  const message = String((err as Error)?.message ?? '');
  if (RUN_ENDED.test(message)) {
    return new AppError(409, 'run_ended', 'This run has already ended; there is nothing to change.');
  }
  return unavailable(err);
}

// Temporal being down is not the client's fault, and not ours to hide behind a 500;
// a run Temporal does not know is a 404, however the SDK reports it.
import { WorkflowNotFoundError } from '@temporalio/client';
import { AppError } from '../../lib/errors';

const GRPC_NOT_FOUND = 5;

export function unavailable(err: unknown): Error {
  if (err instanceof AppError) return err;
  // The SDK wraps the gRPC error (ServiceError "Failed to list workflows", cause: UNAVAILABLE).
  let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
  for (let i = 0; e && i < 5; i++, e = e.cause as typeof e) {
    if (e.code === 14 || e.code === 4 || /UNAVAILABLE|DEADLINE_EXCEEDED|ECONNREFUSED/.test(String(e.message))) {
      return new AppError(503, 'temporal_unavailable', 'Temporal is not reachable right now; try again shortly.');
    }
  }
  return err as Error;
}

/** The SDK's WorkflowNotFoundError, or the bare gRPC NOT_FOUND that some calls (fetchHistory) pass through, possibly as a cause. */
export function isWorkflowNotFound(err: unknown): boolean {
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  for (let i = 0; e && i < 5; i++, e = e.cause as typeof e) {
    if (e instanceof WorkflowNotFoundError || e.code === GRPC_NOT_FOUND) return true;
  }
  return false;
}

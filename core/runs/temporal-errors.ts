// Temporal being down is not the client's fault, and not ours to hide behind a 500.
import { AppError } from '../../lib/errors';

export function unavailable(err: unknown): Error {
  if (err instanceof AppError) return err;
  const code = (err as { code?: number }).code;
  if (code === 14 || code === 4 || /UNAVAILABLE|DEADLINE|connect/i.test(String((err as Error).message))) {
    return new AppError(503, 'temporal_unavailable', 'Temporal is not reachable right now; try again shortly.');
  }
  return err as Error;
}

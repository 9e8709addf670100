// A Temporal call on a deadline of its own: the answer, or a timeout error at the
// deadline however the call behaves. The call's requests are cancelled then (through
// the signal handed to it), so a slow server does not keep working for nobody.
import { AppError } from '../../lib/errors';

/** The call did not answer in time. A 503 if it reaches a client: nobody's mistake. */
export class DeadlineError extends AppError {
  /** `what` completes "Temporal did not …", e.g. "describe this schedule". */
  constructor(what: string, readonly ms: number) {
    super(503, 'temporal_slow', `Temporal did not ${what} within ${(ms / 1000).toFixed(1)} s; try again shortly.`);
  }
}

/** Runs `call` with a signal that aborts at `ms`; without `ms`, simply runs it. */
export async function within<T>(ms: number | undefined, what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  if (!ms) return call(abort.signal);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new DeadlineError(what, ms)); // first, so the race ends with this and not the cancelled call's error
      abort.abort();
    }, ms);
  });
  try {
    return await Promise.race([call(abort.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

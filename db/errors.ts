// PostgreSQL constraint violations as the product's own errors, so a clash
// that slips past validation still reaches the client as a clear 4xx.
import { ConflictError, ValidationError } from '../lib/errors';

export function pgCode(err: unknown): string | undefined {
  return (err as { code?: string })?.code;
}

/** Rethrows unique (23505) and foreign-key (23503) violations as 409s with the given messages. */
export function rethrowConstraint(err: unknown, messages: { unique?: string; foreignKey?: string }): never {
  const code = pgCode(err);
  if (code === '23505' && messages.unique) throw new ConflictError(messages.unique);
  if (code === '23503' && messages.foreignKey) throw new ConflictError(messages.foreignKey);
  if (code === '22P02') throw new ValidationError('An id in the request is malformed.');
  throw err;
}

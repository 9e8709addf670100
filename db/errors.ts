// PostgreSQL errors as the product's own: constraint violations as clear 4xx
// messages, and data exceptions (a value the edge should have refused: an id
// that is no uuid, a number out of range, a NUL in text) as a 400 rather than
// a 500. The edge validates first (lib/text.ts, api/middleware/read-input.ts);
// this is the net under it.
import { AppError, ConflictError } from '../lib/errors';

export function pgCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}

/** PostgreSQL's data exceptions that mean "this value cannot be stored here", with what to tell the client. */
const DATA_EXCEPTIONS: Record<string, string> = {
  '22P02': 'A value in the request is not of the kind expected here (for example, an id that is not a uuid).',
  '22003': 'A number in the request is out of range.',
  '22021': 'Text in the request contains a character that cannot be stored (a NUL byte or invalid UTF-8).',
  '22P05': 'JSON in the request contains a character that cannot be stored (\\u0000 or an unpaired surrogate).',
  '22007': 'A date or time in the request is not valid.',
  '22008': 'A date or time in the request is out of range.',
  '54001': 'A value in the request is nested too deeply to store.',
};

/** The client-facing error for a PostgreSQL data exception, or null for anything else. */
export function dataException(err: unknown): AppError | null {
  const code = pgCode(err);
  const message = code ? DATA_EXCEPTIONS[code] : undefined;
  return message && (err as Error).name === 'PostgresError' ? new AppError(400, 'invalid_value', message, { pgCode: code }) : null;
}

/** Rethrows unique (23505) and foreign-key (23503) violations as 409s with the given messages, data exceptions as 400s. */
export function rethrowConstraint(err: unknown, messages: { unique?: string; foreignKey?: string }): never {
  const code = pgCode(err);
  if (code === '23505' && messages.unique) throw new ConflictError(messages.unique);
  if (code === '23503' && messages.foreignKey) throw new ConflictError(messages.foreignKey);
  throw dataException(err) ?? err;
}

// Fixed-window rate limits kept in PostgreSQL, so every web replica shares them.
import type { TxSql } from '../../db/sql';
import { RateLimitedError } from '../../lib/errors';

function windowOf(windowSeconds: number): { start: Date; retryAfter: number } {
  const ms = windowSeconds * 1000;
  const start = new Date(Math.floor(Date.now() / ms) * ms);
  return { start, retryAfter: Math.max(1, Math.ceil((start.getTime() + ms - Date.now()) / 1000)) };
}

/** Counts one hit against `key`; throws RateLimitedError once the window holds more than `limit`. */
export async function hitRateLimit(sql: TxSql, key: string, limit: number, windowSeconds: number): Promise<void> {
  const { start, retryAfter } = windowOf(windowSeconds);
  const [row] = await sql<{ count: number }[]>`
    insert into rate_limits (key, window_start, count) values (${key}, ${start}, 1)
    on conflict (key, window_start) do update set count = rate_limits.count + 1
    returning count`;
  if (Math.random() < 0.01) await sql`delete from rate_limits where window_start < now() - interval '1 day'`;
  if (row!.count > limit) throw new RateLimitedError(retryAfter);
}

/** Throws RateLimitedError if `key` already used up its window, without counting a hit. */
export async function checkRateLimit(sql: TxSql, key: string, limit: number, windowSeconds: number): Promise<void> {
  const { start, retryAfter } = windowOf(windowSeconds);
  const [row] = await sql<{ count: number }[]>`select count from rate_limits where key = ${key} and window_start = ${start}`;
  if (row && row.count >= limit) throw new RateLimitedError(retryAfter);
}

/** Forgets a key's windows (after a successful login, for example). */
export async function resetRateLimit(sql: TxSql, key: string): Promise<void> {
  await sql`delete from rate_limits where key = ${key}`;
}

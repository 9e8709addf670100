// A background reader of the event stream (the notifier, the playbook runner):
// runs its batch until the stream is read to its end, then waits for the next
// event (or looks on its own every few seconds); a failed batch is tried again
// later, from the cursor it keeps in PostgreSQL.
import type { Sql } from '../../db/sql';
import type { Logger } from '../../lib/logger';
import { eventStreamOf } from './stream';

const IDLE_LOOK_MS = 5000;

export function startStreamConsumer(
  deps: { sql: Sql; logger: Logger }, name: string, batch: { size: number; once: () => Promise<number>; then?: () => Promise<unknown> },
): { stop(): Promise<void> } {
  let stopped = false;
  let wake: (() => void) | null = null;
  const unsubscribe = eventStreamOf(deps.sql, deps.logger).onEvent(() => wake?.());
  const loop = (async () => {
    while (!stopped) {
      try {
        while (!stopped && (await batch.once()) === batch.size);
        if (!stopped && batch.then) await batch.then();
      } catch (err) {
        deps.logger.warn({ err: (err as Error).message }, `${name}: will try again`);
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, IDLE_LOOK_MS);
        wake = () => (clearTimeout(timer), resolve());
      });
      wake = null;
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      unsubscribe();
      await loop;
    },
  };
}

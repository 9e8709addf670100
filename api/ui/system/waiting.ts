// The navigation's count of runs waiting for a decision: one visibility count per process, shared by every
// page, kept a second and dropped at once by an approval or run event. It never holds a page up: while Temporal
// does not answer (2 s at most) the count is simply left out.
import { LiveCache } from '../../../core/events/live-cache';
import { eventStreamOf } from '../../../core/events/stream';
import { countRuns } from '../../../core/runs/visibility';
import type { AppDeps } from '../../context';

const COUNT_DEADLINE_MS = 2000;
const caches = new WeakMap<AppDeps['sql'], LiveCache<number | null>>();

export function waitingRuns(deps: Pick<AppDeps, 'sql' | 'temporal' | 'logger'>): Promise<number | null> {
  let cache = caches.get(deps.sql);
  if (!cache) {
    const made = (cache = new LiveCache<number | null>(1000, 1));
    caches.set(deps.sql, made);
    eventStreamOf(deps.sql, deps.logger).onEvent((e) => /^(approval|run)\./.test(e.type) && made.clear());
  }
  return cache.get('', () =>
    deps.temporal.connection
      .withDeadline(Date.now() + COUNT_DEADLINE_MS, () => countRuns(deps.temporal, { status: 'NeedsApproval' }))
      .catch(() => null),
  );
}

// The navigation's count of a workspace's runs waiting for a decision: one visibility count per workspace and
// process, shared by every page of that workspace, kept a second and dropped at once by an approval or run
// event. It never holds a page up for long: while Temporal does not answer (0.5 s at most) it is left out.
import { LiveCache } from '../../../core/events/live-cache';
import { eventStreamOf } from '../../../core/events/stream';
import { countRuns, type RunWorkspace } from '../../../core/runs/visibility';
import type { AppDeps } from '../../context';

const COUNT_DEADLINE_MS = 500;
const caches = new WeakMap<AppDeps['sql'], LiveCache<number | null>>();

/** How many of the workspace's runs wait for a decision (every run's when none is named). */
export function waitingRuns(deps: Pick<AppDeps, 'sql' | 'temporal' | 'logger'>, ws?: RunWorkspace): Promise<number | null> {
  let cache = caches.get(deps.sql);
  if (!cache) {
    const made = (cache = new LiveCache<number | null>(1000, 200));
    caches.set(deps.sql, made);
    eventStreamOf(deps.sql, deps.logger).onEvent((e) => /^(approval|run)\./.test(e.type) && made.clear());
  }
  // Keyed by workspace: one workspace's count is never shown in another's navigation.
  return cache.get(ws?.id ?? '', () =>
    deps.temporal.connection
      .withDeadline(Date.now() + COUNT_DEADLINE_MS, () => countRuns(deps.temporal, { status: 'NeedsApproval', workspace: ws }))
      .catch(() => null),
  );
}

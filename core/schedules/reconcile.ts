// The reconciler: every so often, applies to Temporal what PostgreSQL committed
// but Temporal did not take (a schedule, a mission's pause or resume of its runs,
// a trigger delivery whose run never started), re-creates a schedule deleted
// behind the app's back, audits pauses made outside the app, and records the firings
// Temporal skipped (./scheduler-runs.ts). Every step is
// idempotent and takes a per-mission lock, so any number of replicas may run it;
// a pass lock keeps them from all describing every schedule at once.
import type { Sql } from '../../db/sql';
import { AppError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { TemporalHandle } from '../../lib/temporal';
import { applyMissionRuns } from '../missions/actions';
import { pendingMissionIds, temporalError, withSyncLock } from '../missions/mission-sync';
import { retryPendingDeliveries } from '../missions/triggers';
import { sweepSkippedFirings } from './scheduler-runs';
import { syncMissionSchedule } from './sync';

export interface ReconcileDeps {
  sql: Sql;
  temporal: TemporalHandle;
  logger: Logger;
}

export interface ReconcileReport {
  /** False when another replica was running a pass. */
  ran: boolean;
  schedules: { created: number; updated: number; deleted: number; adopted: number };
  runsSignalled: number;
  deliveriesStarted: number;
  /** Firings Temporal skipped, recorded in this pass. */
  skipsRecorded: number;
  failures: number;
  /** The first failure's message, if any. */
  error: string | null;
}

const isDown = (err: unknown) => {
  const e = temporalError(err);
  return e instanceof AppError && e.status === 503;
};

/**
 * One pass. `deliveryMinAgeMs` leaves a just-recorded delivery to the request that is starting it. Skipped
 * firings are looked for in the schedules with a firing open or just ended, or in all of them (`allSkips`).
 */
export async function reconcileOnce(deps: ReconcileDeps, opts: { deliveryMinAgeMs?: number; allSkips?: boolean } = {}): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    ran: false, schedules: { created: 0, updated: 0, deleted: 0, adopted: 0 }, runsSignalled: 0, deliveriesStarted: 0, skipsRecorded: 0, failures: 0, error: null,
  };
  const fail = (err: unknown) => {
    report.failures++;
    report.error ??= temporalError(err).message;
  };
  await withSyncLock(deps.sql, 'reconcile-pass', async () => {
    report.ran = true;
    const pending = await pendingMissionIds(deps.sql, 500);
    const scheduled = (await deps.sql<{ id: string }[]>`select id from missions where schedule is not null order by id`).map((r) => r.id);
    const ids = [...new Set([...pending, ...scheduled])];
    let down = false;
    // A few at a time: enough to keep up, not enough to crowd the API's own calls.
    for (let i = 0; i < ids.length && !down; i += 4) {
      await Promise.all(ids.slice(i, i + 4).map(async (id) => {
        const step = async (what: () => Promise<void>) => {
          try {
            await what();
          } catch (err) {
            fail(err);
            if (isDown(err)) down = true; // no point asking again in this pass
          }
        };
        await step(async () => {
          const { outcome, adopted } = await syncMissionSchedule(deps.sql, deps.temporal, id, { observe: true });
          if (outcome === 'created' || outcome === 'updated' || outcome === 'deleted') report.schedules[outcome]++;
          if (adopted) report.schedules.adopted++;
          if (outcome === 'created' && !pending.includes(id)) deps.logger.warn({ missionId: id }, 'schedule was missing from Temporal; created it again');
        });
        if (pending.includes(id) && !down) await step(async () => {
          report.runsSignalled += (await applyMissionRuns(deps.sql, deps.temporal, id))?.length ?? 0;
        });
      }));
    }
    if (down) return;
    try {
      report.deliveriesStarted = (await retryPendingDeliveries(deps.sql, deps.temporal, { minAgeMs: opts.deliveryMinAgeMs })).started;
    } catch (err) {
      fail(err);
    }
    try {
      report.skipsRecorded = await sweepSkippedFirings(deps.sql, deps.temporal, { all: opts.allSkips });
    } catch (err) {
      fail(err);
    }
  });
  return report;
}

/** Every this many passes, a pass looks at every schedule's skip counters. */
const ALL_SKIPS_EVERY = 20;

/** Runs a pass every `intervalMs` (the first soon after start) until stopped. */
export function startReconciler(deps: ReconcileDeps, opts: { intervalMs?: number; firstDelayMs?: number } = {}): { stop(): Promise<void> } {
  const interval = opts.intervalMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let lastError: string | null = null;
  let passes = 0;
  const tick = () => {
    // Every schedule's skip counters now and then (a missed catch-up window needs no open run); else the likely ones.
    running = reconcileOnce(deps, { allSkips: passes++ % ALL_SKIPS_EVERY === 0 })
      .then((r) => {
        const s = r.schedules;
        if (s.created + s.updated + s.deleted + s.adopted + r.runsSignalled + r.deliveriesStarted + r.skipsRecorded > 0) {
          deps.logger.info({ ...s, runsSignalled: r.runsSignalled, deliveriesStarted: r.deliveriesStarted, skipsRecorded: r.skipsRecorded }, 'reconciled with Temporal');
        }
        // Once per distinct problem, not every pass while Temporal is down.
        if (r.error && r.error !== lastError) deps.logger.warn({ failures: r.failures, error: r.error }, 'reconciling with Temporal failed; retrying');
        lastError = r.error;
      })
      .catch((err) => deps.logger.warn({ err }, 'a reconcile pass failed'))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, interval).unref();
      });
  };
  timer = setTimeout(tick, opts.firstDelayMs ?? 2000).unref();
  return {
    /** Waits a moment for a pass under way (it is safe to cut short: everything it does is retried). */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      if (running) await Promise.race([running, new Promise((r) => setTimeout(r, 2000).unref())]);
    },
  };
}

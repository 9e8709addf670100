// The worker's activity slots, sized by the sandbox. A slot (and so a poll
// for another task) is handed out only while a sandbox thread is free to run
// what comes, so tasks the threads cannot start yet wait in Temporal's task
// queue, where any worker can take them, not in this worker's sandbox queue.
// A few slots are always there, whatever the threads do, so the short
// database-only activities (loadPlan, selectPattern, recordRunEvent,
// raiseAlert, authorizeDecision) still run while every thread is busy.
import type { ActivitySlotInfo, CustomSlotSupplier, SlotPermit } from '@temporalio/worker';

/** What the supplier reads of the sandbox (activities/sandbox/pool.ts SandboxPool). */
export interface SandboxLoad {
  readonly capacity: number;
  stats(): { busy: number; queued: number };
}

/** Slots beyond one per thread that are always available, for the short activities. */
export const SHORT_ACTIVITY_SLOTS = 4;
/** Never more slots than this, however idle the threads. */
export const MAX_ACTIVITY_SLOTS = 50;
/** While the threads are full, how often waiting reservations look again (a released slot looks at once). */
const RECHECK_MS = 5;

export function sandboxSlotSupplier(sandbox: SandboxLoad, max = MAX_ACTIVITY_SLOTS): CustomSlotSupplier<ActivitySlotInfo> {
  const always = sandbox.capacity + SHORT_ACTIVITY_SLOTS;
  let issued = 0;
  const waiting: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;

  const free = () => {
    if (issued >= max) return false;
    if (issued < always) return true;
    const { busy, queued } = sandbox.stats();
    return queued === 0 && busy < sandbox.capacity;
  };
  // Hands slots to waiting reservations, oldest first, while there are free ones.
  const pump = () => {
    while (waiting.length && free()) {
      issued++;
      waiting.shift()!();
    }
    if (waiting.length && !timer) {
      timer = setInterval(pump, RECHECK_MS).unref();
    } else if (!waiting.length && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  return {
    type: 'custom',
    reserveSlot(_ctx, signal): Promise<SlotPermit> {
      if (!waiting.length && free()) {
        issued++;
        return Promise.resolve({});
      }
      return new Promise((resolve, reject) => {
        const granted = () => {
          signal.removeEventListener('abort', aborted);
          resolve({});
        };
        const aborted = () => {
          const i = waiting.indexOf(granted);
          if (i >= 0) waiting.splice(i, 1);
          pump();
          reject(signal.reason);
        };
        if (signal.aborted) return reject(signal.reason);
        signal.addEventListener('abort', aborted, { once: true });
        waiting.push(granted);
        pump();
      });
    },
    tryReserveSlot(): SlotPermit | null {
      if (waiting.length || !free()) return null;
      issued++;
      return {};
    },
    markSlotUsed() {},
    releaseSlot() {
      issued--;
      pump();
    },
  };
}

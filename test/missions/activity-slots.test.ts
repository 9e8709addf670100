// The worker's activity slots follow the sandbox (lib/activity-slots.ts): one
// per thread plus a few for short activities always, more only while a thread
// is free, so tasks the threads cannot start yet stay in Temporal's queue.
import { describe, expect, it } from 'vitest';
import { SHORT_ACTIVITY_SLOTS, sandboxSlotSupplier } from '../../lib/activity-slots';

const ctx = { slotType: 'activity', taskQueue: 'q', workerIdentity: 'w', workerBuildId: '', isSticky: false } as const;
const sandbox = (capacity: number) => {
  const load = { capacity, busy: 0, queued: 0, stats: () => ({ busy: load.busy, queued: load.queued }) };
  return load;
};
const settled = async (p: Promise<unknown>) => Promise.race([p.then(() => true, () => true), new Promise((r) => setTimeout(() => r(false), 30))]);

describe('activity slots', () => {
  it('are always available up to one per thread plus the short ones', async () => {
    const s = sandbox(2);
    s.busy = 2;
    s.queued = 5;
    const slots = sandboxSlotSupplier(s);
    for (let i = 0; i < 2 + SHORT_ACTIVITY_SLOTS; i++) expect(await settled(slots.reserveSlot(ctx, new AbortController().signal))).toBe(true);
    expect(slots.tryReserveSlot(ctx)).toBeNull();
  });

  it('beyond those, wait while every thread is busy and are handed out once one is free', async () => {
    const s = sandbox(2);
    const slots = sandboxSlotSupplier(s, 10);
    for (let i = 0; i < 6; i++) slots.tryReserveSlot(ctx);
    s.busy = 2;
    const waiting = slots.reserveSlot(ctx, new AbortController().signal);
    expect(await settled(waiting)).toBe(false);
    s.busy = 1;
    expect(await settled(waiting)).toBe(true);
  });

  it('never go past the maximum, and a released one goes to the oldest waiting reservation', async () => {
    const slots = sandboxSlotSupplier(sandbox(2), 7);
    for (let i = 0; i < 7; i++) expect(slots.tryReserveSlot(ctx)).not.toBeNull();
    const first = slots.reserveSlot(ctx, new AbortController().signal);
    const second = slots.reserveSlot(ctx, new AbortController().signal);
    slots.releaseSlot({ permit: {} });
    expect(await settled(first)).toBe(true);
    expect(await settled(second)).toBe(false);
    slots.releaseSlot({ permit: {} });
    expect(await settled(second)).toBe(true);
  });

  it('give up a reservation the worker no longer needs', async () => {
    const slots = sandboxSlotSupplier(sandbox(1), 5);
    for (let i = 0; i < 5; i++) slots.tryReserveSlot(ctx);
    const abort = new AbortController();
    const waiting = slots.reserveSlot(ctx, abort.signal);
    abort.abort(new Error('poller stopped'));
    await expect(waiting).rejects.toThrow('poller stopped');
    slots.releaseSlot({ permit: {} });
    expect(slots.tryReserveSlot(ctx)).not.toBeNull(); // the freed slot was not kept for the abandoned reservation
  });
});

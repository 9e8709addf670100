// The shared reader behind live pages (core/events/live-cache.ts): one load for
// every viewer, dropped by an event, and never kept long when it was read in the
// moment after an event, before Temporal may have recorded the change.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveCache, SETTLE_MS } from '../../core/events/live-cache';

beforeEach(() => void vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => void vi.useRealTimers());

function counter() {
  let loads = 0;
  return { load: () => Promise.resolve(++loads), get loads() { return loads; } };
}

describe('a live cache', () => {
  it('shares one load among callers for its TTL, then loads anew', async () => {
    const cache = new LiveCache<number>(5000);
    const c = counter();
    expect(await Promise.all([cache.get('k', c.load), cache.get('k', c.load)])).toEqual([1, 1]);
    vi.advanceTimersByTime(4999);
    expect(await cache.get('k', c.load)).toBe(1);
    vi.advanceTimersByTime(1);
    expect(await cache.get('k', c.load)).toBe(2);
  });

  it("'in-flight' joins a load still under way, never one already done, and not one begun before a change", async () => {
    const cache = new LiveCache<number>(5000);
    let loads = 0;
    const resolvers: (() => void)[] = [];
    const slow = () => new Promise<number>((resolve) => { const n = ++loads; resolvers.push(() => resolve(n)); });
    const first = cache.get('k', slow, { fresh: 'in-flight' });
    const joined = cache.get('k', slow, { fresh: 'in-flight' });
    expect(loads).toBe(1);
    resolvers.shift()!();
    expect(await Promise.all([first, joined])).toEqual([1, 1]);
    const afterDone = cache.get('k', slow, { fresh: 'in-flight' }); // the first load is done: a new one
    expect(loads).toBe(2);
    cache.drop('k'); // a change while it is in flight: it may predate the change
    const afterChange = cache.get('k', slow, { fresh: 'in-flight' });
    expect(loads).toBe(3);
    resolvers.shift()!();
    resolvers.shift()!();
    expect(await Promise.all([afterDone, afterChange])).toEqual([2, 3]);
    expect(await cache.get('k', slow)).toBe(3); // a plain get shares what the last load read
  });

  it('keeps a value read just after its key changed only until the change has settled', async () => {
    const cache = new LiveCache<number>(5000);
    const c = counter();
    await cache.get('k', c.load);
    cache.drop('k');
    vi.advanceTimersByTime(300); // a busy browser's first refresh, late
    expect(await cache.get('k', c.load)).toBe(2);
    vi.advanceTimersByTime(SETTLE_MS - 301);
    expect(await cache.get('k', c.load)).toBe(2); // viewers woken by the same event share it
    vi.advanceTimersByTime(1);
    expect(await cache.get('k', c.load)).toBe(3); // the settle refresh reads what Temporal has recorded since
    vi.advanceTimersByTime(4999);
    expect(await cache.get('k', c.load)).toBe(3); // read well after the change: the whole TTL
    expect(await cache.get('other', c.load)).toBe(4);
  });

  it('treats clear() as a change of every key', async () => {
    const cache = new LiveCache<number>(5000);
    const c = counter();
    await cache.get('k', c.load);
    cache.clear();
    expect(await cache.get('k', c.load)).toBe(2);
    vi.advanceTimersByTime(SETTLE_MS);
    expect(await cache.get('k', c.load)).toBe(3);
  });

  it('does not keep a failed load', async () => {
    const cache = new LiveCache<number>(5000);
    await expect(cache.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get('k', () => Promise.resolve(7))).toBe(7);
  });
});

// One shared reader per resource: what many viewers ask for at once (a run's
// detail, a board) is loaded once, in flight or done, kept a short while, and
// dropped the moment an event says it changed. So 200 pages watching one run
// cost Temporal what one does, and none of them shows a state older than the
// last event it was woken by.
//
// A run's event is written a moment before Temporal records the change it
// describes (the run records it inside its workflow task), so what is read just
// after an event may not show it yet. Such a value is kept only until SETTLE_MS
// after the event: the pages' own settle refresh (public/app.js, 1.2 s after a
// burst) then always reads anew, however late a busy browser sent its first one.

/** How long after a change a value read may still predate it in Temporal (kept below the pages' 1.2 s settle refresh). */
export const SETTLE_MS = 1000;

export class LiveCache<V> {
  private readonly entries = new Map<string, { at: number; value: Promise<V>; pending: boolean }>();
  /** When each key (or, for clear(), every key) last changed. */
  private readonly changed = new Map<string, number>();
  private clearedAt = -Infinity;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 500,
  ) {}

  /**
   * The cached value, or `load()` once for every caller that asks until it settles and for ttlMs after.
   * `fresh` loads anew. `fresh: 'in-flight'` takes no value already loaded but joins a load still in flight
   * (begun since the key's last change): a caller opening a page gets nothing older than that load's start,
   * and many openings at once cost one load. (Not after the caller's own change: that load may predate it.)
   */
  get(key: string, load: () => Promise<V>, opts: { fresh?: boolean | 'in-flight' } = {}): Promise<V> {
    const hit = this.entries.get(key);
    const usable = !hit ? false : opts.fresh === 'in-flight' ? hit.pending : !opts.fresh && Date.now() < this.expiry(key, hit.at);
    if (usable) return hit!.value;
    if (this.entries.size >= this.maxEntries) this.entries.clear(); // many distinct keys: start over rather than grow
    const entry = { at: Date.now(), value: load(), pending: true };
    this.entries.set(key, entry);
    // A failed load is not kept: the next viewer tries again.
    entry.value.then(() => void (entry.pending = false), () => {
      entry.pending = false;
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry.value;
  }

  /** An event says `key` changed. */
  drop(key: string): void {
    this.entries.delete(key);
    if (this.changed.size >= this.maxEntries) this.changed.clear();
    this.changed.set(key, Date.now());
  }

  /** An event says anything may have changed. */
  clear(): void {
    this.entries.clear();
    this.changed.clear();
    this.clearedAt = Date.now();
  }

  private expiry(key: string, at: number): number {
    const change = Math.max(this.changed.get(key) ?? -Infinity, this.clearedAt);
    // Read within SETTLE_MS of the change: it may not show the change yet, so it lasts until then at most.
    return at - change < SETTLE_MS ? Math.min(at + this.ttlMs, change + SETTLE_MS) : at + this.ttlMs;
  }
}

// One shared reader per resource: what many viewers ask for at once (a run's
// detail, a board) is loaded once, in flight or done, kept a short while, and
// dropped the moment an event says it changed. So 200 pages watching one run
// cost Temporal what one does, and none of them shows a state older than the
// last event it was woken by.

export class LiveCache<V> {
  private readonly entries = new Map<string, { at: number; value: Promise<V> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 500,
  ) {}

  /** The cached value, or `load()` once for every caller that asks until it settles and for ttlMs after. */
  get(key: string, load: () => Promise<V>, opts: { fresh?: boolean } = {}): Promise<V> {
    const hit = this.entries.get(key);
    if (!opts.fresh && hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    if (this.entries.size >= this.maxEntries) this.entries.clear(); // many distinct keys: start over rather than grow
    const entry = { at: Date.now(), value: load() };
    this.entries.set(key, entry);
    // A failed load is not kept: the next viewer tries again.
    entry.value.catch(() => this.entries.get(key) === entry && this.entries.delete(key));
    return entry.value;
  }

  drop(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

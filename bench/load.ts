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
  /**
   * Instead of `paths`: each request is a bundle of absolute URLs fetched at once (what a page that
   * calls an API several times waits for), in turn; its latency lasts until the last body is read.
   * `follow` pages a JSON answer on by its nextPageToken: every page (a workflow history), or at most
   * that many pages (a list scanned as far as a board scans it).
   */
  bundles?: { url: string; follow?: boolean | number }[][];
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
// One URL of a bundle, paged on while its answer has a nextPageToken: [status, bytes, first failed body].
const fetchAll = async (part, expect) => {
  let url = part.url, bytes = 0;
  for (let page = 1; ; page++) {
    const res = await fetch(url, { redirect: 'manual' });
    const body = await res.arrayBuffer();
    bytes += body.byteLength;
    if (res.status !== expect) return [res.status, bytes, part.url + ': ' + new TextDecoder().decode(body).slice(0, 300)];
    const token = part.follow ? /"nextPageToken":\\s*"([^"]+)"/.exec(new TextDecoder().decode(body)) : null;
    if (!token || (typeof part.follow === 'number' && page >= part.follow)) return [res.status, bytes, null];
    url = part.url + (part.url.includes('?') ? '&' : '?') + 'nextPageToken=' + encodeURIComponent(token[1]);
  }
};
const fetchBundle = async (bundle, expect) => {
  const parts = await Promise.all(bundle.map((part) => fetchAll(part, expect)));
  const bad = parts.find((p) => p[0] !== expect);
  return { status: bad ? bad[0] : expect, bytes: parts.reduce((a, p) => a + p[1], 0), error: bad ? bad[2] : null };
};
parentPort.on('message', async (job) => {
  const lat = [];
  let next = 0, total = 0, bytes = 0, errors = 0, firstError = null, stopAt = null;
  const from = performance.now() + job.warmupMs;
  const lane = async () => {
    while (stopAt === null) {
      const i = next++;
      const path = job.bundles ? 'bundle ' + (i % job.bundles.length) : job.paths[i % job.paths.length];
      const start = performance.now();
      try {
        let status, size, text;
        if (job.bundles) {
          const r = await fetchBundle(job.bundles[i % job.bundles.length], job.expect);
          [status, size, text] = [r.status, r.bytes, r.error];
        } else {
          const res = await fetch(job.base + path, { headers: job.headers, redirect: 'manual' });
          const body = await res.arrayBuffer();
          [status, size] = [res.status, body.byteLength];
          if (status !== job.expect) text = new TextDecoder().decode(body).slice(0, 300);
        }
        const end = performance.now();
        total++;
        if (status !== job.expect) {
          errors++;
          firstError ??= path + ': HTTP ' + status + ' ' + text;
        } else if (end >= from && stopAt === null) {
          lat.push(end - start);
          bytes += size;
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

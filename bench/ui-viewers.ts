// Browser-like viewers of one run page, for bench/ui-push.ts: in a worker
// thread (so the web server's event loop is not shared with them), each viewer
// follows /live/events with the session cookie, as the page's EventSource
// does, and does what public/app.js does with an event of its run: a refetch
// of the run's live element 60 ms after the first event of a burst and one
// more 1.2 s after its last, GET <data-live URL> with HX-Request and
// X-Live-Refresh: 1, taking the new data-live URL (its ?v= version) from each
// fragment it gets, as the morph does. On 'ready' it refreshes once, as the
// page does after (re)connecting.
//
// Times are wall-clock milliseconds (performance.timeOrigin + now, shared by
// every thread and comparable with Temporal's event times on this machine).
import { Worker as Thread } from 'node:worker_threads';

export interface ViewerOptions {
  base: string;
  cookie: string;
  runId: string;
  /** The run element's data-live URL when the page was rendered. */
  liveUrl: string;
  count: number;
}

export interface Sighting {
  /** Per viewer: when the change's SSE event arrived, and when a refetch first showed the change (null: never). */
  eventAt: (number | null)[];
  shownAt: (number | null)[];
}

export interface ViewerTotals {
  /** Refetches answered, by HTTP status, and the failures (network, an SSE stream lost). */
  byStatus: Record<string, number>;
  failures: number;
  firstFailure: string | null;
}

// Plain JavaScript (an eval'd thread loads no TypeScript).
const VIEWER_THREAD = `
const { parentPort } = require('node:worker_threads');
const now = () => performance.timeOrigin + performance.now();
let viewers = [], current = null, totals = null, abort = new AbortController();
const fail = (what) => { totals.failures++; totals.firstFailure ??= String(what).slice(0, 300); };
const unescape = (s) => s.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"');

function checkDone() {
  if (current && viewers.every((v) => v.shownAt !== null)) report();
}
function report() {
  if (!current) return;
  const c = current;
  current = null;
  parentPort.postMessage({ type: 'sighting', seq: c.seq, eventAt: viewers.map((v) => v.eventAt), shownAt: viewers.map((v) => v.shownAt) });
}

async function fetchLive(v, o) {
  try {
    // No abort signal: thousands of refetches would pile listeners on one; a late answer after close is dropped.
    const res = await fetch(o.base + v.liveUrl, { headers: { Cookie: o.cookie, 'HX-Request': 'true', 'X-Live-Refresh': '1' } });
    const text = await res.text();
    const at = now();
    if (v.signal.aborted) return;
    totals.byStatus[res.status] = (totals.byStatus[res.status] || 0) + 1;
    if (res.status !== 200) return;
    const live = /data-live="([^"]+)"/.exec(text);
    if (live) v.liveUrl = unescape(live[1]);
    if (current && v.shownAt === null && v.expecting === current.seq && text.includes(current.marker)) {
      v.shownAt = at;
      checkDone();
    }
  } catch (err) {
    if (!v.signal.aborted) fail(err && err.cause || err);
  }
}
function refresh(v, o) {
  if (!v.pending) v.pending = setTimeout(() => { v.pending = null; fetchLive(v, o); }, 60);
  clearTimeout(v.settling);
  v.settling = setTimeout(() => { v.settling = null; fetchLive(v, o); }, 1200);
}

async function follow(v, o, onReady) {
  const res = await fetch(o.base + '/live/events', { headers: { Cookie: o.cookie, Accept: 'text/event-stream' }, signal: v.signal });
  if (res.status !== 200 || !res.body) throw new Error('/live/events answered ' + res.status);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\\n\\n'); end >= 0; end = buffer.indexOf('\\n\\n')) {
      const raw = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message', data = '';
      for (const line of raw.split('\\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).replace(/^ /, '');
      }
      if (event === 'ready') { onReady(); refresh(v, o); continue; }
      if (event !== 'message' || !data) continue;
      const e = JSON.parse(data);
      if (e.runId !== o.runId) continue;
      if (current && v.eventAt === null && v.expecting === current.seq) v.eventAt = now();
      refresh(v, o);
    }
  }
}

parentPort.on('message', (m) => {
  if (m.type === 'open') {
    const o = m.options;
    const ctl = (abort = new AbortController());
    totals = { byStatus: {}, failures: 0, firstFailure: null };
    let ready = 0;
    viewers = Array.from({ length: o.count }, () => ({ liveUrl: o.liveUrl, signal: ctl.signal, pending: null, settling: null, eventAt: null, shownAt: null, expecting: -1 }));
    for (const v of viewers) {
      follow(v, o, () => { if (++ready === o.count) parentPort.postMessage({ type: 'opened' }); })
        .then(() => { if (!ctl.signal.aborted) fail('an SSE stream ended'); })
        .catch((err) => { if (!ctl.signal.aborted) fail(err && err.cause || err); });
    }
  } else if (m.type === 'expect') {
    current = { seq: m.seq, marker: m.marker };
    for (const v of viewers) Object.assign(v, { eventAt: null, shownAt: null, expecting: m.seq });
  } else if (m.type === 'reset') {
    totals = { byStatus: {}, failures: totals.failures, firstFailure: totals.firstFailure };
    parentPort.postMessage({ type: 'reset' });
  } else if (m.type === 'collect') {
    report();
  } else if (m.type === 'close') {
    abort.abort();
    for (const v of viewers) { clearTimeout(v.pending); clearTimeout(v.settling); }
    viewers = [];
    current = null;
    parentPort.postMessage({ type: 'closed', totals });
  }
});
`;

/** A set of viewers in their own thread; one set open at a time. */
export class Viewers {
  private readonly thread = new Thread(VIEWER_THREAD, { eval: true });

  private next<T>(type: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => (this.thread.off('message', onMessage), reject(new Error(`viewers: no '${type}' within ${timeoutMs} ms`))), timeoutMs);
      const onMessage = (m: { type: string }) => {
        if (m.type !== type) return;
        clearTimeout(timer);
        this.thread.off('message', onMessage);
        resolve(m as T);
      };
      this.thread.on('message', onMessage);
    });
  }

  /** Opens `count` viewers; resolves once every stream said 'ready'. */
  async open(options: ViewerOptions): Promise<void> {
    const opened = this.next('opened', 30_000);
    this.thread.postMessage({ type: 'open', options });
    await opened;
  }

  /** Zeroes the refetch counts (after the refetches every page makes when its stream is ready). */
  async reset(): Promise<void> {
    const done = this.next('reset', 10_000);
    this.thread.postMessage({ type: 'reset' });
    await done;
  }

  /**
   * Tells the viewers a change is coming (`marker`: text the run's fragment shows once it has the change),
   * runs `change`, and resolves with when each viewer heard of it and saw it (or null after `timeoutMs`).
   */
  async watch(seq: number, marker: string, change: () => Promise<void>, timeoutMs = 5000): Promise<Sighting> {
    this.thread.postMessage({ type: 'expect', seq, marker });
    const seen = this.next<Sighting & { seq: number }>('sighting', timeoutMs + 5000);
    await change();
    const timer = setTimeout(() => this.thread.postMessage({ type: 'collect' }), timeoutMs);
    try {
      return await seen;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes every viewer's stream and pending refetch; returns what their refetches got. */
  async close(): Promise<ViewerTotals> {
    const closed = this.next<{ totals: ViewerTotals }>('closed', 10_000);
    this.thread.postMessage({ type: 'close' });
    return (await closed).totals;
  }

  terminate(): Promise<number> {
    return this.thread.terminate();
  }
}

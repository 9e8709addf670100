// What the board and the run view cost under concurrent load, with 1,000+
// runs present, next to a bare Hono route served by the same process.
//
//   npx tsx bench/ui.ts
//
// Setup (bench/stack.ts, bench/ui-servers.ts; all throwaway, removed at the
// end even on failure): an embedded PostgreSQL (fsync off) and an in-memory
// `temporal server start-dev` on free ports; one worker (as startMissionWorker
// builds it, MC_SANDBOX_THREADS=2); the real web server (api/server.ts
// startWebServer) on 127.0.0.1:0; and, in the SAME process, a second tiny
// Hono app on @hono/node-server: the baseline. Fixtures (bench/ui-data.ts):
// 1,000 completed runs and runs in every other board column, made through the
// core functions; measurement starts once Temporal visibility shows them all.
//
// Subjects (signed in as the admin, session cookie from the real login form):
//   bare            GET /bare on the second Hono app: no middleware, a static
//                   HTML string as large as the board page. The floor: HTTP
//                   parsing, Hono routing, writing the bytes.
//   app floor       GET /static/favicon.svg on the real app: every middleware
//                   (request id, log, secure headers, session lookup in
//                   PostgreSQL, CSRF token), no page. What any UI request pays.
//   board           GET / : the full board page: the board from the routes'
//                   shared loader (createBoardLoader: one load per filter set
//                   for every viewer, lists kept 2 s, counts 10 s), plus
//                   containers, feed and layout.
//   board frag      GET /board with HX-Request: the htmx fragment, the same
//                   shared board, no containers, no feed.
//   board poll      GET /board?v=<current> with HX-Request: the every-3s poll
//                   that answers 204 when nothing changed (the version comes
//                   from the shared board).
//   run view        GET /runs/<id> of a completed run (cycling over 100 of
//                   them, each viewed once before timing): describe + the
//                   progress of a closed run, cached by runId after its first
//                   query (a replay on the worker) + its pattern_runs.
//   run poll        GET /runs/<id>?v=<current> with HX-Request on an open run
//                   waiting at approval: the every-1s poll, 204 (describe and
//                   a progress query every time: an open run is not cached).
// Each at 8 and 32 concurrent keep-alive clients (bench/load.ts: Node's fetch,
// in a worker thread so the server's event loop is not shared with the
// clients), after an untimed warm-up, counting the answers that arrive in a
// timed window (at least 2 s and 2 answers per client, at most 8 s); bare is
// measured first and last at each concurrency and pooled. Any unexpected
// status is an error.
//
// How to read it:
//   x p50 / x thr  the subject's median latency over bare's, and bare's
//                  requests/s over the subject's, at the same concurrency:
//                  "how many times more expensive than a bare Hono route".
//   cpu node / temporal / pg   CPU ms per request (warm-up included) of this
//                  node process (server, worker and load generator together),
//                  of the Temporal dev server and of PostgreSQL (bench/cpu.ts).
//   throttled      RESOURCE_EXHAUSTED answers per request: each one is a
//                  Temporal call retried after a back-off of 1.7 s or more.
//   vis/req        Temporal visibility calls (list, count) per request, made
//                  by the web server's client: what the shared loader saves.
// Then, in-process without HTTP (bench/ui-profile.ts): each load the board
// and the run view make, timed alone one call after another, the uncached
// ones included (loadBoard, the progress query); the uncached loadBoard under
// the same concurrency, next to the HTTP board; and the rate limit itself:
// count calls with no retry, 32 at a time, accepted and refused per second.
// An uncached board load makes 10 visibility calls, so uncached boards would
// be capped at that rate limit / 10 loads per second for the whole namespace;
// the shared loader makes a few calls per second per filter set, however
// many boards are open.
//
// The exit code is non-zero only when something fails (setup, an unexpected
// status, cleanup). A 2-core machine shared by Temporal, PostgreSQL and Node
// is noisy: compare ratios within one run, not absolute times across runs.
import { BOARD_COLUMNS } from '../core/board/board';
import { WORKFLOWS_PATH } from '../worker';
import { cpuSampler, type Cpu } from './cpu';
import { elapsed, fmt, log, runBench, stats, table, type Cleanup, type Stats } from './lib';
import { LoadGenerator, type JobResult } from './load';
import { connectClient, describeStack, startStack, startWorker, untilDone, type Stack } from './stack';
import { seedRuns } from './ui-data';
import { inProcessSteps, loadBoardAlone, rateLimit, visibilityPerLoad } from './ui-profile';
import { signIn, startServers, type Counters } from './ui-servers';

const CONCURRENCY = [8, 32];
const WARMUP_MS = 500;
/** A cell's timed window: at least DURATION_MS and SAMPLES_PER_CLIENT answers per client, at most MAX_WINDOW_MS. */
const DURATION_MS = 2000;
const SAMPLES_PER_CLIENT = 2;
const MAX_WINDOW_MS = 8000;
/** The whole thing gives up after this long (a stuck run would otherwise wait forever). */
const DEADLINE_MS = 8 * 60_000;

interface Subject {
  name: string;
  what: string;
  base: string;
  paths: string[];
  headers: Record<string, string>;
  expect: number;
}

interface Cell {
  subject: Subject;
  concurrency: number;
  latency: Stats;
  perSecond: number;
  kbPerResponse: number;
  cpu: Cpu | null;
  /** Per request: RESOURCE_EXHAUSTED answers the web server's client retried, and visibility calls it made. */
  throttled: number;
  visibility: number;
  /** Visibility calls in the cell's whole run (warm-up included), and that run's length. */
  visibilityCalls: number;
  wallSeconds: number;
}

runBench(async (cleanup) => {
  const t0 = performance.now();
  const stack = await startStack(cleanup, { tmpPrefix: 'mc-bench-ui-', workflowsPath: WORKFLOWS_PATH, env: { MC_SANDBOX_THREADS: '2' } });
  const worker = await startWorker(stack, cleanup);
  const servers = await startServers(stack, cleanup);
  const bench = await connectClient(stack, cleanup);
  const { webUrl, bareUrl, counters } = servers;

  const measure = async (): Promise<void> => {
    log(`${describeStack(stack)}, servers up after ${elapsed(t0)}`);
    const { completedIds, waitingIds, expected } = await seedRuns(stack, bench, t0);

    // ---- the signed-in client, the pages, their versions -------------------------------------
    const { cookie, get } = await signIn(stack, webUrl);
    const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"');
    const boardPage = await get(`${webUrl}/`);
    const boardPoll = /id="board"[^>]*hx-get="([^"]+)"/.exec(boardPage)?.[1];
    if (!boardPoll || !/[?&]v=/.test(boardPoll)) throw new Error('no hx-get with a version on the board');
    const openPage = await get(`${webUrl}/runs/${encodeURIComponent(waitingIds[0]!)}`);
    const runPoll = /id="run"[^>]*hx-get="([^"]+)"/.exec(openPage)?.[1];
    if (!runPoll || !/[?&]v=/.test(runPoll)) throw new Error('no hx-get with a version on the open run\'s page');
    for (const col of BOARD_COLUMNS) {
      const header = `id="col-${col.status}"><span>${col.label}</span><span>${expected[col.status]}</span>`;
      if (!boardPage.includes(header)) throw new Error(`the board does not show ${expected[col.status]} ${col.label} runs`);
    }
    const viewed = completedIds.slice(-100).map((id) => `/runs/${encodeURIComponent(id)}`);
    const pageSize = Buffer.byteLength(boardPage);
    const bareBody = `<!doctype html><html><head><title>bare</title></head><body><p>${'x'.repeat(Math.max(0, pageSize - 80))}</p></body></html>`;
    servers.setBareBody(bareBody);

    const plain = { Cookie: cookie };
    const hx = { Cookie: cookie, 'HX-Request': 'true' };
    const subjects: Subject[] = [
      { name: 'bare', what: `GET /bare, second Hono app, static ${Buffer.byteLength(bareBody)} B`, base: bareUrl, paths: ['/bare'], headers: plain, expect: 200 },
      { name: 'app floor', what: 'GET /static/favicon.svg through all middleware', base: webUrl, paths: ['/static/favicon.svg'], headers: plain, expect: 200 },
      { name: 'board', what: 'GET / full page', base: webUrl, paths: ['/'], headers: plain, expect: 200 },
      { name: 'board frag', what: 'GET /board, HX-Request', base: webUrl, paths: ['/board'], headers: hx, expect: 200 },
      { name: 'board poll', what: `GET ${unescape(boardPoll).replace(/v=[^&]+/, 'v=<current>')}, HX-Request -> 204`, base: webUrl, paths: [unescape(boardPoll)], headers: hx, expect: 204 },
      { name: 'run view', what: `GET /runs/<id>, ${viewed.length} completed runs in turn`, base: webUrl, paths: viewed, headers: plain, expect: 200 },
      { name: 'run poll', what: 'GET /runs/<open id>?v=<current>, HX-Request -> 204', base: webUrl, paths: [unescape(runPoll)], headers: hx, expect: 204 },
    ];
    log('\nSubjects');
    log(table(['subject', 'request'], subjects.map((s) => [s.name, s.what])));
    log(
      `sizes: board page ${fmt(pageSize / 1024)} KB, board fragment ${fmt(Buffer.byteLength(await get(`${webUrl}/board`, { 'HX-Request': 'true' })) / 1024)} KB, ` +
        `run view ${fmt(Buffer.byteLength(await get(`${webUrl}${viewed[0]}`)) / 1024)} KB, bare ${fmt(Buffer.byteLength(bareBody) / 1024)} KB`,
    );

    // ---- in-process: what one board and one run view load, one call at a time ----------------
    await new Promise((r) => setTimeout(r, 1500)); // a full rate-limit bucket to start from
    const perLoad = await visibilityPerLoad(servers.deps, counters);
    await inProcessSteps({ deps: servers.deps, counters, completedId: completedIds.at(-1)!, cookie, bareApp: servers.bareApp, perLoad });

    // ---- HTTP under load --------------------------------------------------------------------
    for (const s of subjects) for (const p of s.paths) await get(s.base + p, s.headers, s.expect); // every run viewed once
    const cells = await measureHttp(stack, cleanup, subjects, counters);
    report(subjects, cells);

    // ---- the uncached loadBoard alone, under the same concurrency, next to the HTTP board --------
    log(`\nThe uncached loadBoard alone, in-process (no HTTP, no render, no containers/feed, no shared cache), ${DURATION_MS / 1000} s, the web server's client; and the HTTP board routes (shared loader)`);
    const alone: string[][] = [];
    for (const concurrency of CONCURRENCY) {
      const a = await loadBoardAlone(servers.deps, counters, concurrency, DURATION_MS);
      alone.push(['loadBoard, uncached', String(concurrency), String(a.latency.n), fmt(a.perSecond, 1), fmt(a.latency.p50), fmt(a.latency.p95), fmt(a.throttledPerCall, 2), fmt(a.visibilityPerSecond, 0)]);
    }
    for (const name of ['board', 'board frag', 'board poll']) {
      for (const c of cells.filter((x) => x.subject.name === name)) {
        alone.push([`HTTP ${name}`, String(c.concurrency), String(c.latency.n), fmt(c.perSecond, 1), fmt(c.latency.p50), fmt(c.latency.p95), fmt(c.throttled, 2), fmt(c.visibilityCalls / c.wallSeconds, 1)]);
      }
    }
    log(table(['loader', 'conc', 'n', 'calls or req/s', 'p50', 'p95', 'throttled/call', 'Temporal calls/s'], alone));

    // ---- the visibility rate limit itself ------------------------------------------------------
    const { accepted: cap, refused } = await rateLimit(servers.deps, stack.address);
    const boards = cells.filter((c) => c.subject.name.startsWith('board'));
    const seconds = boards.reduce((a, c) => a + c.wallSeconds, 0);
    const shared = boards.reduce((a, c) => a + c.visibilityCalls, 0) / seconds;
    log(
      `\nVisibility rate limit, 32 count calls at a time for 2 s, no retry: ${fmt(cap, 0)} accepted/s, ${fmt(refused, 0)} refused/s (RESOURCE_EXHAUSTED). ` +
        `An uncached board load makes ${perLoad} calls: ~${fmt(cap / perLoad, 1)} loads/s for the whole namespace, i.e. ~${fmt(cap / (perLoad / 3), 0)} boards polling every 3 s. ` +
        `The routes' shared loader made ${fmt(shared, 1)} calls/s over the ${fmt(seconds, 0)} s of board load above, whatever the number of clients: ~${fmt(cap / shared, 0)} distinct filter sets at once saturate it.`,
    );
    log(`\ntotal time ${elapsed(t0)} (cleanup follows)`);
  };

  await untilDone(cleanup, measure(), worker.done, DEADLINE_MS);
});

/** Every subject at every concurrency; bare first and last at each, pooled. */
async function measureHttp(stack: Stack, cleanup: Cleanup, subjects: Subject[], counters: Counters): Promise<Cell[]> {
  const load = new LoadGenerator();
  cleanup.add('stop the load generator', () => load.close());
  const cpuNow = cpuSampler(stack.temporalPid);
  const run = async (subject: Subject, concurrency: number) => {
    const before = cpuNow();
    const [throttled, visibility, t] = [counters.throttled, counters.visibility, performance.now()];
    const r = await load.run({
      base: subject.base, paths: subject.paths, headers: subject.headers, concurrency, warmupMs: WARMUP_MS, durationMs: DURATION_MS,
      minSamples: SAMPLES_PER_CLIENT * concurrency, maxMs: MAX_WINDOW_MS, expect: subject.expect,
    });
    const after = cpuNow();
    if (r.errors) throw new Error(`${subject.name} at ${concurrency} concurrent: ${r.errors} of ${r.total} requests failed; first: ${r.firstError}`);
    const per = (k: keyof Cpu) => (after![k] - before![k]) / r.total;
    return {
      r, cpu: before && after ? { node: per('node'), temporal: per('temporal'), postgres: per('postgres') } : null,
      throttled: (counters.throttled - throttled) / r.total, visibility: (counters.visibility - visibility) / r.total,
      visibilityCalls: counters.visibility - visibility, wallSeconds: (performance.now() - t) / 1000,
    };
  };
  const cell = (subject: Subject, concurrency: number, runs: Awaited<ReturnType<typeof run>>[]): Cell => {
    const measured = runs.reduce((a, x) => a + x.r.measured, 0);
    const mean = (f: (x: (typeof runs)[number]) => number) => runs.reduce((a, x) => a + f(x), 0) / runs.length;
    const cpus = runs.map((x) => x.cpu);
    return {
      subject, concurrency, latency: stats(runs.flatMap((x) => Array.from(x.r.latencies))),
      perSecond: measured / runs.reduce((a, x) => a + x.r.seconds, 0), kbPerResponse: runs.reduce((a, x) => a + x.r.bytes, 0) / measured / 1024,
      cpu: cpus.every((c) => c) ? { node: mean((x) => x.cpu!.node), temporal: mean((x) => x.cpu!.temporal), postgres: mean((x) => x.cpu!.postgres) } : null,
      throttled: mean((x) => x.throttled), visibility: mean((x) => x.visibility),
      visibilityCalls: runs.reduce((a, x) => a + x.visibilityCalls, 0), wallSeconds: runs.reduce((a, x) => a + x.wallSeconds, 0),
    };
  };

  // The load thread's own warm-up (its fetch, JIT), on the bare route: not recorded.
  const [bare, ...others] = subjects as [Subject, ...Subject[]];
  await load.run({ base: bare.base, paths: bare.paths, headers: bare.headers, concurrency: 32, warmupMs: 1000, durationMs: 0, minSamples: 0, maxMs: 0, expect: 200 });
  const cells: Cell[] = [];
  for (const concurrency of CONCURRENCY) {
    const since = performance.now();
    const first = await run(bare, concurrency);
    for (const s of others) cells.push(cell(s, concurrency, [await run(s, concurrency)]));
    const last = await run(bare, concurrency);
    cells.push(cell(bare, concurrency, [first, last]));
    const rate = (r: JobResult) => fmt(r.measured / r.seconds, 0);
    log(`  measured ${concurrency} concurrent in ${elapsed(since)} (bare first/last: ${rate(first.r)}/${rate(last.r)} req/s)`);
  }
  return cells;
}

function report(subjects: Subject[], cells: Cell[]): void {
  log(
    `\nHTTP under load, after ${WARMUP_MS} ms warm-up: answers in a window of ${DURATION_MS / 1000} s, longer until ${SAMPLES_PER_CLIENT} per client (at most ${MAX_WINDOW_MS / 1000} s); ` +
      'latency in ms, CPU in ms per request',
  );
  log('x p50 = p50 / bare p50, x thr = bare req/s / req/s (both: times more expensive than the bare route)');
  const order = subjects.map((s) => s.name);
  const rows = CONCURRENCY.flatMap((concurrency) => {
    const bare = cells.find((c) => c.concurrency === concurrency && c.subject.name === 'bare')!;
    return cells
      .filter((c) => c.concurrency === concurrency)
      .sort((a, b) => order.indexOf(a.subject.name) - order.indexOf(b.subject.name))
      .map((c) => [
        c.subject.name, String(concurrency), String(c.latency.n), fmt(c.perSecond, 0), fmt(c.latency.p50), fmt(c.latency.p95), fmt(c.latency.p99),
        fmt(c.kbPerResponse), `${fmt(c.latency.p50 / bare.latency.p50, 1)}x`, `${fmt(bare.perSecond / c.perSecond, 1)}x`,
        c.cpu ? fmt(c.cpu.node, 1) : '-', c.cpu ? fmt(c.cpu.temporal, 1) : '-', c.cpu ? fmt(c.cpu.postgres, 1) : '-', fmt(c.throttled, 2), fmt(c.visibility, 2),
      ]);
  });
  log(table(['subject', 'conc', 'n', 'req/s', 'p50', 'p95', 'p99', 'KB', 'x p50', 'x thr', 'cpu node', 'cpu temporal', 'cpu pg', 'throttled', 'vis/req'], rows));
  log('throttled = RESOURCE_EXHAUSTED answers (Temporal namespace rate limit) per request, each waited out by the SDK\'s retry; vis/req = visibility calls per request');
}

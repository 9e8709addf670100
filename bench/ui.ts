// What the board and the run view cost under concurrent load, with 1,000+
// runs present, next to a bare Hono route served by the same process and next
// to Temporal's own Web UI server serving the same data; then how fast a
// change reaches a live page, and what 200 live viewers of one run cost.
//
//   npx tsx bench/ui.ts
//   UI_BENCH_VISIBILITY_RPS=default npx tsx bench/ui.ts   (Temporal's own visibility rate limit)
//
// Setup (bench/stack.ts, bench/ui-servers.ts; all throwaway, removed at the
// end even on failure): an embedded PostgreSQL (fsync off) and an in-memory
// `temporal server start-dev` WITH its Web UI, on free ports of 127.0.0.1; one
// worker (as startMissionWorker builds it, MC_SANDBOX_THREADS=2); the real web
// server (api/server.ts startWebServer) on 127.0.0.1:0; and, in the SAME
// process, a second tiny Hono app on @hono/node-server: the baseline. The dev
// server's visibility rate limit (frontend.namespaceRPS.visibility, 10/s per
// namespace by default, with bursts) is raised to UI_BENCH_VISIBILITY_RPS
// (10000 unless set; `default` keeps Temporal's), so that the board and
// Temporal's UI server, which make the same visibility calls, are both timed
// for their work rather than for the limiter's waits (the SDK waits 1.7 s or
// more; the UI server answers 429). Fixtures (bench/ui-data.ts): 1,000
// completed runs and runs in every other board column, made through the core
// functions; measurement starts once Temporal visibility shows them all.
//
// Subjects (signed in as the admin, session cookie from the real login form):
//   bare            GET /bare on the second Hono app: no middleware, a static
//                   HTML string as large as the board page. The floor: HTTP
//                   parsing, Hono routing, writing the bytes.
//   app floor       GET /static/favicon.svg on the real app: every middleware
//                   (request id, log, secure headers, session lookup in
//                   PostgreSQL, CSRF token), no page. What any UI request pays.
//   board           GET / : opening the board: a fresh board load (its lists
//                   and counts from Temporal, drafts; or the load of the same
//                   board already in flight, begun since the last event), plus
//                   containers, feed and layout.
//   board frag      GET /board with HX-Request: a filter change: a fresh load,
//                   the fragment, no containers, no feed.
//   board live      GET <the board's data-live URL, ?v=current> with
//                   HX-Request and X-Live-Refresh: 1: the refetch an event
//                   makes every open board do (public/app.js); every board
//                   woken shares one load (createBoardLoader, kept 1 s or until
//                   the next event); unchanged here, so 204.
//   temporal list   Temporal's UI server, the same data as a board load: the
//                   board's own visibility calls (same queries, same page
//                   sizes, as many pages), all at once (bench/ui-temporal.ts).
//   run view        GET /runs/<id> of a completed run (cycling over 100 of
//                   them, each viewed once before timing): describe (fresh on
//                   opening) + the progress of a closed run, cached by runId
//                   after its first query (a replay on the worker) + its
//                   pattern_runs.
//   run live        GET <an open run's data-live URL, ?v=current> with
//                   HX-Request and X-Live-Refresh: 1, a run waiting at
//                   approval: an event's refetch; every viewer of the run
//                   shares one describe + progress query for a second; 204.
//   temporal run    Temporal's UI server, what its Web UI fetches to show one
//                   run: describe + the whole history, of the same 100 runs.
//   runs page       GET /runs: the runs list, from Temporal visibility.
//   leads page      GET /leads with 10,000 leads present, and drafts page,
//   drafts page     GET /drafts?status= with 2,000 (bench/ui-outreach.ts):
//                   seed 002's lists, each within 1.5x of the runs page.
// Each at 8 and 32 concurrent keep-alive clients (bench/load.ts: Node's fetch,
// in a worker thread so the server's event loop is not shared with the
// clients), after an untimed warm-up, counting the answers that arrive in a
// timed window (at least 2 s and 2 answers per client, at most 8 s); bare is
// measured first and last at each concurrency and pooled, and each pair of
// the ratio table (board / temporal list, run view / temporal run) as A, B,
// B, A, pooled, so that the machine's drifting load weighs on both alike.
// Any unexpected status is an error.
//
// How to read it:
//   x p50 / x thr  the subject's median latency over bare's, and bare's
//                  requests/s over the subject's, at the same concurrency:
//                  "how many times more expensive than a bare Hono route".
//   ratio          ours / Temporal's UI server for the same data (board and
//                  board frag / temporal list, run view / temporal run), at
//                  p50 and p99: the goal is <= 1.0.
//   cpu node / temporal / pg   CPU ms per request (warm-up included) of this
//                  node process (server, worker and load generator together),
//                  of the Temporal dev server (its UI server included) and of
//                  PostgreSQL (bench/cpu.ts).
//   throttled      RESOURCE_EXHAUSTED answers per request: each one is a
//                  Temporal call retried after a back-off of 1.7 s or more.
//   vis/req        Temporal visibility calls (list, count) per request, made
//                  by the web server's client: what the shared loader saves.
// Then, in-process without HTTP (bench/ui-profile.ts): each load the board
// and the run view make, timed alone one call after another, the uncached
// ones included (loadBoard, the progress query); the uncached loadBoard under
// the same concurrency, next to the HTTP board; and the visibility API's
// capacity: count calls with no retry, 32 at a time, accepted and refused
// per second (the rate limit, when UI_BENCH_VISIBILITY_RPS=default).
// Last (bench/ui-push.ts): push latency, from Temporal recording a change of
// a run to a browser-like viewer's SSE event and to its refetch showing the
// change, and the Temporal calls 1 and 200 live viewers of that run cost.
//
// The exit code is non-zero only when something fails (setup, an unexpected
// status, cleanup). A 2-core machine shared by Temporal, PostgreSQL and Node
// is noisy: compare ratios within one run, not absolute times across runs.
import { BOARD_COLUMNS } from '../core/board/board';
import { WORKFLOWS_PATH } from '../worker';
import { elapsed, fmt, log, runBench, table } from './lib';
import { connectClient, describeStack, startStack, startWorker, untilDone } from './stack';
import { seedRuns } from './ui-data';
import { DRAFTS as OUTREACH_DRAFTS, LEADS, seedOutreach } from './ui-outreach';
import { CONCURRENCY, DURATION_MS, comparePairs, measureHttp, report, type Subject } from './ui-http';
import { inProcessSteps, loadBoardAlone, rateLimit, visibilityPerLoad } from './ui-profile';
import { pushAndFanOut } from './ui-push';
import { signIn, startServers } from './ui-servers';
import { temporalSubjects } from './ui-temporal';

/** The whole thing gives up after this long (a stuck run would otherwise wait forever). */
const DEADLINE_MS = 9 * 60_000;
const VISIBILITY_RPS = process.env.UI_BENCH_VISIBILITY_RPS || '10000';
if (VISIBILITY_RPS !== 'default' && !/^\d+$/.test(VISIBILITY_RPS)) throw new Error('UI_BENCH_VISIBILITY_RPS is a number of calls per second, or `default`');

runBench(async (cleanup) => {
  const t0 = performance.now();
  const stack = await startStack(cleanup, {
    tmpPrefix: 'mc-bench-ui-', workflowsPath: WORKFLOWS_PATH, env: { MC_SANDBOX_THREADS: '2' }, ui: true,
    dynamicConfig: VISIBILITY_RPS === 'default' ? [] : [`frontend.namespaceRPS.visibility=${VISIBILITY_RPS}`],
  });
  const worker = await startWorker(stack, cleanup);
  const servers = await startServers(stack, cleanup);
  const bench = await connectClient(stack, cleanup);
  const { webUrl, bareUrl, counters } = servers;
  if (!stack.uiUrl) throw new Error('the Temporal dev server was started without its Web UI');

  const measure = async (): Promise<void> => {
    log(
      `${describeStack(stack)}, Temporal Web UI at ${stack.uiUrl}, visibility rate limit ${VISIBILITY_RPS === 'default' ? "Temporal's default" : `${VISIBILITY_RPS}/s`}; ` +
        `servers up after ${elapsed(t0)}`,
    );
    const { completedIds, waitingIds, expected } = await seedRuns(stack, bench, t0);
    await seedOutreach(stack);

    // ---- the signed-in client, the pages, their live URLs --------------------------------------
    const { cookie, get } = await signIn(stack, webUrl);
    const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"');
    const liveUrlOf = (page: string, id: string) => {
      const url = new RegExp(`id="${id}"[^>]*data-live="([^"]+)"`).exec(page)?.[1];
      if (!url || !/[?&]v=/.test(url)) throw new Error(`no data-live URL with a version on #${id}`);
      return unescape(url);
    };
    const boardPage = await get(`${webUrl}/`);
    const boardLive = liveUrlOf(boardPage, 'board');
    const runLive = liveUrlOf(await get(`${webUrl}/runs/${encodeURIComponent(waitingIds[0]!)}`), 'run');
    for (const col of BOARD_COLUMNS) {
      const header = `id="col-${col.status}"><span>${col.label}</span><span>${expected[col.status]}</span>`;
      if (!boardPage.includes(header)) throw new Error(`the board does not show ${expected[col.status]} ${col.label} runs`);
    }
    const viewedIds = completedIds.slice(-100);
    const viewed = viewedIds.map((id) => `/runs/${encodeURIComponent(id)}`);
    const pageSize = Buffer.byteLength(boardPage);
    const bareBody = `<!doctype html><html><head><title>bare</title></head><body><p>${'x'.repeat(Math.max(0, pageSize - 80))}</p></body></html>`;
    servers.setBareBody(bareBody);
    const temporal = await temporalSubjects({ deps: servers.deps, counters, uiUrl: stack.uiUrl!, bench, runIds: viewedIds });

    const plain = { Cookie: cookie };
    const hx = { Cookie: cookie, 'HX-Request': 'true' };
    const live = { ...hx, 'X-Live-Refresh': '1' };
    const lists = temporal.boardCalls.filter((c) => c.kind === 'list').length;
    // Each Temporal subject measured with ours for the same data, A B B A (the machine's noise drifts).
    const subjects: Subject[] = [
      { name: 'bare', what: `GET /bare, second Hono app, static ${Buffer.byteLength(bareBody)} B`, base: bareUrl, paths: ['/bare'], headers: plain, expect: 200 },
      { name: 'app floor', what: 'GET /static/favicon.svg through all middleware', base: webUrl, paths: ['/static/favicon.svg'], headers: plain, expect: 200 },
      { name: 'board live', what: `GET ${boardLive.replace(/v=[^&]+/, 'v=<current>')}, HX-Request, X-Live-Refresh -> 204`, base: webUrl, paths: [boardLive], headers: live, expect: 204 },
      { name: 'run live', what: 'GET /runs/<open id>?v=<current>, HX-Request, X-Live-Refresh -> 204', base: webUrl, paths: [runLive], headers: live, expect: 204 },
      { name: 'board', what: 'GET / full page (opening the board: a fresh load)', base: webUrl, paths: ['/'], headers: plain, expect: 200, abbaWith: 'temporal list' },
      {
        name: 'temporal list', what: `Temporal UI server: the board's ${lists} lists (as many pages) + ${temporal.boardCalls.length - lists} counts at once`,
        base: stack.uiUrl!, paths: [], headers: {}, expect: 200, bundles: temporal.list,
      },
      { name: 'board frag', what: 'GET /board, HX-Request (a filter change: a fresh load)', base: webUrl, paths: ['/board'], headers: hx, expect: 200 },
      { name: 'run view', what: `GET /runs/<id>, ${viewed.length} completed runs in turn`, base: webUrl, paths: viewed, headers: plain, expect: 200, abbaWith: 'temporal run' },
      {
        name: 'temporal run', what: `Temporal UI server: describe + history, the same ${viewed.length} runs in turn`,
        base: stack.uiUrl!, paths: [], headers: {}, expect: 200, bundles: temporal.runs,
      },
      // Seed 002's pages with their data present (bench/ui-outreach.ts), next to the runs page (goal: within 1.5x).
      { name: 'runs page', what: 'GET /runs, the runs list (Temporal visibility)', base: webUrl, paths: ['/runs'], headers: plain, expect: 200, abbaWith: 'leads page' },
      { name: 'leads page', what: `GET /leads with ${LEADS} leads`, base: webUrl, paths: ['/leads'], headers: plain, expect: 200 },
      { name: 'drafts page', what: `GET /drafts?status= with ${OUTREACH_DRAFTS} drafts (all statuses)`, base: webUrl, paths: ['/drafts?status='], headers: plain, expect: 200 },
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
    await inProcessSteps({ deps: servers.deps, counters, completedId: completedIds.at(-1)!, openId: waitingIds[1]!, cookie, bareApp: servers.bareApp, perLoad });

    // ---- HTTP under load --------------------------------------------------------------------
    for (const s of subjects) for (const p of s.paths) await get(s.base + p, s.headers, s.expect); // every run viewed once
    const cells = await measureHttp(stack, cleanup, subjects, counters);
    report(subjects, cells);
    comparePairs(cells, [['board', 'temporal list'], ['board frag', 'temporal list'], ['run view', 'temporal run']]);
    comparePairs(cells, [['leads page', 'runs page'], ['drafts page', 'runs page']], { goal: 1.5, title: 'Seed 002\'s pages with their data / the runs page (ratio = their latency / the runs page\'s' });

    // ---- the uncached loadBoard alone, under the same concurrency, next to the HTTP board --------
    log(`\nThe uncached loadBoard alone, in-process (no HTTP, no render, no containers/feed, no shared cache), ${DURATION_MS / 1000} s, the web server's client; and the HTTP board routes`);
    const alone: string[][] = [];
    for (const concurrency of CONCURRENCY) {
      const a = await loadBoardAlone(servers.deps, counters, concurrency, DURATION_MS);
      alone.push(['loadBoard, uncached', String(concurrency), String(a.latency.n), fmt(a.perSecond, 1), fmt(a.latency.p50), fmt(a.latency.p95), fmt(a.throttledPerCall, 2), fmt(a.visibilityPerSecond, 0)]);
    }
    for (const name of ['board', 'board frag', 'board live']) {
      for (const c of cells.filter((x) => x.subject.name === name)) {
        alone.push([`HTTP ${name}`, String(c.concurrency), String(c.latency.n), fmt(c.perSecond, 1), fmt(c.latency.p50), fmt(c.latency.p95), fmt(c.throttled, 2), fmt(c.visibilityCalls / c.wallSeconds, 1)]);
      }
    }
    log(table(['loader', 'conc', 'n', 'calls or req/s', 'p50', 'p95', 'throttled/call', 'Temporal calls/s'], alone));

    // ---- the visibility API's capacity (its rate limit, when it is Temporal's default) ---------------
    const { accepted: cap, refused } = await rateLimit(servers.deps, stack.address);
    const live1 = cells.filter((c) => c.subject.name === 'board live');
    const seconds = live1.reduce((a, c) => a + c.wallSeconds, 0);
    const shared = live1.reduce((a, c) => a + c.visibilityCalls, 0) / seconds;
    log(
      `\nVisibility calls, 32 count calls at a time for 2 s, no retry (limit ${VISIBILITY_RPS === 'default' ? "Temporal's default" : `raised to ${VISIBILITY_RPS}/s`}): ` +
        `${fmt(cap, 0)} accepted/s, ${fmt(refused, 0)} refused/s (RESOURCE_EXHAUSTED). ` +
        `A fresh board load (opening the board, a filter change) makes ${perLoad} calls: ~${fmt(cap / perLoad, 1)} openings/s for the whole namespace. ` +
        `Live refreshes share one load: the board live subject made ${fmt(shared, 1)} calls/s over its ${fmt(seconds, 0)} s, whatever the number of clients.`,
    );

    // ---- push latency and fan-out of the live run view ------------------------------------------
    const pushed = waitingIds.at(-1)!;
    await pushAndFanOut({ stack, cleanup, counters, bench, webUrl, cookie, runId: pushed, liveUrl: liveUrlOf(await get(`${webUrl}/runs/${encodeURIComponent(pushed)}`), 'run') });
    log(`\ntotal time ${elapsed(t0)} (cleanup follows)`);
  };

  await untilDone(cleanup, measure(), worker.done, DEADLINE_MS);
});

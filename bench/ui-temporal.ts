// Temporal's own Web UI server as a subject of bench/ui.ts: the dev server's
// UI port serves the same WorkflowService calls over HTTP/JSON (its
// grpc-gateway under /api/v1, what Temporal's Web UI fetches in the browser).
//
//   temporal list  the visibility calls ONE board load makes, recorded from the
//                  web server's own client (the same queries, the same page
//                  sizes, as many pages of each list as the board scanned: a
//                  list per column and the counts), sent to the UI server all
//                  at once (a list's pages one after another), as a page
//                  fetching them would.
//   temporal run   what Temporal's UI fetches to show one run: describe
//                  (/workflows/<id>?execution.runId=) and the whole history
//                  (/workflows/<id>/history, paged by nextPageToken), at once.
// GETs need no CSRF token (the UI server checks it on changes only) and no
// auth (the dev server's UI has none). Before measuring, the answers are
// checked against the SDK's: the same runs in every list, the same counts.
import { loadBoard } from '../core/board/board';
import type { AppDeps } from '../api/context';
import { fmt, log } from './lib';
import type { BenchClient } from './stack';
import type { Counters, VisibilityCall } from './ui-servers';

export interface TemporalSubjects {
  /** One bundle: the board's visibility calls on the UI server. */
  list: { url: string; follow?: number }[][];
  /** One bundle per run: describe + history. */
  runs: { url: string; follow?: boolean }[][];
  /** What one board load asked Temporal, and the gRPC calls it made. */
  boardCalls: VisibilityCall[];
  boardGrpc: Record<string, number>;
}

interface ListAnswer {
  executions?: { execution?: { workflowId?: string } }[];
}

/** Records one uncached board load's visibility calls, builds the same requests for the UI server, and checks them. */
export async function temporalSubjects(o: { deps: AppDeps; counters: Counters; uiUrl: string; bench: BenchClient; runIds: string[] }): Promise<TemporalSubjects> {
  const { deps, counters, uiUrl, bench } = o;
  const api = `${uiUrl}/api/v1/namespaces/${encodeURIComponent(deps.temporal.namespace)}`;

  counters.recorded = [];
  const grpcBefore = { ...counters.calls };
  await loadBoard(deps.sql, deps.temporal, {});
  const boardCalls = counters.recorded;
  counters.recorded = null;
  const boardGrpc: Record<string, number> = {};
  for (const [m, n] of Object.entries(counters.calls)) if (n - (grpcBefore[m] ?? 0)) boardGrpc[m] = n - (grpcBefore[m] ?? 0);

  const urlOf = (c: VisibilityCall) =>
    c.kind === 'list'
      ? `${api}/workflows?query=${encodeURIComponent(c.query)}${c.pageSize ? `&pageSize=${c.pageSize}` : ''}`
      : `${api}/workflow-count?query=${encodeURIComponent(c.query)}`;
  const list = [boardCalls.map((c) => ({ url: urlOf(c), ...(c.pages && c.pages > 1 ? { follow: c.pages } : {}) }))];

  // The same data: each list's first page holds the same runs as the SDK's, each count the same number.
  const workflow = bench.client.workflow;
  for (const c of boardCalls) {
    const res = await fetch(urlOf(c));
    if (res.status !== 200) throw new Error(`Temporal's UI server answered ${res.status} to ${urlOf(c)}: ${(await res.text()).slice(0, 300)}`);
    if (c.kind === 'list') {
      const ours = (await bench.client.workflowService.listWorkflowExecutions({ namespace: deps.temporal.namespace, query: c.query, pageSize: c.pageSize ?? 0 })).executions
        .map((e) => e.execution?.workflowId);
      const theirs = ((await res.json()) as ListAnswer).executions?.map((e) => e.execution?.workflowId) ?? [];
      if (ours.join() !== theirs.join()) throw new Error(`the UI server lists other runs than the SDK for ${c.query}: ${theirs.length} vs ${ours.length}`);
    } else {
      const theirs = (await res.json()) as { count?: string; groups?: unknown[] };
      const ours = await workflow.count(c.query);
      if (Number(theirs.count) !== ours.count || (theirs.groups?.length ?? 0) !== (ours.groups?.length ?? 0)) {
        throw new Error(`the UI server counts ${theirs.count} (${theirs.groups?.length ?? 0} groups) for ${c.query}, the SDK ${ours.count}`);
      }
    }
  }

  // The runs the run view shows, by their run ids (Temporal's UI addresses a run by workflow id and run id).
  const runs: { url: string; follow?: boolean }[][] = [];
  let events = 0;
  for (const id of o.runIds) {
    const { runId, historyLength } = await workflow.getHandle(id).describe();
    events += historyLength;
    const wf = `${api}/workflows/${encodeURIComponent(id)}`;
    runs.push([{ url: `${wf}?execution.runId=${runId}` }, { url: `${wf}/history?execution.runId=${runId}`, follow: true }]);
  }
  const [describe, history] = runs[0]!;
  for (const part of [describe!, history!]) {
    const res = await fetch(part.url);
    const body = await res.text();
    if (res.status !== 200 || !body.includes(o.runIds[0]!)) throw new Error(`Temporal's UI server answered ${res.status} to ${part.url}: ${body.slice(0, 300)}`);
  }
  const lists = boardCalls.filter((c) => c.kind === 'list');
  log(
    `Temporal's UI server (${uiUrl}) checked: the board's ${lists.length} lists (page size ${[...new Set(lists.map((c) => c.pageSize))].join('/')}, ` +
      `pages scanned ${lists.map((c) => c.pages ?? 0).join('/')}) ` +
      `and ${boardCalls.length - lists.length} counts give the same runs and numbers as the SDK; a board load's gRPC calls: ` +
      `${Object.entries(boardGrpc).map(([m, n]) => `${m} ${n}`).join(', ')}; the viewed runs have ${fmt(events / o.runIds.length, 0)} history events each`,
  );
  return { list, runs, boardCalls, boardGrpc };
}

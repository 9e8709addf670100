// The servers bench/ui.ts loads: the real web server (api/server.ts
// startWebServer on 127.0.0.1:0) with its own Temporal client, counted; a bare
// Hono app on @hono/node-server in the same process (the baseline); and a
// signed-in session on the real one, from the real login form.
//
// The web server's Temporal client is lib/temporal.ts's (lazy connection, the
// SDK's default gRPC retry) with two counters added: its retry decider counts
// RESOURCE_EXHAUSTED answers, Temporal's per-namespace rate limit on the
// visibility API (list, count), which the SDK waits out (1.7 s, then longer);
// and its workflow client counts the visibility calls (list, count) made, and
// can record them (query, page size: what a board load asks Temporal); a gRPC
// interceptor inside the retry one counts every call that reaches Temporal, by
// method (describe, query, list, count, history, ...).
import type { AddressInfo } from 'node:net';
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js'; // the SDK's own gRPC library (its interceptors' type)
import { serve } from '@hono/node-server';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { Hono } from 'hono';
import proto from '@temporalio/proto';
import { createAdapters } from '../activities/adapters';
import type { AppDeps } from '../api/context';
import { startWebServer } from '../api/server';
import type { TemporalHandle } from '../lib/temporal';
import type { Cleanup } from './lib';
import type { Stack } from './stack';

/** gRPC status of a namespace rate limit answer. */
export const RESOURCE_EXHAUSTED = 8;

export interface Counters {
  /** RESOURCE_EXHAUSTED answers retried by the web server's client. */
  throttled: number;
  /** Visibility calls (workflow list and count) the web server's client made. */
  visibility: number;
  /** Calls that reached Temporal, retries included, by WorkflowService method (DescribeWorkflowExecution, QueryWorkflow, ...). */
  calls: Record<string, number>;
  /** While an array: every list and count call is recorded here (what a board load asks Temporal). */
  recorded: VisibilityCall[] | null;
}

export interface VisibilityCall {
  kind: 'list' | 'count';
  query: string;
  pageSize?: number;
  /** A list's pages: how far the caller scanned it (one ListWorkflowExecutions call each). */
  pages?: number;
}

/** Temporal calls made since `before` (a copy of counters.calls), by method, and their total. */
export function callsSince(counters: Counters, before: Record<string, number>): { total: number; byMethod: Record<string, number> } {
  const byMethod: Record<string, number> = {};
  let total = 0;
  for (const [method, n] of Object.entries(counters.calls)) {
    const d = n - (before[method] ?? 0);
    if (d) (byMethod[method] = d), (total += d);
  }
  return { total, byMethod };
}

export interface Servers {
  deps: AppDeps;
  counters: Counters;
  webUrl: string;
  bareUrl: string;
  bareApp: Hono;
  /** Sets the bare route's body (made as large as the board page once that is known). */
  setBareBody(html: string): void;
}

/** The web server's Temporal client, as createTemporalClient makes it, counted. */
function countedTemporal(stack: Stack, counters: Counters): TemporalHandle {
  const retry = defaultGrpcRetryOptions();
  // Inside the retry interceptor: every attempt is a call Temporal answers.
  const countCalls: Interceptor = (options, nextCall) => {
    const method = options.method_definition.path.slice(options.method_definition.path.lastIndexOf('/') + 1);
    counters.calls[method] = (counters.calls[method] ?? 0) + 1;
    if (method !== 'ListWorkflowExecutions' || !counters.recorded) return new InterceptingCall(nextCall(options));
    // While recording: which list each page belongs to (the request, as the SDK encoded it).
    const recorded = counters.recorded;
    return new InterceptingCall(nextCall(options), {
      sendMessage: (message: Uint8Array, next: (m: Uint8Array) => void) => {
        const { query } = proto.temporal.api.workflowservice.v1.ListWorkflowExecutionsRequest.decode(message);
        const list = recorded.findLast((c) => c.kind === 'list' && c.query === query);
        if (list) list.pages = (list.pages ?? 0) + 1;
        next(message);
      },
    });
  };
  const connection = Connection.lazy({
    address: stack.address,
    interceptors: [
      makeGrpcRetryInterceptor({
        delayFunction: retry.delayFunction,
        retryableDecider: (attempt, status) => {
          if (status.code === RESOURCE_EXHAUSTED) counters.throttled++;
          return retry.retryableDecider(attempt, status);
        },
      }),
      countCalls,
    ],
  });
  const client = new Client({ connection, namespace: stack.config.TEMPORAL_NAMESPACE });
  const workflow = client.workflow;
  const list = workflow.list.bind(workflow);
  const count = workflow.count.bind(workflow);
  workflow.list = (options) => (counters.visibility++, counters.recorded?.push({ kind: 'list', query: options?.query ?? '', pageSize: options?.pageSize }), list(options));
  workflow.count = (query) => (counters.visibility++, counters.recorded?.push({ kind: 'count', query: query ?? '' }), count(query));
  return { connection, client, namespace: stack.config.TEMPORAL_NAMESPACE, taskQueue: stack.config.TEMPORAL_TASK_QUEUE };
}

export async function startServers(stack: Stack, cleanup: Cleanup): Promise<Servers> {
  const { sql, logger, config, sessionSecret, sandbox } = stack;
  const counters: Counters = { throttled: 0, visibility: 0, calls: {}, recorded: null };
  const temporal = countedTemporal(stack, counters);
  cleanup.add('close the web server\'s Temporal connection', () => temporal.connection.close());
  const deps: AppDeps = { sql, temporal, logger, config, sessionSecret, startedAt: new Date(), sandbox, adapters: createAdapters(config) };
  const web = await startWebServer(deps, { port: 0, host: '127.0.0.1' });
  cleanup.add('stop the web server', () => web.close());

  // The baseline: a second Hono app, no middleware, in this same process.
  let bareBody = '<!doctype html><title>bare</title><p>ok</p>';
  const bareApp = new Hono();
  bareApp.get('/bare', (c) => c.html(bareBody));
  const bareServer = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: bareApp.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
  cleanup.add('stop the bare server', () =>
    new Promise<void>((resolve) => {
      bareServer.close(() => resolve());
      (bareServer as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    }),
  );
  return {
    deps, counters, webUrl: web.url, bareApp,
    bareUrl: `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}`,
    setBareBody: (html) => (bareBody = html),
  };
}

/** Signs in as the admin through the login form; returns the session cookie and a checked GET. */
export async function signIn(stack: Stack, webUrl: string): Promise<{ cookie: string; get(url: string, headers?: Record<string, string>, expect?: number): Promise<string> }> {
  const login = await fetch(`${webUrl}/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: webUrl },
    body: new URLSearchParams({ username: stack.config.MC_ADMIN_USERNAME, password: stack.adminPassword, next: '/' }),
    redirect: 'manual',
  });
  if (login.status !== 303) throw new Error(`sign-in failed with ${login.status}: ${(await login.text()).slice(0, 300)}`);
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const get = async (url: string, headers: Record<string, string> = {}, expect = 200) => {
    const res = await fetch(url, { headers: { Cookie: cookie, ...headers }, redirect: 'manual' });
    const text = await res.text();
    if (res.status !== expect) throw new Error(`GET ${url} answered ${res.status}, not ${expect}: ${text.slice(0, 300)}`);
    return text;
  };
  return { cookie, get };
}

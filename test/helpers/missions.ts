// Building blocks for mission tests: a container with patterns, missions
// made through the API, and waiting on a run's progress.
import { expect } from 'vitest';
import type { Progress } from '../../workflows/messages';
import { progressQuery } from '../../workflows/messages';
import type { RunningWorker } from '../../worker';
import { apiClient, createTestApp, json, userWithRole, type ApiClient, type TestApp } from './app';
import { ADMIN_TOKEN } from './env';
import { startTestWorker } from './worker';

export async function makeContainer(admin: ApiClient, name = `c-${Math.random().toString(36).slice(2, 8)}`): Promise<string> {
  const res = await admin.request('POST', '/api/containers', { name, category: 'automation' });
  expect(res.status).toBe(201);
  return (await json(res)).container.id;
}

export async function makePattern(
  admin: ApiClient, containerId: string, code: string,
  config: { timeout?: number; retryCount?: number; failureAction?: 'skip' | 'retry' | 'abort' } = {}, extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await admin.request('POST', '/api/patterns', {
    containerId, name: `p-${Math.random().toString(36).slice(2, 8)}`, code,
    config: { timeout: 5000, retryCount: 0, failureAction: 'retry', ...config }, ...extra,
  });
  expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
  return (await json(res)).pattern.id;
}

export async function makeMission(api: ApiClient, body: Record<string, unknown>): Promise<string> {
  const res = await api.request('POST', '/api/missions', { name: `m-${Math.random().toString(36).slice(2, 8)}`, type: 'manual', ...body });
  expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
  return (await json(res)).mission.id;
}

export async function execute(api: ApiClient, missionId: string, input?: unknown): Promise<string> {
  const res = await api.request('POST', `/api/missions/${missionId}/execute`, input === undefined ? {} : { input });
  expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
  return (await json(res)).workflowId;
}

export async function progress(t: TestApp, workflowId: string): Promise<Progress> {
  return t.deps.temporal.client.workflow.getHandle(workflowId).query(progressQuery);
}

/** Polls the progress query until `done` holds (or fails the test after `timeoutMs`). */
export async function waitFor(t: TestApp, workflowId: string, done: (p: Progress) => boolean, timeoutMs = 20_000): Promise<Progress> {
  const deadline = Date.now() + timeoutMs;
  let last: Progress | undefined;
  while (Date.now() < deadline) {
    last = await progress(t, workflowId).catch(() => undefined);
    if (last && done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run ${workflowId} did not reach the expected state in ${timeoutMs} ms; last progress: ${JSON.stringify(last)}`);
}

/** Waits for the run to close and returns its final progress (or the failure). */
export async function result(t: TestApp, workflowId: string): Promise<Progress> {
  return t.deps.temporal.client.workflow.getHandle(workflowId).result();
}

/**
 * Reads until `ok` holds (or the time is up) and returns the last reading, for the test to assert on:
 * for what lags a run by design (Temporal's visibility lists, audit rows written by a later activity).
 */
export async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 25; ; wait = Math.min(wait * 2, 250)) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** A pattern that keeps its sandbox thread busy for `input.ms` (the tests' long-running task). */
export const BUSY_PATTERN = 'async (input, ctx) => { const end = ctx.now() + input.ms; while (ctx.now() < end) {} return { slept: input.ms } }';

/** What most mission test files start from: an app, a worker, a client per role and a container. */
export interface MissionEnv {
  t: TestApp;
  worker: RunningWorker;
  admin: ApiClient;
  operator: ApiClient;
  operatorName: string;
  viewer: ApiClient;
  containerId: string;
  close(): Promise<void>;
}

export async function missionEnv(overrides: Record<string, string> = {}): Promise<MissionEnv> {
  const t = await createTestApp(overrides);
  const worker = await startTestWorker(t);
  const admin = apiClient(t, ADMIN_TOKEN);
  const op = await userWithRole(t, 'OPERATOR');
  const viewer = apiClient(t, (await userWithRole(t, 'VIEWER')).token);
  return {
    t, worker, admin, operator: apiClient(t, op.token), operatorName: op.username, viewer, containerId: await makeContainer(admin),
    async close() {
      await worker.stop();
      await t.close();
    },
  };
}

// POST /api/inject: run a pattern now, by id or chosen from a container;
// statistics per pattern and version; rate limits; audit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { ADMIN_TOKEN } from '../helpers/env';
import { apiClient, createTestApp, json, userWithRole, type ApiClient, type TestApp } from '../helpers/app';
import { freshRateWindow } from '../foundation/rate-window';

let t: TestApp;
let admin: ApiClient;
let operator: ApiClient;
let viewer: ApiClient;
let containerId: string;

async function makePattern(code: string, over: Record<string, unknown> = {}) {
  const res = await admin.request('POST', '/api/patterns', {
    containerId, name: `p-${Math.random().toString(36).slice(2, 8)}`, code, config: { timeout: 1000, retryCount: 0, failureAction: 'skip' }, ...over,
  });
  expect(res.status).toBe(201);
  return (await json(res)).pattern;
}

beforeAll(async () => {
  t = await createTestApp({ MC_INJECT_RATE_LIMIT: '40' });
  admin = apiClient(t, ADMIN_TOKEN);
  operator = apiClient(t, (await userWithRole(t, 'OPERATOR')).token);
  viewer = apiClient(t, (await userWithRole(t, 'VIEWER')).token);
  containerId = (await json(await admin.request('POST', '/api/containers', { name: 'Lab', category: 'custom' }))).container.id;
});
afterAll(async () => t?.close());

describe('inject', () => {
  it('runs a pattern by id and returns output, logs, duration and the version that ran', async () => {
    const p = await makePattern('async (input, ctx) => { ctx.log("scoring", input.lead); return { score: input.lead.length * 10 } }');
    const res = await operator.request('POST', '/api/inject', { patternId: p.id, input: { lead: 'acme' } });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ output: { score: 40 }, logs: ['scoring acme'], pattern: { id: p.id, name: p.name, version: 1 }, selectedBy: 'patternId' });
    expect(body.durationMs).toBeGreaterThan(0);
    const [entry] = await listAudit(t.db.sql, { action: 'pattern.injected', entityId: p.id, limit: 1 });
    expect(entry?.details).toMatchObject({ version: 1, outcome: 'succeeded' });
  });

  it('is refused to viewers', async () => {
    const p = await makePattern('async () => 1');
    expect((await viewer.request('POST', '/api/inject', { patternId: p.id })).status).toBe(403);
  });

  it('chooses from a container by policy', async () => {
    const cid = (await json(await admin.request('POST', '/api/containers', { name: 'Choice', category: 'custom' }))).container.id;
    await makePattern('async () => "default"', { containerId: cid, isDefault: true, name: 'the-default' });
    await makePattern('async () => "other"', { containerId: cid, name: 'other', priority: 5 });
    const body = await json(await operator.request('POST', '/api/inject', { containerId: cid, policy: 'default_first' }));
    expect(body).toMatchObject({ output: 'default', selectedBy: 'default_first', pattern: { name: 'the-default' } });
  });

  it('answers a failing pattern with 422, its kind, logs and the version, and counts the failure', async () => {
    const p = await makePattern('async (input, ctx) => { ctx.log("about to fail"); throw new Error("no lead given") }');
    const res = await operator.request('POST', '/api/inject', { patternId: p.id, input: {} });
    expect(res.status).toBe(422);
    const { error } = await json(res);
    expect(error).toMatchObject({ code: 'pattern_runtime', message: 'Error: no lead given', details: { kind: 'runtime', logs: ['about to fail'], pattern: { id: p.id, version: 1 } } });
    const timeout = await makePattern('async () => { for (;;) {} }', { config: { timeout: 200, retryCount: 0, failureAction: 'skip' } });
    const tres = await operator.request('POST', '/api/inject', { patternId: timeout.id });
    expect((await json(tres)).error.code).toBe('pattern_timeout');
    const { pattern } = await json(await viewer.request('GET', `/api/patterns/${p.id}`));
    expect(pattern.stats).toMatchObject({ totalExecutions: 1, successCount: 0, failureCount: 1 });
  });

  it('validates its body', async () => {
    expect((await operator.request('POST', '/api/inject', {})).status).toBe(400);
    const both = await operator.request('POST', '/api/inject', { patternId: '00000000-0000-4000-8000-000000000000', containerId });
    expect(both.status).toBe(400);
    expect((await operator.request('POST', '/api/inject', { patternId: '00000000-0000-4000-8000-000000000000' })).status).toBe(404);
  });
});

describe('statistics', () => {
  it('are kept per pattern and per version, exactly, under concurrent runs', async () => {
    const p = await makePattern('async (input) => { if (input.fail) throw new Error("x"); return input.i }');
    await Promise.all(Array.from({ length: 12 }, (_, i) => admin.request('POST', '/api/inject', { patternId: p.id, input: { i, fail: i % 4 === 0 } })));
    await admin.request('PATCH', `/api/patterns/${p.id}`, { code: 'async () => "v2"' });
    await admin.request('POST', '/api/inject', { patternId: p.id });
    const stats = await json(await viewer.request('GET', `/api/stats?patternId=${p.id}&versions=true`));
    const row = stats.patterns[0];
    expect(row).toMatchObject({ totalExecutions: 13, successCount: 10, failureCount: 3, version: 2 });
    expect(row.successRate).toBeCloseTo(10 / 13, 3);
    expect(row.versions).toEqual([
      expect.objectContaining({ version: 2, totalExecutions: 1, successCount: 1, failureCount: 0 }),
      expect.objectContaining({ version: 1, totalExecutions: 12, successCount: 9, failureCount: 3 }),
    ]);
    const [{ n }] = (await t.db.sql`select count(*)::int as n from pattern_runs where pattern_id = ${p.id}`) as [{ n: number }];
    expect(n).toBe(13);
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After once a user passes the limit', async () => {
    const p = await makePattern('async () => 1');
    const limited = apiClient(t, (await userWithRole(t, 'OPERATOR')).token);
    // The limit is per minute, in fixed windows: all 43 requests must fall into one.
    const rateWindow = await freshRateWindow(60, 20);
    const statuses: number[] = [];
    for (let i = 0; i < 42; i++) statuses.push((await limited.request('POST', '/api/inject', { patternId: p.id })).status);
    const last = await limited.request('POST', '/api/inject', { patternId: p.id });
    rateWindow.expectSameWindow();
    expect(statuses.slice(0, 40)).toEqual(Array(40).fill(200));
    expect(statuses.slice(40)).toEqual([429, 429]);
    expect(last.status).toBe(429);
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    // another user is unaffected
    expect((await operator.request('POST', '/api/inject', { patternId: p.id })).status).toBe(200);
  });
});

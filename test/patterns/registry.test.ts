// Containers and patterns through the JSON API: CRUD, immutable versions,
// restore, syntax errors with line and column, and who may do what.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { ADMIN_TOKEN } from '../helpers/env';
import { apiClient, createTestApp, json, userWithRole, type ApiClient, type TestApp } from '../helpers/app';

let t: TestApp;
let admin: ApiClient;
let operator: ApiClient;
let viewer: ApiClient;
let containerId: string;

beforeAll(async () => {
  t = await createTestApp();
  admin = apiClient(t, ADMIN_TOKEN);
  operator = apiClient(t, (await userWithRole(t, 'OPERATOR')).token);
  viewer = apiClient(t, (await userWithRole(t, 'VIEWER')).token);
  const res = await admin.request('POST', '/api/containers', { name: 'Outreach', category: 'messaging', description: 'Messages to leads' });
  containerId = (await json(res)).container.id;
});
afterAll(async () => t?.close());

const pattern = (over: Record<string, unknown> = {}) => ({
  containerId,
  name: `p-${Math.random().toString(36).slice(2, 8)}`,
  code: 'async (input, ctx) => ({ greeting: `hello ${input.name}` })',
  config: { timeout: 2000, retryCount: 1, failureAction: 'skip' },
  ...over,
});

describe('containers', () => {
  it('are created by admins, listed with filters and pagination, and read by everyone', async () => {
    await admin.request('POST', '/api/containers', { name: 'Numbers', category: 'analytics' });
    const list = await json(await viewer.request('GET', '/api/containers?category=analytics&limit=1'));
    expect(list).toMatchObject({ total: 1, limit: 1, offset: 0 });
    expect(list.containers[0]).toMatchObject({ name: 'Numbers', category: 'analytics', isActive: true });
    const refused = await operator.request('POST', '/api/containers', { name: 'Nope', category: 'custom' });
    expect(refused.status).toBe(403);
  });

  it('refuse a bad category and a duplicate name with clear errors', async () => {
    const bad = await admin.request('POST', '/api/containers', { name: 'X', category: 'spam' });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.details[0].path).toBe('category');
    const dupe = await admin.request('POST', '/api/containers', { name: 'outreach', category: 'custom' });
    expect(dupe.status).toBe(409);
  });

  it('cannot be deleted while they hold patterns', async () => {
    const res = await admin.request('POST', '/api/containers', { name: 'Holder', category: 'custom' });
    const id = (await json(res)).container.id;
    await admin.request('POST', '/api/patterns', pattern({ containerId: id }));
    const del = await admin.request('DELETE', `/api/containers/${id}`);
    expect(del.status).toBe(409);
    expect((await json(del)).error.message).toMatch(/holds 1 pattern/);
  });
});

describe('patterns', () => {
  it('are created by admins only, as version 1', async () => {
    expect((await operator.request('POST', '/api/patterns', pattern())).status).toBe(403);
    const res = await admin.request('POST', '/api/patterns', pattern({ name: 'greeter' }));
    expect(res.status).toBe(201);
    const { pattern: p } = await json(res);
    expect(p).toMatchObject({ name: 'greeter', version: 1, containerName: 'Outreach', config: { timeout: 2000, retryCount: 1, failureAction: 'skip' } });
    expect(p.stats).toEqual({ totalExecutions: 0, successCount: 0, failureCount: 0, avgExecutionTime: null, lastExecuted: null });
    const [entry] = await listAudit(t.db.sql, { action: 'pattern.created', entityId: p.id, limit: 1 });
    expect(entry?.actor).toBe('admin');
  });

  it('refuse code with a syntax error, naming its line and column, and save nothing', async () => {
    const res = await admin.request('POST', '/api/patterns', pattern({ name: 'broken', code: 'async (input) => {\n  return input.\n}' }));
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error.code).toBe('invalid_code');
    expect(error.details).toEqual({ line: 3, column: 1 });
    const list = await json(await viewer.request('GET', `/api/patterns?containerId=${containerId}&limit=200`));
    expect(list.patterns.map((p: { name: string }) => p.name)).not.toContain('broken');
  });

  it('refuse code that is not one function, and SES-forbidden syntax, without running it', async () => {
    const notFn = await admin.request('POST', '/api/patterns/check', { code: 'const x = 1; x' });
    expect(await json(notFn)).toMatchObject({ ok: false, message: expect.stringMatching(/exactly one function/) });
    const imp = await admin.request('POST', '/api/patterns/check', { code: '() => import("node:fs")' });
    expect(await json(imp)).toMatchObject({ ok: false, message: expect.stringMatching(/import/) });
    const ok = await admin.request('POST', '/api/patterns/check', { code: 'async function (input, ctx) { for (;;) {} }' });
    expect(await json(ok)).toEqual({ ok: true }); // checked, never run: the loop would never end
  });

  it('make a new immutable version on every code or config change, and keep metadata changes in place', async () => {
    const { pattern: p } = await json(await admin.request('POST', '/api/patterns', pattern()));
    const renamed = await json(await admin.request('PATCH', `/api/patterns/${p.id}`, { description: 'now described' }));
    expect(renamed.pattern.version).toBe(1);
    const v2 = await json(await admin.request('PATCH', `/api/patterns/${p.id}`, { code: 'async () => ({ v: 2 })' }));
    expect(v2.pattern.version).toBe(2);
    const v3 = await json(await admin.request('PUT', `/api/patterns/${p.id}`, { config: { timeout: 900 } }));
    expect(v3.pattern).toMatchObject({ version: 3, config: { timeout: 900, retryCount: 1, failureAction: 'skip' }, code: 'async () => ({ v: 2 })' });

    const { versions } = await json(await viewer.request('GET', `/api/patterns/${p.id}/versions`));
    expect(versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    await expect(t.db.owner`update pattern_versions set code = 'x' where pattern_id = ${p.id} and version = 1`).rejects.toThrow(/immutable/);
  });

  it('restore an old version as a new one', async () => {
    const { pattern: p } = await json(await admin.request('POST', '/api/patterns', pattern({ code: 'async () => 1' })));
    await admin.request('PATCH', `/api/patterns/${p.id}`, { code: 'async () => 2' });
    const restored = await json(await admin.request('POST', `/api/patterns/${p.id}/versions/1/restore`));
    expect(restored.pattern).toMatchObject({ version: 3, code: 'async () => 1' });
    const v3 = await json(await viewer.request('GET', `/api/patterns/${p.id}/versions/3`));
    expect(v3.version).toMatchObject({ restoredFrom: 1, note: 'restored from v1' });
    expect((await viewer.request('GET', `/api/patterns/${p.id}/versions/9`)).status).toBe(404);
    expect((await operator.request('POST', `/api/patterns/${p.id}/versions/1/restore`)).status).toBe(403);
  });

  it('allow one default per container', async () => {
    await admin.request('POST', '/api/patterns', pattern({ isDefault: true }));
    const second = await admin.request('POST', '/api/patterns', pattern({ isDefault: true }));
    expect(second.status).toBe(409);
  });

  it('validate every field with a 4xx', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [pattern({ config: { timeout: 1, retryCount: 0, failureAction: 'skip' } }), 'config.timeout'],
      [pattern({ config: { timeout: 100, retryCount: 0, failureAction: 'explode' } }), 'config.failureAction'],
      [pattern({ containerId: 'nope' }), 'containerId'],
      [pattern({ name: '' }), 'name'],
      [{ ...pattern(), extra: true }, ''],
    ];
    for (const [body, path] of cases) {
      const res = await admin.request('POST', '/api/patterns', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await json(res)).error.details[0].path).toBe(path);
    }
    const missing = await admin.request('POST', '/api/patterns', pattern({ containerId: '00000000-0000-4000-8000-000000000000' }));
    expect(missing.status).toBe(404);
  });

  it('are deleted when no mission uses them', async () => {
    const { pattern: p } = await json(await admin.request('POST', '/api/patterns', pattern()));
    expect((await viewer.request('DELETE', `/api/patterns/${p.id}`)).status).toBe(403);
    expect((await admin.request('DELETE', `/api/patterns/${p.id}`)).status).toBe(200);
    expect((await viewer.request('GET', `/api/patterns/${p.id}`)).status).toBe(404);
  });
});

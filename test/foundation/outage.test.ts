// A dependency that is down is nobody's mistake: the API and the UI answer
// 503 with a message that says which one, never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { createSql } from '../../db/sql';
import { freePort } from '../../lib/ports';
import { apiClient, createTestApp, type TestApp } from '../helpers/app';
import { ADMIN_TOKEN } from '../helpers/env';
import { unreachableTemporal } from '../helpers/temporal-down';

let t: TestApp;
let down: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  // The same app over a PostgreSQL that is not there (a closed port) and a Temporal that is not either.
  const sql = createSql(`postgres://nobody:nothing@127.0.0.1:${await freePort()}/none`);
  const temporal = await unreachableTemporal(t);
  down = { ...t, app: createApp({ ...t.deps, sql, temporal }).app, deps: { ...t.deps, sql, temporal } };
});
afterAll(async () => {
  await down?.deps.sql.end({ timeout: 1 });
  await t?.close();
});

describe('while the database is down', () => {
  it('the API answers 503 with a JSON error naming the database', async () => {
    const res = await apiClient(down, ADMIN_TOKEN).request('GET', '/api/missions');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { code: 'database_unavailable', message: expect.stringMatching(/database is not reachable/) } });
  });

  it('a page answers 503 with a readable message', async () => {
    const res = await down.app.request('/login', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://localhost' }, body: 'username=admin&password=x' });
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/database is not reachable/);
  });
});

describe('while Temporal is down', () => {
  it('listing runs answers 503 naming Temporal', async () => {
    const app = { ...t, app: createApp({ ...t.deps, temporal: down.deps.temporal }).app };
    const res = await apiClient(app, ADMIN_TOKEN).request('GET', '/api/runs');
    expect(res.status).toBe(503);
    expect((await res.json()).error.message).toMatch(/Temporal is not reachable/);
  });
});

// Alerts belong to their run's workspace: a workspace lists only its own, and
// another workspace's alert is, to a caller, exactly one that does not exist.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { listEvents } from '../../core/events/events';
import { apiClient, createTestApp, json, userWithRole, type ApiClient, type TestApp } from '../helpers/app';
import { ADMIN_TOKEN } from '../helpers/env';

let t: TestApp;
let b: string;
let inA: ApiClient;
let inB: ApiClient;
const raise = async (workspaceId: string, message: string) =>
  (await t.db.owner<{ id: string }[]>`
    insert into alerts (idempotency_key, kind, message, workspace_id) values (${randomUUID()}, 'mission_failed', ${message}, ${workspaceId})
    returning id::text as id`)[0]!.id;
const listed = async (client: ApiClient) => ((await json(await client.request('GET', '/api/alerts?open=false'))).alerts as { id: string }[]).map((x) => x.id);

beforeAll(async () => {
  t = await createTestApp();
  // A second workspace, made directly: no route makes one yet.
  b = (await t.db.owner<{ id: string }[]>`insert into workspaces (name) values ('Team B') returning id`)[0]!.id;
  inA = apiClient(t, ADMIN_TOKEN);
  inB = apiClient(t, (await userWithRole(t, 'OPERATOR', b)).token);
});
afterAll(async () => t?.close());

describe('alerts per workspace', () => {
  it('are listed to their own workspace only', async () => {
    const [a1, b1] = [await raise(t.ws, 'A failed'), await raise(b, 'B failed')];
    expect(await listed(inA)).toContain(a1);
    expect(await listed(inA)).not.toContain(b1);
    expect(await listed(inB)).toEqual([b1]);
  });

  it('are acknowledged in their own workspace; another workspace’s answers as a missing one and stays open', async () => {
    const [a1, b1] = [await raise(t.ws, 'A again'), await raise(b, 'B again')];
    const foreign = await inB.request('POST', `/api/alerts/${a1}/ack`);
    const missing = await inB.request('POST', `/api/alerts/${randomUUID()}/ack`);
    expect(foreign.status).toBe(404);
    expect([foreign.status, (await json(foreign)).error]).toEqual([missing.status, (await json(missing)).error]);
    const [row] = await t.db.owner`select acknowledged_at from alerts where id = ${a1}`;
    expect(row!.acknowledged_at).toBeNull();
    expect(await listAudit(t.db.sql, { action: 'alert.acknowledged', entityId: a1, limit: 5 })).toEqual([]);

    expect((await inB.request('POST', `/api/alerts/${b1}/ack`)).status).toBe(200);
    expect(await listAudit(t.db.sql, { action: 'alert.acknowledged', entityId: b1, limit: 5 }, { id: b })).toEqual([
      expect.objectContaining({ workspaceId: b, entityId: b1 }),
    ]);
    expect((await listEvents(t.db.sql, { type: 'alert.acknowledged', entityId: b1 }, 5)).map((e) => e.workspaceId)).toEqual([b]);
    expect((await inA.request('POST', `/api/alerts/${a1}/ack`)).status).toBe(200);
  });
});

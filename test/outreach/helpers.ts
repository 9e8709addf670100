// What the outreach tests share: an app with a client per role, and a campaign to work in.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Role } from '../../lib/names';
import { ADMIN_TOKEN } from '../helpers/env';
import { apiClient, createTestApp, json, userWithRole, type ApiClient, type TestApp } from '../helpers/app';

export interface OutreachEnv {
  t: TestApp;
  as: Record<Role, ApiClient>;
  names: Record<Role, string>;
}

export async function outreachEnv(): Promise<OutreachEnv> {
  const t = await createTestApp();
  const as = { ADMIN: apiClient(t, ADMIN_TOKEN) } as Record<Role, ApiClient>;
  const names = { ADMIN: 'admin' } as Record<Role, string>;
  for (const role of ['OPERATOR', 'CLOSER', 'VIEWER'] as const) {
    const u = await userWithRole(t, role);
    as[role] = apiClient(t, u.token);
    names[role] = u.username;
  }
  return { t, as, names };
}

/** The body of a response of the expected status (the body is shown when it is not). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function expectStatus(res: Response, status: number): Promise<any> {
  expect(res.status, await res.clone().text()).toBe(status);
  return json(res);
}

export const unique = (prefix: string) => `${prefix} ${randomUUID().slice(0, 8)}`;

export async function newCampaign(api: ApiClient, body: Record<string, unknown> = {}): Promise<{ id: string; name: string }> {
  return (await expectStatus(await api.request('POST', '/api/campaigns', { name: unique('Spring'), channels: ['EMAIL', 'LINKEDIN'], ...body }), 201)).campaign;
}

export async function newLead(api: ApiClient, campaignId: string, body: Record<string, unknown> = {}): Promise<{ id: string; status: string }> {
  return (await expectStatus(await api.request('POST', '/api/leads', { campaignId, name: unique('Ada'), company: 'Acme', ...body }), 201)).lead;
}

/** Sets a lead's status directly (the owner connection), to start a test from it. */
export async function leadAt(env: OutreachEnv, leadId: string, status: string): Promise<void> {
  await env.t.db.owner`update leads set status = ${status} where id = ${leadId}`;
}

export const auditOf = (env: OutreachEnv, entityId: string, action?: string) =>
  env.t.db.owner<{ action: string; actor: string; details: Record<string, unknown> }[]>`
    select action, actor, details from audit_log where entity_id = ${entityId} ${action ? env.t.db.owner`and action = ${action}` : env.t.db.owner``} order by id`;

export const eventsOf = (env: OutreachEnv, entityId: string) =>
  env.t.db.owner<{ type: string; entityType: string; payload: Record<string, unknown> }[]>`
    select type, entity_type as "entityType", payload from events where entity_id = ${entityId} order by id`;

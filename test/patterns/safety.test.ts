// Safety (seed 002): dry-run on by default, channels off by default; the host
// decides every outbound attempt and audits it; only admins change settings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { ADMIN_TOKEN } from '../helpers/env';
import { apiClient, createTestApp, json, userWithRole, type ApiClient, type TestApp } from '../helpers/app';
import { startReceiver, type Receiver } from '../helpers/receiver';

let t: TestApp;
let admin: ApiClient;
let operator: ApiClient;
let receiver: Receiver;
let patternId: string;

beforeAll(async () => {
  receiver = await startReceiver();
  t = await createTestApp({ MC_WEBHOOK_URL: receiver.url });
  admin = apiClient(t, ADMIN_TOKEN);
  operator = apiClient(t, (await userWithRole(t, 'OPERATOR')).token);
  const cid = (await json(await admin.request('POST', '/api/containers', { name: 'Out', category: 'messaging' }))).container.id;
  const code = `async (input, ctx) => {
    try { return { reply: await ctx.outbound.send(input.channel, { to: 'lead@example.com', text: 'hi' }) } }
    catch (e) { return { refused: e.message } }
  }`;
  patternId = (await json(await admin.request('POST', '/api/patterns', { containerId: cid, name: 'sender', code }))).pattern.id;
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

const send = async (channel: string) => json(await operator.request('POST', '/api/inject', { patternId, input: { channel } }));

describe('safety settings', () => {
  it('start in dry-run with every channel off', async () => {
    const { safety } = await json(await operator.request('GET', '/api/settings/safety'));
    expect(safety).toEqual({ dryRun: true, channels: { email: false, facebook: false, instagram: false, linkedin: false, webhook: false } });
  });

  it('records a dry run as "would send" in the result and the audit log, and sends nothing', async () => {
    const body = await send('webhook');
    expect(body.output).toEqual({ reply: { dryRun: true, channel: 'webhook' } });
    expect(body.outbound).toEqual([{ channel: 'webhook', status: 'dry_run', payload: { to: 'lead@example.com', text: 'hi' } }]);
    const [entry] = await listAudit(t.db.sql, { action: 'outbound.would_send', limit: 1 });
    expect(entry?.details).toMatchObject({ channel: 'webhook', patternId });
    expect(receiver.received).toHaveLength(0);
  });

  it('can be changed by admins only, and every change is audited', async () => {
    expect((await operator.request('PATCH', '/api/settings/safety', { dryRun: false })).status).toBe(403);
    const res = await admin.request('PATCH', '/api/settings/safety', { dryRun: false });
    expect((await json(res)).safety.dryRun).toBe(false);
    const [entry] = await listAudit(t.db.sql, { action: 'safety.dry_run.toggled', limit: 1 });
    expect(entry?.details).toEqual({ from: true, to: false });
    expect((await admin.request('PATCH', '/api/settings/safety', { channels: { pigeon: true } })).status).toBe(400);
  });

  it('blocks a disabled channel with a clear error, also recorded', async () => {
    const body = await send('email');
    expect(body.output).toEqual({ refused: 'The email channel is disabled in the safety settings.' });
    expect(body.outbound[0]).toMatchObject({ channel: 'email', status: 'blocked' });
    const [entry] = await listAudit(t.db.sql, { action: 'outbound.blocked', limit: 1 });
    expect(entry?.details).toMatchObject({ channel: 'email' });
  });

  it('calls the adapter when live and the channel is enabled: the webhook reaches the receiver', async () => {
    await admin.request('PATCH', '/api/settings/safety', { channels: { webhook: true } });
    const [entry] = await listAudit(t.db.sql, { action: 'safety.channel_toggled', limit: 1 });
    expect(entry?.details).toEqual({ channel: 'webhook', from: false, to: true });
    const body = await send('webhook');
    expect(body.output.reply).toMatchObject({ sent: true, channel: 'webhook' });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.body).toEqual({ channel: 'webhook', payload: { to: 'lead@example.com', text: 'hi' } });
    expect(receiver.received[0]!.headers['idempotency-key']).toMatch(/^inject:.+#1$/);
    expect((await listAudit(t.db.sql, { action: 'outbound.sent', limit: 1 }))).toHaveLength(1);
  });

  it('fails a pattern that does not catch a blocked send as non-retryable "blocked"', async () => {
    const cid = (await json(await admin.request('GET', '/api/containers'))).containers[0].id;
    const p = (await json(await admin.request('POST', '/api/patterns', { containerId: cid, name: 'careless', code: 'async (i, ctx) => ctx.outbound.send("linkedin", {})' }))).pattern;
    const res = await operator.request('POST', '/api/inject', { patternId: p.id });
    expect(res.status).toBe(422);
    expect((await json(res)).error).toMatchObject({ code: 'pattern_blocked', details: { kind: 'blocked' } });
  });
});

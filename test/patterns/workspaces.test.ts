// Containers, patterns, their runs and the safety settings belong to one
// workspace: from workspace A, workspace B's ids answer exactly like ids that
// do not exist and change nothing, A's lists never show B's records, names are
// unique per workspace only, and each workspace's safety settings decide its
// own sends.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { recordRun, runsOfWorkflow } from '../../core/patterns/pattern-runs';
import { loadCandidates } from '../../core/patterns/selection';
import { ADMIN_PASSWORD, ADMIN_TOKEN } from '../helpers/env';
import { apiClient, createTestApp, json, signIn, type ApiClient, type Browser, type TestApp } from '../helpers/app';
import { startReceiver, type Receiver } from '../helpers/receiver';
import { expectNoLeaks, maskedAnswer, secondWorkspace } from '../helpers/workspaces';

let t: TestApp;
let receiver: Receiver;
let wsB: string;
/** Workspace A is the default one: its admin's token and session. */
let adminA: ApiClient;
let browserA: Browser;
/** B's own admin, who made B's records through the API. */
let adminB: ApiClient;
let browserB: Browser;
/** Every name and description in B carries it, so a page that leaks B's records shows it. */
const MARK = `zzb-${randomUUID().slice(0, 8)}`;
const B = { container: '', pattern: '' };

const SENDER = `async (input, ctx) => ({ reply: await ctx.outbound.send('webhook', { to: 'lead@example.com' }) })`;

beforeAll(async () => {
  receiver = await startReceiver();
  t = await createTestApp({ MC_WEBHOOK_URL: receiver.url });
  adminA = apiClient(t, ADMIN_TOKEN);
  browserA = await signIn(t, 'admin', ADMIN_PASSWORD);
  ({ id: wsB, admin: adminB, browser: browserB } = await secondWorkspace(t, `Team ${MARK}`));
  const container = await json(await adminB.request('POST', '/api/containers', { name: 'Outreach', category: 'messaging', description: MARK }));
  B.container = container.container.id;
  const pattern = await json(await adminB.request('POST', '/api/patterns', { containerId: B.container, name: `sender-${MARK}`, code: SENDER }));
  B.pattern = pattern.pattern.id;
  // A second version, so that B's pattern has a history to read, diff and restore.
  await adminB.request('PATCH', `/api/patterns/${B.pattern}`, { code: `${SENDER} // v2`, description: MARK });
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

/** What B's workspace holds, as one fingerprint per table: any change to B's records changes it. */
async function snapshotB() {
  const o = t.db.owner;
  const md5 = async (rows: Promise<{ h: string | null }[]>) => (await rows)[0]!.h;
  return {
    containers: await md5(o`select md5(string_agg(to_jsonb(x)::text, ',' order by x.id)) as h from containers x where workspace_id = ${wsB}`),
    patterns: await md5(o`select md5(string_agg(to_jsonb(x)::text, ',' order by x.id)) as h from patterns x where workspace_id = ${wsB}`),
    versions: await md5(o`
      select md5(string_agg(to_jsonb(v)::text, ',' order by v.id)) as h
      from pattern_versions v join patterns p on p.id = v.pattern_id where p.workspace_id = ${wsB}`),
    runs: await md5(o`select md5(string_agg(to_jsonb(x)::text, ',' order by x.id)) as h from pattern_runs x where workspace_id = ${wsB}`),
    outbound: await md5(o`select md5(string_agg(to_jsonb(x)::text, ',' order by x.id)) as h from outbound_messages x where workspace_id = ${wsB}`),
    settings: await md5(o`select md5(string_agg(to_jsonb(x)::text, ',' order by x.key)) as h from workspace_settings x where workspace_id = ${wsB}`),
    audit: (await o`select count(*)::int as n, max(id)::text as last from audit_log where workspace_id = ${wsB}`)[0],
    events: (await o`select count(*)::int as n, max(id)::text as last from events where workspace_id = ${wsB}`)[0],
  };
}

type Ids = { container: string; pattern: string };
const answer = (res: Response, ids: Ids) => maskedAnswer(res, ids);

const htmx = { headers: { 'HX-Request': 'true' } };
const patternForm = (containerId: string) => ({ containerId, name: 'taken over', code: SENDER, timeout: '1000', retryCount: '0', failureAction: 'skip' });

/** Every container and pattern route that takes an id, in its path or its body. */
const routes: [string, (ids: Ids) => Promise<Response>][] = [
  ['GET /api/containers/:id', (i) => adminA.request('GET', `/api/containers/${i.container}`)],
  ['PUT /api/containers/:id', (i) => adminA.request('PUT', `/api/containers/${i.container}`, { name: 'taken over' })],
  ['PATCH /api/containers/:id', (i) => adminA.request('PATCH', `/api/containers/${i.container}`, { isActive: false })],
  ['POST /api/patterns (containerId)', (i) => adminA.request('POST', '/api/patterns', { containerId: i.container, name: 'taken over', code: SENDER })],
  ['GET /api/patterns?containerId', (i) => adminA.request('GET', `/api/patterns?containerId=${i.container}`)],
  ['GET /api/patterns/:id', (i) => adminA.request('GET', `/api/patterns/${i.pattern}`)],
  ['PUT /api/patterns/:id', (i) => adminA.request('PUT', `/api/patterns/${i.pattern}`, { description: 'taken over' })],
  ['PATCH /api/patterns/:id', (i) => adminA.request('PATCH', `/api/patterns/${i.pattern}`, { code: 'async () => 1' })],
  ['GET /api/patterns/:id/versions', (i) => adminA.request('GET', `/api/patterns/${i.pattern}/versions`)],
  ['GET /api/patterns/:id/versions/1', (i) => adminA.request('GET', `/api/patterns/${i.pattern}/versions/1`)],
  ['POST /api/patterns/:id/versions/1/restore', (i) => adminA.request('POST', `/api/patterns/${i.pattern}/versions/1/restore`)],
  ['POST /api/inject (patternId)', (i) => adminA.request('POST', '/api/inject', { patternId: i.pattern, input: {} })],
  ['POST /api/inject (containerId)', (i) => adminA.request('POST', '/api/inject', { containerId: i.container, input: {} })],
  ['GET /api/stats?patternId', (i) => adminA.request('GET', `/api/stats?patternId=${i.pattern}&versions=true`)],
  ['GET /api/stats?containerId', (i) => adminA.request('GET', `/api/stats?containerId=${i.container}`)],
  ['GET /containers/:id', (i) => browserA.get(`/containers/${i.container}`)],
  ['GET /containers/:id/edit', (i) => browserA.get(`/containers/${i.container}/edit`)],
  ['POST /containers/:id', (i) => browserA.post(`/containers/${i.container}`, { name: 'taken over', category: 'custom' })],
  ['GET /patterns?containerId', (i) => browserA.get(`/patterns?containerId=${i.container}`)],
  ['GET /patterns/new?containerId', (i) => browserA.get(`/patterns/new?containerId=${i.container}`)],
  ['POST /patterns (containerId)', (i) => browserA.post('/patterns', patternForm(i.container))],
  ['GET /patterns/:id', (i) => browserA.get(`/patterns/${i.pattern}`)],
  ['GET /patterns/:id/stats', (i) => browserA.get(`/patterns/${i.pattern}/stats`)],
  ['GET /patterns/:id/edit', (i) => browserA.get(`/patterns/${i.pattern}/edit`)],
  ['GET /patterns/:id/diff', (i) => browserA.get(`/patterns/${i.pattern}/diff?from=1&to=2`)],
  ['POST /patterns/:id', (i) => browserA.post(`/patterns/${i.pattern}`, patternForm(i.container))],
  ['POST /patterns/:id/test', (i) => browserA.post(`/patterns/${i.pattern}/test`, { input: '{}' })],
  ['POST /patterns/:id/test (htmx)', (i) => browserA.post(`/patterns/${i.pattern}/test`, { input: '{}' }, htmx)],
  ['POST /patterns/:id/versions/1/restore', (i) => browserA.post(`/patterns/${i.pattern}/versions/1/restore`, {})],
  ['POST /patterns/:id/active', (i) => browserA.post(`/patterns/${i.pattern}/active`, { active: 'false' })],
  ['POST /patterns/:id/active (htmx)', (i) => browserA.post(`/patterns/${i.pattern}/active`, { active: 'false' }, htmx)],
  // Deletes last: one that went through would hide what the others do.
  ['DELETE /api/patterns/:id', (i) => adminA.request('DELETE', `/api/patterns/${i.pattern}`)],
  ['POST /patterns/:id/delete', (i) => browserA.post(`/patterns/${i.pattern}/delete`, {})],
  ['DELETE /api/containers/:id', (i) => adminA.request('DELETE', `/api/containers/${i.container}`)],
  ['POST /containers/:id/delete', (i) => browserA.post(`/containers/${i.container}/delete`, {})],
  ['POST /containers/:id/delete (htmx)', (i) => browserA.post(`/containers/${i.container}/delete`, {}, htmx)],
];

describe("another workspace's containers and patterns", () => {
  it('answer every route exactly like ids that do not exist, and nothing of them changes', async () => {
    const before = await snapshotB();
    const differences: string[] = [];
    const statuses = new Map<string, number>();
    for (const [name, send] of routes) {
      const missing = { container: randomUUID(), pattern: randomUUID() };
      const theirs = await answer(await send(B), B);
      const none = await answer(await send(missing), missing);
      statuses.set(name, theirs.status);
      if (JSON.stringify(theirs) !== JSON.stringify(none)) differences.push(name);
      expect.soft(theirs, name).toEqual(none);
    }
    expect(differences).toEqual([]);
    // Not found, as a random id is, whether the id is in the path or in the body; a filter by it finds nothing,
    // and an htmx test run shows its refusal in the result region.
    for (const [name, status] of statuses) expect.soft(status, name).toBe(name.includes('?') || name.endsWith('test (htmx)') ? 200 : 404);
    expect(await snapshotB()).toEqual(before);
    // B's own admin still sees B's records untouched.
    const mine = await json(await adminB.request('GET', `/api/patterns/${B.pattern}`));
    expect(mine.pattern).toMatchObject({ id: B.pattern, isActive: true, version: 2, description: MARK });
  });

  it('never show in the lists and pages of this workspace', async () => {
    const pages = [
      adminA.request('GET', '/api/containers?limit=100'),
      adminA.request('GET', '/api/patterns?limit=100'),
      adminA.request('GET', `/api/patterns?q=${MARK}`),
      adminA.request('GET', '/api/stats?versions=true'),
      browserA.get('/patterns'),
      browserA.get('/patterns/new'),
      browserA.get('/settings'),
    ];
    await expectNoLeaks(pages, [MARK, B.container, B.pattern]);
    expect(await (await browserB.get('/patterns')).text()).toContain(MARK);
    const theirs = await json(await adminB.request('GET', '/api/patterns'));
    expect(theirs.patterns.map((p: { id: string }) => p.id)).toEqual([B.pattern]);
    expect((await json(await adminB.request('GET', '/api/stats'))).totals).toMatchObject({ patterns: 1, containers: 1 });
  });

  it('may have the same name as a container of this workspace, in each', async () => {
    const res = await adminA.request('POST', '/api/containers', { name: 'Outreach', category: 'messaging' });
    expect(res.status).toBe(201);
    const mine = (await json(res)).container.id;
    expect((await adminA.request('POST', '/api/containers', { name: 'outreach', category: 'custom' })).status).toBe(409);
    const rows = await t.db.owner<{ id: string; workspace_id: string }[]>`
      select id, workspace_id from containers where lower(name) = 'outreach' order by workspace_id = ${wsB}`;
    expect(rows).toEqual([{ id: mine, workspace_id: t.ws }, { id: B.container, workspace_id: wsB }]);
    const [entry] = await listAudit(t.db.sql, { action: 'container.created', entityId: B.container, limit: 1 }, { id: wsB });
    expect(entry).toMatchObject({ workspaceId: wsB });
    expect(await listAudit(t.db.sql, { action: 'container.created', entityId: B.container, limit: 1 }, { id: t.ws })).toEqual([]);
  });

  it('are chosen from, and their runs read, only in their own workspace', async () => {
    expect(await loadCandidates(t.db.sql, B.container)).toEqual([]);
    expect((await loadCandidates(t.db.sql, B.container, { id: wsB })).map((c) => c.id)).toEqual([B.pattern]);
    const workflowId = `mission-${randomUUID()}-run`;
    await recordRun(t.db.sql, {
      executionKey: `${workflowId}/t1`, patternId: B.pattern, versionId: (await json(await adminB.request('GET', `/api/patterns/${B.pattern}`))).pattern.versionId,
      patternName: 'sender', version: 2, source: 'mission', workflowId, taskId: 't1', status: 'succeeded', logs: [], outbound: [], durationMs: 1,
      actor: 'system', workspaceId: wsB,
    }, { kept: { workflowId, ref: 'r1', taskId: 't1', taskName: 'Send', order: 1, bytes: 2, output: {} } });
    expect(await runsOfWorkflow(t.db.sql, workflowId)).toEqual([]);
    expect(await runsOfWorkflow(t.db.sql, workflowId, { id: wsB })).toHaveLength(1);
    const [kept] = await t.db.owner`select workspace_id from task_outputs where workflow_id = ${workflowId}`;
    expect(kept).toEqual({ workspace_id: wsB });
  });
});

describe('safety settings, per workspace', () => {
  it('are changed in one workspace only, audited there', async () => {
    const res = await adminB.request('PATCH', '/api/settings/safety', { dryRun: false, channels: { webhook: true } });
    expect((await json(res)).safety).toMatchObject({ dryRun: false, channels: { webhook: true } });
    expect((await json(await adminA.request('GET', '/api/settings/safety'))).safety).toEqual({
      dryRun: true, channels: { email: false, facebook: false, instagram: false, linkedin: false, webhook: false },
    });
    expect(await listAudit(t.db.sql, { action: 'safety.', limit: 5 }, { id: wsB })).toHaveLength(2);
    expect(await listAudit(t.db.sql, { action: 'safety.', limit: 5 }, { id: t.ws })).toEqual([]);
  });

  it("decide each workspace's sends: B is live while an inject in A is recorded as would-send", async () => {
    const containerA = (await json(await adminA.request('POST', '/api/containers', { name: 'Senders', category: 'messaging' }))).container.id;
    const patternA = (await json(await adminA.request('POST', '/api/patterns', { containerId: containerA, name: 'sender', code: SENDER }))).pattern.id;

    const inA = await json(await adminA.request('POST', '/api/inject', { patternId: patternA, input: {} }));
    expect(inA.outbound).toEqual([{ channel: 'webhook', status: 'dry_run', payload: { to: 'lead@example.com' } }]);
    expect(receiver.received).toHaveLength(0);
    const [wouldSend] = await listAudit(t.db.sql, { action: 'outbound.would_send', limit: 1 }, { id: t.ws });
    expect(wouldSend?.details).toMatchObject({ channel: 'webhook', patternId: patternA, executionKey: inA.executionKey });

    const inB = await json(await adminB.request('POST', '/api/inject', { patternId: B.pattern, input: {} }));
    expect(inB.outbound[0]).toMatchObject({ channel: 'webhook', status: 'sent' });
    expect(receiver.received).toHaveLength(1);
    expect(await listAudit(t.db.sql, { action: 'outbound.sent', limit: 5 }, { id: wsB })).toHaveLength(1);
    expect(await listAudit(t.db.sql, { action: 'outbound.', limit: 5 }, { id: t.ws })).toHaveLength(1);

    // Each run, its sends and its inject entry are recorded in its own workspace.
    const where = async (table: 'pattern_runs' | 'outbound_messages', key: string) =>
      (await t.db.owner<{ workspace_id: string }[]>`select workspace_id from ${t.db.owner(table)} where execution_key = ${key}`).map((r) => r.workspace_id);
    expect(await where('pattern_runs', inA.executionKey)).toEqual([t.ws]);
    expect(await where('outbound_messages', inA.executionKey)).toEqual([t.ws]);
    expect(await where('pattern_runs', inB.executionKey)).toEqual([wsB]);
    expect(await where('outbound_messages', inB.executionKey)).toEqual([wsB]);
    expect(await listAudit(t.db.sql, { action: 'pattern.injected', entityId: B.pattern, limit: 5 }, { id: wsB })).toHaveLength(1);
    // Statistics follow: A's stats page knows nothing of B's run.
    expect((await json(await adminA.request('GET', '/api/stats'))).patterns.map((p: { id: string }) => p.id)).not.toContain(B.pattern);
  });

  it("show each session its own workspace's live-sending banner and settings", async () => {
    // Read one right after the other: a banner cached for one workspace must not answer for the other.
    for (let i = 0; i < 2; i++) {
      expect(await (await browserB.get('/live/banner')).text()).toContain('Live sending is on');
      expect(await (await browserA.get('/live/banner')).text()).not.toContain('Live sending is on');
      expect(await (await browserB.get('/patterns')).text()).toContain('Live sending is on');
      expect(await (await browserA.get('/patterns')).text()).not.toContain('Live sending is on');
    }
    // A's switches are A's own: turning A's dry-run off there leaves B's settings as they were.
    const res = await browserA.post('/settings/safety/dry-run', { dryRun: 'false' });
    expect(res.status).toBe(303);
    expect((await json(await adminA.request('GET', '/api/settings/safety'))).safety.dryRun).toBe(false);
    expect((await json(await adminB.request('GET', '/api/settings/safety'))).safety).toMatchObject({ dryRun: false, channels: { webhook: true } });
    const [entry] = await listAudit(t.db.sql, { action: 'safety.dry_run.toggled', limit: 1 }, { id: t.ws });
    expect(entry).toMatchObject({ actor: 'admin', details: { from: true, to: false } });
  });
});

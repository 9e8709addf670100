// The server-rendered pages for patterns and containers, schedules, the
// audit log and settings: what each role sees and may do, forms that keep
// what was typed, fragments for htmx, and escaping of user content.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, listAudit, SYSTEM_ACTOR } from '../../core/audit/audit-log';
import { describeCron, formatInZone } from '../../core/schedules/cron';
import { getPattern } from '../../core/patterns/patterns';
import { getSafety } from '../../core/safety/settings';
import { listUsers } from '../../core/access/users';
import { ADMIN_TOKEN } from '../helpers/env';
import {
  ADMIN_PASSWORD, ORIGIN, apiClient, createTestApp, json, signIn, userWithRole, type ApiClient, type Browser, type TestApp,
} from '../helpers/app';
import { freshRateWindow } from '../foundation/rate-window';
import { eventually } from '../helpers/missions';

let t: TestApp;
let api: ApiClient;
let admin: Browser;
let operator: Browser;
let viewer: Browser;
let containerId: string;
let patternId: string;

const HTMX = { headers: { 'HX-Request': 'true' } };
const SCRIPT_NAME = '<script>alert(1)</script>';

/** Where the page's forms post and what its htmx attributes post to, sign-out excepted. */
function mutatingTargets(html: string): string[] {
  const forms = [...html.matchAll(/<form\b[^>]*>/g)].map((m) => m[0]).filter((tag) => /method="post"/i.test(tag));
  const actions = forms.map((tag) => /action="([^"]*)"/.exec(tag)?.[1] ?? '(no action)');
  const hx = [...html.matchAll(/hx-(?:post|put|patch|delete)="([^"]*)"/g)].map((m) => m[1]!);
  return [...actions, ...hx].filter((a) => a !== '/logout');
}

async function page(b: Browser, path: string, init?: RequestInit): Promise<{ status: number; html: string }> {
  const res = await b.get(path, init);
  return { status: res.status, html: await res.text() };
}

async function makePattern(code: string, name = `p-${Math.random().toString(36).slice(2, 8)}`): Promise<string> {
  const res = await api.request('POST', '/api/patterns', { containerId, name, code, config: { timeout: 2000, retryCount: 0, failureAction: 'skip' } });
  expect(res.status).toBe(201);
  return (await json(res)).pattern.id;
}

const patternForm = (code: string, over: Record<string, string> = {}) => ({
  name: 'scorer', description: 'scores leads', priority: '0', timeout: '2000', retryCount: '0', failureAction: 'skip', isActive: 'on', code, ...over,
});

beforeAll(async () => {
  t = await createTestApp({ MC_INJECT_RATE_LIMIT: '6' });
  api = apiClient(t, ADMIN_TOKEN);
  const [v, o] = await Promise.all([userWithRole(t, 'VIEWER'), userWithRole(t, 'OPERATOR')]);
  [admin, viewer, operator] = await Promise.all([signIn(t, 'admin', ADMIN_PASSWORD), signIn(t, v.username, v.password), signIn(t, o.username, o.password)]);
  containerId = (await json(await api.request('POST', '/api/containers', { name: 'Lab', category: 'custom' }))).container.id;
  patternId = await makePattern('async (input, ctx) => {\n  ctx.log("scoring", input.lead);\n  return { score: input.lead.length * 10 };\n}', 'scorer');
});
afterAll(async () => t?.close());

describe('containers and patterns', () => {
  it('lists them with statistics charts to a viewer, with no controls that change anything', async () => {
    const { status, html } = await page(viewer, '/patterns');
    expect(status).toBe(200);
    expect(html).toContain('scorer');
    expect(html).toMatch(/<svg class="spark"[^>]*role="img"/);
    expect(mutatingTargets(html)).toEqual([]);
    expect(html).not.toContain('href="/patterns/new"');

    const adminHtml = (await page(admin, '/patterns')).html;
    expect(adminHtml).toContain('href="/patterns/new"');
    expect(adminHtml).toContain('href="/containers/new"');
  });

  it('escapes a container named like a script everywhere it appears', async () => {
    const id = (await json(await api.request('POST', '/api/containers', { name: SCRIPT_NAME, category: 'custom' }))).container.id;
    for (const path of ['/patterns', `/containers/${id}`, '/audit']) {
      const { status, html } = await page(viewer, path);
      expect(status, path).toBe(200);
      expect(html, path).not.toContain(SCRIPT_NAME);
      expect(html, path).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
  });

  it('shows a pattern to a viewer read-only, a test run to an operator, and every action to an admin', async () => {
    const v = await page(viewer, `/patterns/${patternId}`);
    expect(v.status).toBe(200);
    expect(v.html).toContain('Version history');
    expect(mutatingTargets(v.html)).toEqual([]);

    const o = await page(operator, `/patterns/${patternId}`);
    expect(new Set(mutatingTargets(o.html))).toEqual(new Set([`/patterns/${patternId}/test`]));

    const a = await page(admin, `/patterns/${patternId}`);
    expect(mutatingTargets(a.html)).toEqual(expect.arrayContaining([`/patterns/${patternId}/active`, `/patterns/${patternId}/delete`, `/patterns/${patternId}/test`]));
    expect(a.html).toContain(`href="/patterns/${patternId}/edit"`);

    expect((await viewer.get('/patterns/new')).status).toBe(403);
    expect((await operator.get(`/patterns/${patternId}/edit`)).status).toBe(403);
    expect((await admin.get(`/patterns/${patternId}/edit`)).status).toBe(200);
  });

  it('checks code as it is typed and names the line and column of a syntax error', async () => {
    const bad = await admin.post('/patterns/check', { code: 'async (input) => {\n  return input +;\n}' }, HTMX);
    expect(bad.status).toBe(200);
    expect(await bad.text()).toMatch(/Line 2, column \d+: Syntax error/);
    const good = await admin.post('/patterns/check', { code: 'async (input) => input' }, HTMX);
    expect(await good.text()).toContain('Syntax OK');
    expect((await operator.post('/patterns/check', { code: 'async () => 1' }, HTMX)).status).toBe(403);
  });

  it('re-renders the editor with the error (400) and the code as typed when the code is invalid', async () => {
    const typed = 'async (input) => {\n  const x = "<b>kept</b>";\n  return x +;\n}';
    const res = await admin.post(`/patterns/${patternId}`, patternForm(typed));
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toMatch(/line 3, column \d+/i);
    expect(html).toContain('const x = &quot;&lt;b&gt;kept&lt;/b&gt;&quot;;');
    expect(html).toContain('name="timeout"');
    expect((await getPattern(t.db.sql, patternId)).version).toBe(1);
  });

  it('saves a code change as a new version and shows the line diff between versions', async () => {
    const code = 'async (input, ctx) => {\n  ctx.log("scoring", input.lead);\n  return { score: input.lead.length * 20, v: 2 };\n}';
    const res = await admin.post(`/patterns/${patternId}`, patternForm(code, { note: 'double the score' }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/patterns/${patternId}`);
    expect((await getPattern(t.db.sql, patternId)).version).toBe(2);

    const { status, html } = await page(viewer, `/patterns/${patternId}/diff?from=1&to=2`);
    expect(status).toBe(200);
    expect(html).toMatch(/<div class="del">.*return \{ score: input\.lead\.length \* 10 \};<\/div>/);
    expect(html).toMatch(/<div class="add">.*return \{ score: input\.lead\.length \* 20, v: 2 \};<\/div>/);
    expect(html).toMatch(/<div class="same">.*ctx\.log\(&quot;scoring&quot;, input\.lead\);<\/div>/);
    expect((await viewer.get(`/patterns/${patternId}/diff?from=1&to=9`)).status).toBe(404);
  });

  it('restores an old version for an admin only', async () => {
    expect((await operator.post(`/patterns/${patternId}/versions/1/restore`, {})).status).toBe(403);
    expect((await getPattern(t.db.sql, patternId)).version).toBe(2);
    const res = await admin.post(`/patterns/${patternId}/versions/1/restore`, {}, HTMX);
    expect(res.status).toBe(204);
    expect(res.headers.get('hx-redirect')).toBe(`/patterns/${patternId}`);
    const p = await getPattern(t.db.sql, patternId);
    expect(p.version).toBe(3);
    expect(p.code).toContain('* 10');
  });

  it('test-runs a pattern for an operator: output, logs and duration', async () => {
    const res = await operator.post(`/patterns/${patternId}/test`, { input: '{"lead": "acme"}' }, HTMX);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Succeeded');
    expect(html).toContain('&quot;score&quot;: 40');
    expect(html).toContain('scoring acme');
    expect((await viewer.post(`/patterns/${patternId}/test`, { input: '{}' })).status).toBe(403);
  });

  it('shows a failed test run with its kind, message and logs, and outbound sends as "would send" in dry-run', async () => {
    const failing = await makePattern('async (input, ctx) => { ctx.log("about to fail"); throw new Error("no lead given") }');
    const res = await operator.post(`/patterns/${failing}/test`, { input: '{}' });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toMatch(/Failed \(runtime\)/);
    expect(html).toContain('no lead given');
    expect(html).toContain('about to fail');

    const sender = await makePattern('async (input, ctx) => ctx.outbound.send("email", { to: "lead@example.com" })');
    const sent = await (await admin.post(`/patterns/${sender}/test`, { input: '{}' }, HTMX)).text();
    expect(sent).toContain('would send (dry run)');
    expect(sent).toContain('lead@example.com');

    const badJson = await operator.post(`/patterns/${patternId}/test`, { input: '{lead: acme}' });
    expect(badJson.status).toBe(400);
    expect(await badJson.text()).toContain('not valid JSON');
  });

  it('says so readably when the test runs are rate-limited', async () => {
    const o = await userWithRole(t, 'OPERATOR');
    const b = await signIn(t, o.username, o.password);
    // Six test runs a minute, in fixed windows: all seven must fall into one.
    const rateWindow = await freshRateWindow(60, 20);
    const pages: string[] = [];
    for (let i = 0; i < 7; i++) pages.push(await (await b.post(`/patterns/${patternId}/test`, { input: '{"lead": "x"}' }, HTMX)).text());
    rateWindow.expectSameWindow();
    for (const html of pages.slice(0, 6)) expect(html).toContain('Succeeded');
    expect(pages[6]).toMatch(/Rate limited: Too many requests; try again in \d+ s\./);
  });

  it('deactivates, and refuses to delete a pattern that a mission uses with the 409 message', async () => {
    const used = await makePattern('async () => 1', 'used-by-a-mission');
    const mission = await api.request('POST', '/api/missions', { name: 'Uses it', type: 'manual', containerId, tasks: [{ name: 'one', order: 0, patternId: used }] });
    expect(mission.status).toBe(201);
    expect((await viewer.post(`/patterns/${used}/delete`, {})).status).toBe(403);
    const res = await admin.post(`/patterns/${used}/delete`, {});
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('Missions still use this pattern (Uses it)');
    expect((await getPattern(t.db.sql, used)).isActive).toBe(true);

    expect((await operator.post(`/patterns/${used}/active`, { active: 'false' })).status).toBe(403);
    expect((await admin.post(`/patterns/${used}/active`, { active: 'false' })).status).toBe(303);
    expect((await getPattern(t.db.sql, used)).isActive).toBe(false);
  });

  it('creates containers and patterns from the forms, keeping what was typed when something is wrong', async () => {
    expect((await operator.post('/containers', { name: 'sneaky', category: 'custom' })).status).toBe(403);
    const bad = await admin.post('/containers', { name: '', category: 'custom', description: 'typed and kept' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('typed and kept');
    const made = await admin.post('/containers', { name: 'Outreach', category: 'messaging', isActive: 'on', priority: '3' });
    expect(made.status).toBe(303);
    const newId = made.headers.get('location')!.split('/').pop()!;
    expect((await page(viewer, `/containers/${newId}`)).html).toContain('Outreach');

    const dup = await admin.post('/patterns', { ...patternForm('async () => 1'), containerId, name: 'scorer' });
    expect(dup.status).toBe(409);
    const created = await admin.post('/patterns', { ...patternForm('async () => 2'), containerId: newId, name: 'greeter' });
    expect(created.status).toBe(303);
  });
});

describe('schedules', () => {
  let missionId: string;
  beforeAll(async () => {
    const res = await api.request('POST', '/api/missions', {
      name: 'Morning digest', type: 'scheduled', containerId, tasks: [{ name: 'one', order: 0, patternId }],
      schedule: { cron: '0 9 * * 1-5', timezone: 'America/Toronto' },
    });
    expect(res.status).toBe(201);
    missionId = (await json(res)).mission.id;
  });

  /** The schedules page once Temporal described its rows in time (a busy Temporal gets placeholders, tested on their own). */
  const described = (b: Browser) => eventually(() => page(b, '/schedules'), (p) => !p.html.includes('schedule-pending'));

  it('lists each schedule in words with its next runs in its own zone; viewers get no buttons', async () => {
    const { status, html } = await described(viewer);
    expect(status).toBe(200);
    expect(html).toContain('Morning digest');
    expect(html).toContain(describeCron('0 9 * * 1-5'));
    expect(html).toMatch(/\d{4}-\d{2}-\d{2} 09:00 \(America\/Toronto\)/);
    expect(mutatingTargets(html)).toEqual([]);
    const op = await described(operator);
    expect(mutatingTargets(op.html)).toEqual(expect.arrayContaining([`/schedules/${missionId}/pause`, `/schedules/${missionId}/run`]));
  });

  it('pauses with a note and unpauses for operators; the row re-renders', async () => {
    expect((await viewer.post(`/schedules/${missionId}/pause`, { note: 'no' })).status).toBe(403);
    const paused = await operator.post(`/schedules/${missionId}/pause`, { note: 'quiet week' }, HTMX);
    expect(paused.status).toBe(200);
    const html = await paused.text();
    expect(html).toMatch(/^<article id="schedule-/);
    expect(html).toContain('quiet week');
    expect(html).toContain(`/schedules/${missionId}/unpause`);
    expect((await listAudit(t.db.sql, { action: 'schedule.paused', entityId: `mission-${missionId}`, limit: 1 }))[0]?.details).toMatchObject({ note: 'quiet week' });
    const unpaused = await operator.post(`/schedules/${missionId}/unpause`, {}, HTMX);
    expect(await unpaused.text()).toContain(`/schedules/${missionId}/pause`);
    const run = await operator.post(`/schedules/${missionId}/run`, {}, HTMX);
    expect(run.status).toBe(200);
    expect(JSON.parse(run.headers.get('hx-trigger')!)).toMatchObject({ flash: { kind: 'ok' } });
  });

  it('shows a schedule Temporal cannot describe with its error instead of failing the page', async () => {
    const res = await api.request('POST', '/api/missions', {
      name: 'Orphaned', type: 'scheduled', containerId, tasks: [], schedule: { cron: '30 6 * * *', timezone: 'UTC' },
    });
    const orphan = (await json(res)).mission.id;
    await t.deps.temporal.client.schedule.getHandle(`mission-${orphan}`).delete();
    const { status, html } = await page(viewer, '/schedules');
    expect(status).toBe(200);
    expect(html).toMatch(/This schedule cannot be described: Schedule of this mission was not found/);
    expect(html).toContain('Morning digest');
    expect(formatInZone(new Date('2026-01-05T14:00:00Z'), 'America/Toronto')).toBe('Mon 2026-01-05 09:00 (America/Toronto)');
  });
});

describe('settings', () => {
  it('shows the safety state read-only to viewers and operators, with no users or tokens', async () => {
    for (const b of [viewer, operator]) {
      const { status, html } = await page(b, '/settings');
      expect(status).toBe(200);
      expect(html).toContain('Dry-run is on');
      expect(mutatingTargets(html)).toEqual([]);
      expect(html).not.toContain('API tokens');
    }
    const a = await page(admin, '/settings');
    expect(mutatingTargets(a.html)).toEqual(expect.arrayContaining(['/settings/safety/dry-run', '/settings/safety/channels/email', '/settings/users', '/settings/tokens']));
    expect(a.html).toMatch(/hx-confirm="Turn dry-run off\?/);
  });

  it('lets only an admin turn dry-run off, audits it, and the banner shows live sending', async () => {
    expect((await operator.post('/settings/safety/dry-run', { dryRun: 'false' })).status).toBe(403);
    const forged = await t.app.request('/settings/safety/dry-run', {
      method: 'POST', headers: { Cookie: admin.cookie, Origin: ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ dryRun: 'false' }),
    });
    expect(forged.status).toBe(403);
    expect((await getSafety(t.db.sql)).dryRun).toBe(true);

    expect((await admin.post('/settings/safety/dry-run', { dryRun: 'false' })).status).toBe(303);
    expect((await getSafety(t.db.sql)).dryRun).toBe(false);
    const [entry] = await listAudit(t.db.sql, { action: 'safety.dry_run.toggled', limit: 1 });
    expect(entry).toMatchObject({ actor: 'admin', details: { from: true, to: false } });

    expect((await operator.post('/settings/safety/channels/email', { enabled: 'true' })).status).toBe(403);
    const on = await admin.post('/settings/safety/channels/email', { enabled: 'true' }, HTMX);
    expect(on.headers.get('hx-redirect')).toBe('/settings');
    expect((await page(viewer, '/settings')).html).toContain('Live sending is on');

    await admin.post('/settings/safety/channels/email', { enabled: 'false' });
    await admin.post('/settings/safety/dry-run', { dryRun: 'true' });
    expect(await getSafety(t.db.sql)).toMatchObject({ dryRun: true, channels: { email: false } });
  });

  it('manages users for admins only, keeping the typed username when the password is too short', async () => {
    expect((await operator.post('/settings/users', { username: 'sneaky', password: 'password-123456', role: 'ADMIN' })).status).toBe(403);
    const short = await admin.post('/settings/users', { username: 'newbie', password: 'short', role: 'OPERATOR' });
    expect(short.status).toBe(400);
    const html = await short.text();
    expect(html).toContain('at least 10 characters');
    expect(html).toContain('value="newbie"');
    expect((await admin.post('/settings/users', { username: 'newbie', password: 'long-enough-password', role: 'OPERATOR' })).status).toBe(303);
    let users = await listUsers(t.db.sql);
    expect(users.map((u) => u.username)).not.toContain('sneaky');
    const newbie = users.find((u) => u.username === 'newbie')!;
    expect(newbie.role).toBe('OPERATOR');

    const role = await admin.post(`/settings/users/${newbie.id}/role`, { role: 'VIEWER' }, HTMX);
    expect(role.status).toBe(200);
    expect(await role.text()).toMatch(/^<section id="users"/);
    expect((await viewer.post(`/settings/users/${newbie.id}/disabled`, { disabled: 'true' })).status).toBe(403);
    expect((await admin.post(`/settings/users/${newbie.id}/disabled`, { disabled: 'true' })).status).toBe(303);
    users = await listUsers(t.db.sql);
    expect(users.find((u) => u.id === newbie.id)).toMatchObject({ role: 'VIEWER', disabled: true });
  });

  it('shows a new API token once, and revokes it', async () => {
    expect((await operator.post('/settings/tokens', { name: 'ci' })).status).toBe(403);
    const res = await admin.post('/settings/tokens', { name: 'ci-bot', expiresInDays: '30' });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('Copy it now');
    const token = /id="new-token"[^>]*value="(mc_[^"]+)"/.exec(html)?.[1];
    expect(token).toBeTruthy();
    expect((await apiClient(t, token!).request('GET', '/api/me')).status).toBe(200);
    const again = (await page(admin, '/settings')).html;
    expect(again).not.toContain(token!);
    expect(again).toContain(token!.slice(0, 8));

    const id = (await json(await api.request('GET', '/api/tokens'))).tokens.find((x: { name: string }) => x.name === 'ci-bot').id;
    expect((await operator.post(`/settings/tokens/${id}/revoke`, {})).status).toBe(403);
    const revoked = await admin.post(`/settings/tokens/${id}/revoke`, {}, HTMX);
    expect(revoked.status).toBe(200);
    expect(await revoked.text()).toContain('revoked');
    expect((await apiClient(t, token!).request('GET', '/api/me')).status).toBe(401);
  });
});

describe('audit log', () => {
  it('shows entries to viewers with filters, keyset paging and the verified chain', async () => {
    const { status, html } = await page(viewer, '/audit');
    expect(status).toBe(200);
    expect(html).toMatch(/Chain verified: \d+ entries/);
    expect(mutatingTargets(html)).toEqual([]);

    const filtered = await page(viewer, '/audit?action=safety.');
    expect(filtered.html).toContain('safety.dry_run.toggled');
    expect(filtered.html).not.toContain('<code>pattern.created</code>');

    for (let i = 0; i < 55; i++) await appendAudit(t.db.sql, { actor: SYSTEM_ACTOR, action: 'test.event', entityType: 'test', entityId: String(i) });
    const all = await listAudit(t.db.sql, { limit: 1000 });
    const { html: newest } = await page(viewer, '/audit');
    expect(newest).toContain(`/audit?before=${all[49]!.id}`);
    const older = await page(viewer, `/audit?before=${all[49]!.id}`);
    expect(older.html).toContain(`<td>${all[50]!.id}</td>`);
    expect(older.html).not.toContain(`<td>${all[0]!.id}</td>`);
  });

  it('says where the chain is broken, in red', async () => {
    const [row] = await t.db.owner`select id::text as id, details from audit_log order by id limit 1 offset 2`;
    const tamper = (details: unknown) =>
      t.db.owner.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`update audit_log set details = ${tx.json(details as never)} where id = ${row!.id}`;
      });
    await tamper({ forged: true });
    try {
      const { html } = await page(viewer, '/audit');
      expect(html).toMatch(new RegExp(`flash-error chain-status[^>]*>Chain broken at entry #${row!.id}: content does not match its hash`));
    } finally {
      await tamper(row!.details);
    }
  });
});

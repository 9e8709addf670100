// Bad input, on every route: NUL bytes and lone surrogates in every field,
// query and form; malformed bodies; ids that are not ids; numbers past any
// range; deep JSON; crons and time zones Temporal refuses. The client's
// mistake is always a 4xx with a message naming it, never a 5xx, and never
// a change half made.
import { isJsonPath } from '../../api/context';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { ADMIN_TOKEN } from '../helpers/env';
import { ADMIN_PASSWORD, ORIGIN, apiClient, createTestApp, json, signIn, userWithRole, type ApiClient, type Browser, type TestApp } from '../helpers/app';
import {
  HIGH, NUL, badParams, cronQueries, hostileForms, hostileJsonBodies, hostileRawBodies, nulQueries, valueQueryGroups, type Probe,
} from '../helpers/hostile-input';
import { apiBodies, uiForms, type AgentFixtures, type Fixtures, type OutreachFixtures } from '../helpers/route-bodies';
import { pool } from '../helpers/route-walk';

let t: TestApp;
let api: ApiClient;
let admin: Browser;
const fx = {} as Fixtures;
const CODE = 'async (input, ctx) => ({ ok: true })';

async function created(res: Response): Promise<any> {
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return json(res);
}

async function makeFixtures(prefix: string) {
  const containerId = (await created(await api.request('POST', '/api/containers', { name: `${prefix} lab`, category: 'custom' }))).container.id;
  const patternId = (await created(await api.request('POST', '/api/patterns', { containerId, name: `${prefix} p`, code: CODE }))).pattern.id;
  const { mission } = await created(await api.request('POST', '/api/missions', {
    name: `${prefix} m`, type: 'scheduled', containerId, status: 'active',
    schedule: { cron: '0 9 * * 1-5', timezone: 'America/Toronto', paused: true },
    tasks: [{ name: 'only', order: 0, patternId, requiresApproval: true }],
  }));
  const user = await userWithRole(t, 'VIEWER');
  const { apiToken } = await created(await api.request('POST', '/api/tokens', { name: `${prefix} token`, userId: user.id }));
  return { containerId, patternId, missionId: mission.id, taskId: mission.tasks[0].id, userId: user.id, tokenId: apiToken.id };
}

async function makeAgentFixtures(): Promise<AgentFixtures> {
  const { definition } = await created(await api.request('POST', '/api/agent-definitions', { name: 'Walked kind', status: 'active', commands: [{ type: 'COLLECT_DIAGNOSTICS' }] }));
  const { agent, token } = await created(await api.request('POST', '/api/agents', { name: 'walked-agent', definitionId: definition.id }));
  const { configuration } = await created(await api.request('POST', '/api/agent-configurations', { definitionId: definition.id, name: 'Walked config', yaml: 'a: 1\n' }));
  await created(await apiClient(t, token).request('POST', '/api/agent/hello', {}));
  return { definitionId: definition.id, agentId: agent.id, configurationId: configuration.id, token };
}

async function makeOutreachFixtures(): Promise<OutreachFixtures> {
  const { campaign } = await created(await api.request('POST', '/api/campaigns', { name: 'Walked campaign', channels: ['EMAIL'] }));
  const { lead } = await created(await api.request('POST', '/api/leads', { campaignId: campaign.id, name: 'Walked lead' }));
  const { draft } = await created(await api.request('POST', '/api/drafts', { campaignId: campaign.id, leadId: lead.id, channel: 'EMAIL', body: 'Hello' }));
  await created(await api.request('POST', `/api/drafts/${draft.id}/submit`, {}));
  const { task } = await created(await api.request('POST', '/api/tasks', { title: 'Walked work', leadId: lead.id, agentId: fx.agent!.agentId }));
  const { comment } = await created(await api.request('POST', '/api/comments', { content: 'Walked comment', missionId: fx.missionId }));
  return { campaignId: campaign.id, leadId: lead.id, draftId: draft.id, workItemId: task.id, commentId: comment.id };
}

beforeAll(async () => {
  t = await createTestApp({ MC_INJECT_RATE_LIMIT: '1000', MC_AGENT_REQUEST_RATE_LIMIT: '100000' });
  api = apiClient(t, ADMIN_TOKEN);
  admin = await signIn(t, 'admin', ADMIN_PASSWORD);
  Object.assign(fx, await makeFixtures('main'));
  fx.spare = await makeFixtures('spare');
  fx.agent = await makeAgentFixtures();
  fx.outreach = await makeOutreachFixtures();
  fx.workflowId = `mission-${fx.missionId}-not-a-run`;
});
afterAll(async () => t?.close());

// ---- the walk ---------------------------------------------------------------------------

/** Routes that destroy or disable what they are given work on spare fixtures. */
const destructive = (method: string, path: string) =>
  method === 'DELETE' || /\/(delete|revoke|role|disabled|active|remove)$/.test(path) || `${method} ${path}` === 'PATCH /api/users/:id';

function paramValue(name: string, method: string, path: string): string {
  const ids = destructive(method, path) ? fx.spare : fx;
  const area = /^\/(?:api\/)?(\w+)/.exec(path)?.[1];
  const byArea: Record<string, string> = {
    containers: ids.containerId, patterns: ids.patternId, missions: ids.missionId, users: ids.userId, tokens: ids.tokenId,
    alerts: '00000000-0000-4000-8000-000000000000', settings: /tokens/.test(path) ? ids.tokenId : ids.userId,
  };
  const byPrefix: Record<string, string | undefined> = {
    '/api/agents/': fx.agent?.agentId, '/api/agent-definitions/': fx.agent?.definitionId, '/api/agent-configurations/': fx.agent?.configurationId,
    '/api/campaigns/': fx.outreach?.campaignId, '/api/leads/': fx.outreach?.leadId, '/api/drafts/': fx.outreach?.draftId,
    '/api/comments/': fx.outreach?.commentId, '/comments/': fx.outreach?.commentId, '/api/tasks/': fx.outreach?.workItemId, '/api/agent/work-items/': fx.outreach?.workItemId, '/work-items/': fx.outreach?.workItemId,
    '/api/scheduler/jobs/': fx.missionId, // a job is a mission with a schedule
    // The pages too: a real id, so that their forms' fields are the ones walked, not the id's refusal.
    '/agents/': fx.agent?.agentId, '/campaigns/': fx.outreach?.campaignId, '/leads/': fx.outreach?.leadId, '/drafts/': fx.outreach?.draftId,
  };
  const prefixArea = Object.entries(byPrefix).find(([prefix]) => path.startsWith(prefix))?.[1];
  return ({ index: '0', taskId: ids.taskId, version: '1', workflowId: fx.workflowId, missionId: ids.missionId, channel: 'email', name: 'app.css' } as Record<string, string>)[name]
    ?? prefixArea ?? byArea[area ?? ''] ?? 'x';
}

const fill = (method: string, path: string, over: Record<string, string> = {}) =>
  path.replace(/:(\w+)/g, (_, name: string) => over[name] ?? paramValue(name, method, path));

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'Content-Type': 'application/json' };
const isApi = (path: string) => path.startsWith('/api/');

function probes(routes: { method: string; path: string }[]): { list: Probe[]; groups: { all: Probe; each: Probe[] }[]; uncovered: string[] } {
  const list: Probe[] = [];
  const groups: { all: Probe; each: Probe[] }[] = [];
  const uncovered: string[] = [];
  const bodies = apiBodies(fx);
  const forms = uiForms(fx);
  for (const { method, path } of routes) {
    const key = `${method} ${path}`;
    const hasBody = method !== 'GET' && method !== 'DELETE';
    const plainBody = hasBody ? (isApi(path) ? { headers: JSON_TYPE, body: '{}' } : { headers: FORM, body: '' }) : {};
    // Every path parameter, hostile.
    for (const name of [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!)) {
      for (const bad of badParams(name)) {
        list.push({ label: `${key} :${name}=${bad}`, method, path: fill(method, path, { [name]: bad }), ...plainBody, mustRefuse: true });
      }
    }
    // Query strings: on a GET all of them; on a change, a NUL must stop it before it acts.
    const query = (q: string, mustRefuse: boolean): Probe => ({ label: `${key} ?${q}`, method, path: `${fill(method, path)}?${q}`, ...plainBody, mustRefuse });
    for (const q of method === 'GET' ? nulQueries() : ['q=%00']) list.push(query(q, true));
    if (method === 'GET') {
      for (const g of valueQueryGroups()) groups.push({ all: query(g.all, false), each: g.each.map((q) => query(q, false)) });
      if (path.includes('/planner/')) for (const q of cronQueries()) list.push(query(q, false));
    }
    if (!hasBody) continue;
    // Bodies: field by field, then whole.
    const at = fill(method, path);
    if (isApi(path)) {
      const base = bodies[key];
      if (!base) uncovered.push(key);
      for (const v of hostileJsonBodies((base ?? {}) as never)) {
        list.push({ label: `${key} ${v.label}`, method, path: at, headers: JSON_TYPE, body: JSON.stringify(v.body), mustRefuse: v.mustRefuse });
      }
    } else {
      const base = forms[path];
      if (!base) uncovered.push(key);
      for (const v of hostileForms(base ?? {})) {
        list.push({ label: `${key} ${v.label}`, method, path: at, headers: FORM, body: new URLSearchParams(v.form).toString(), mustRefuse: v.mustRefuse });
      }
    }
    for (const v of hostileRawBodies(isApi(path))) list.push({ label: `${key} ${v.label}`, method, path: at, headers: v.headers, body: v.body, mustRefuse: v.mustRefuse });
  }
  return { list, groups, uncovered };
}

/** Sends a probe with the admin's credentials: the bearer token for JSON paths, the session and CSRF token for pages. */
async function send(p: Probe, session: Browser): Promise<Response> {
  const path = p.path.split('?')[0]!;
  // The agent protocol takes the walk's agent's token; every other JSON path the admin's.
  const credentials: Record<string, string> = isJsonPath(path)
    ? { Authorization: `Bearer ${path.startsWith('/api/agent/') ? fx.agent!.token : ADMIN_TOKEN}` }
    : { Cookie: session.cookie, Origin: ORIGIN, ...(p.method === 'GET' ? {} : { 'X-CSRF-Token': session.csrf }) };
  return t.app.request(p.path, { method: p.method, headers: { ...credentials, ...p.headers }, body: p.body });
}


/** Live form checks: they answer a bad value with 200 and the message in the fragment they swap in. */
const ANSWERS_200_WITH_A_MESSAGE = new Set(['POST /missions/planner/json', 'GET /missions/planner/cron']);

describe('every route, given hostile input', () => {
  it('answers each hostile request with a 4xx naming the problem, never a 5xx', async () => {
    const routes = [...new Map(t.app.routes.filter((r) => r.method !== 'ALL').map((r) => [`${r.method} ${r.path}`, r])).values()];
    const { list, groups, uncovered } = probes(routes);
    expect(uncovered, 'routes that take a body need a base body in test/helpers/route-bodies.ts').toEqual([]);
    const leaver = await signIn(t, 'admin', ADMIN_PASSWORD); // /logout ends its session, not the walk's
    const started = performance.now();
    const run = async (p: Probe) => {
      const res = await send(p, p.path.startsWith('/logout') ? leaver : admin);
      const type = res.headers.get('content-type') ?? '';
      // An accepted event stream never ends by itself: its status is the answer, and the walk hangs up.
      if (type.startsWith('text/event-stream')) {
        await res.body?.cancel();
        return { p, status: res.status, type, text: '' };
      }
      return { p, status: res.status, type, text: await res.text() };
    };
    const outcomes = await pool(list, 8, run);
    const firsts = await pool(groups, 8, async (g) => ({ g, outcome: await run(g.all) }));
    outcomes.push(...firsts.map((f) => f.outcome));
    // A refused group is tried key by key; the API names the keys it refused, and those need no second look.
    const refusedKeys = (text: string) => {
      try {
        return new Set((JSON.parse(text).error.details as { path: string }[]).map((d) => d.path));
      } catch {
        return new Set<string>();
      }
    };
    const refused = firsts.filter((f) => f.outcome.status >= 400 && f.outcome.status < 500).flatMap((f) => {
      const named = refusedKeys(f.outcome.text);
      return f.g.each.filter((p) => !named.has(/\?(\w+)=/.exec(p.path)![1]!));
    });
    outcomes.push(...(await pool(refused, 8, run)));
    const ms = Math.round(performance.now() - started);
    const serverErrors = outcomes.filter((o) => o.status >= 500 && !(o.p.path.startsWith('/health/ready') && o.status === 503));
    const accepted = outcomes.filter((o) => o.p.mustRefuse && (o.status < 400 || o.status >= 500)
      && !(ANSWERS_200_WITH_A_MESSAGE.has(`${o.p.method} ${o.p.path.split('?')[0]}`) && o.status === 200));
    const badShape = outcomes.filter((o) => {
      if (!isJsonPath(o.p.path.split('?')[0]!) || o.status < 400 || o.p.path.startsWith('/health/ready')) return false;
      try {
        const e = JSON.parse(o.text).error;
        return typeof e?.code !== 'string' || typeof e?.message !== 'string' || !e.message;
      } catch {
        return true;
      }
    });
    const uiAsJson = outcomes.filter((o) => !isJsonPath(o.p.path.split('?')[0]!) && o.status >= 400 && !o.type.startsWith('text/html'));
    console.log(`bad input: ${outcomes.length} requests over ${routes.length} routes in ${ms} ms; ${serverErrors.length} 5xx, ${accepted.length} hostile values accepted`);
    expect(outcomes.length).toBeGreaterThan(3000);
    const show = (os: typeof outcomes) => os.slice(0, 40).map((o) => `${o.status} ${o.p.label} → ${o.text.slice(0, 160)}`);
    expect(show(serverErrors)).toEqual([]);
    expect(show(accepted)).toEqual([]);
    expect(show(badShape)).toEqual([]);
    expect(show(uiAsJson)).toEqual([]);
  }, 120_000);
});

// ---- the cases the fuzz run found, by name ------------------------------------------------

const post = (path: string, body: unknown, headers: Record<string, string> = JSON_TYPE) =>
  t.app.request(path, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const form = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) => admin.post(path, fields, { headers });
const errorOf = async (res: Response) => (await json(res)).error as { code: string; message: string; details?: { path: string }[] };

describe('what the client sent wrong is named', () => {
  it('a malformed multipart body: a readable 400 page, a JSON 415 on the API', async () => {
    const multipart = { 'Content-Type': 'multipart/form-data; boundary=xyz', Cookie: admin.cookie, Origin: ORIGIN };
    for (const headers of [multipart, { ...multipart, 'X-CSRF-Token': admin.csrf }]) {
      const res = await t.app.request('/containers', { method: 'POST', headers, body: '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nb' });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toContain('its multipart body is malformed');
    }
    const api = await post('/api/containers', '--xyz\r\n', { 'Content-Type': 'multipart/form-data; boundary=xyz' });
    expect(api.status).toBe(415);
    expect(await errorOf(api)).toMatchObject({ code: 'unsupported_media_type' });
  });

  it('a NUL byte or a lone surrogate, as what it is, in JSON, forms and queries alike', async () => {
    const nul = await errorOf(await post('/api/containers', { name: `lab${NUL}`, category: 'custom' }));
    expect(nul).toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/^name: contains a NUL character/) });
    const lone = await errorOf(await post('/api/containers', { name: `lab${HIGH}`, category: 'custom' }));
    expect(lone.message).toMatch(/^name: contains an unpaired surrogate \(U\+D800\)/);
    expect(lone.message).not.toMatch(/malformed|an id/);
    const nested = await errorOf(await post(`/api/missions/${fx.missionId}/execute`, { input: { leads: [{ name: `a${NUL}` }] } }));
    expect(nested.message).toMatch(/^input\.leads\.0\.name: contains a NUL/);
    for (const q of ['/api/containers?q=a%00', '/api/audit?actor=a%00', '/api/missions?q=%00']) {
      const res = await t.app.request(q, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status, q).toBe(400);
      expect((await errorOf(res)).message, q).toMatch(/^Query parameter "(q|actor)" contains a NUL character/);
    }
    const page = await admin.get('/missions?q=%00');
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('Query parameter &quot;q&quot; contains a NUL character');
    const field = await form('/containers', { name: `lab${NUL}`, category: 'custom' });
    expect(field.status).toBe(400);
    expect(await field.text()).toContain('Form field &quot;name&quot; contains a NUL character');
  });

  it('a NUL in the sign-in username, before it reaches the rate limit', async () => {
    const res = await t.app.request('/login', {
      method: 'POST', headers: { ...FORM, Origin: ORIGIN }, body: new URLSearchParams({ username: `admin${NUL}`, password: 'whatever-it-is' }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('contains a NUL character');
    expect(await t.db.owner`select key from rate_limits where key like ${'login:user:admin%'}`).toEqual([]);
  });

  it('ids that are not ids, and versions past integer range: 4xx, not 500', async () => {
    expect((await admin.get('/missions/new?containerId=abc')).status).toBe(400);
    expect((await admin.get(`/patterns/${fx.patternId}/diff?from=99999999999`)).status).toBe(400);
    // The planner re-renders what was typed; an id that is none just finds no patterns.
    expect((await admin.get('/missions/planner/tasks?containerId=abc', { headers: { 'HX-Request': 'true' } })).status).toBe(200);
    const version = await t.app.request(`/api/patterns/${fx.patternId}/versions/99999999999`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(version.status).toBe(400);
    expect((await errorOf(version)).message).toMatch(/^version: /);
  });

  it('a static file named like an inherited property: 404, not cached', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const res = await t.app.request(`/static/${name}`);
      expect(res.status, name).toBe(404);
      expect(res.headers.get('cache-control'), name).toBe('no-store');
    }
    expect((await t.app.request('/static/app.css')).headers.get('cache-control')).toBe('public, max-age=300');
  });

  it('JSON too deep or too large, each with its own message, on the API and in forms', async () => {
    const run = `/api/missions/${fx.missionId}/execute`;
    expect((await errorOf(await post(run, `{"input":${'['.repeat(10_000)}${']'.repeat(10_000)}}`))).message).toMatch(/nested more than 128 levels deep; JSON values may be nested at most 64/);
    const hundred = JSON.parse(`${'['.repeat(100)}${']'.repeat(100)}`);
    expect((await errorOf(await post(run, { input: hundred }))).message).toBe('input: must be JSON nested at most 64 levels deep');
    expect((await errorOf(await post(run, { input: { big: 'x'.repeat(300 * 1024) } }))).message).toBe('input: must be JSON data of at most 256 KiB');
    const deepForm = await form(`/missions/${fx.missionId}/execute`, { input: `${'['.repeat(10_000)}${']'.repeat(10_000)}` });
    expect(deepForm.status).toBe(400);
    expect(await deepForm.text()).toContain('Run input: must be JSON nested at most 64 levels deep');
  });

  it('a body without a Content-Type on the API: 415, not read as {}', async () => {
    const res = await t.app.request(`/api/missions/${fx.missionId}/pause`, {
      method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}` }, body: new TextEncoder().encode('{"reason":"x"}'),
    });
    expect(res.status).toBe(415);
    expect((await errorOf(res)).message).toMatch(/no Content-Type/);
    expect((await json(await api.request('GET', `/api/missions/${fx.missionId}`))).mission.status).not.toBe('paused');
  });

  it('an unknown run: 404 for its logs and its timeline', async () => {
    const logs = await api.request('GET', `/api/runs/${fx.workflowId}/logs`);
    expect(logs.status).toBe(404);
    expect(await errorOf(logs)).toMatchObject({ code: 'not_found' });
    expect((await admin.get(`/runs/${fx.workflowId}/timeline`)).status).toBe(404);
  });
});

describe('a secret shown once is never cached', () => {
  it('holds for a new API token, from the API and from settings', async () => {
    const res = await api.request('POST', '/api/tokens', { name: 'shown once' });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    for (const headers of [{}, { 'HX-Request': 'true' }] as Record<string, string>[]) {
      const page = await form('/settings/tokens', { name: 'shown once too' }, headers);
      expect(page.status).toBeLessThan(300);
      expect(page.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('holds for a trigger secret', async () => {
    const res = await api.request('POST', `/api/missions/${fx.missionId}/trigger-secret`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});

describe('schedules take what Temporal takes, and nothing else', () => {
  const scheduled = (schedule: Record<string, unknown>) =>
    api.request('POST', '/api/missions', { name: `s-${Math.random().toString(36).slice(2, 8)}`, type: 'scheduled', containerId: fx.containerId, schedule });

  it('refuses crons Temporal cannot parse, and time zones Go cannot load, naming the fix', async () => {
    for (const cron of ['0 0 L * *', '0 0 * * 5L', '0 0 ? * MON', '0 0 * * 1#2', 'H 9 * * *']) {
      const res = await scheduled({ cron, timezone: 'UTC' });
      expect(res.status, cron).toBe(400);
      expect((await errorOf(res)).message, cron).toMatch(/^schedule\.cron: is not a cron expression Temporal accepts/);
    }
    const cases: [string, RegExp][] = [
      ['america/toronto', /did you mean America\/Toronto\?/],
      ['Canada/East-Saskatchewan', /did you mean America\/Regina\?/],
      ['US/Pacific-New', /canonical IANA name/],
      ['Mars/Olympus', /for example America\/Toronto/],
    ];
    for (const [timezone, hint] of cases) {
      const res = await scheduled({ cron: '0 9 * * *', timezone });
      expect(res.status, timezone).toBe(400);
      expect((await errorOf(res)).message, timezone).toMatch(new RegExp(`^schedule\\.timezone: is not a time zone Temporal knows.*${hint.source}`));
    }
    const preview = await (await admin.get('/missions/planner/cron?cron=0+9+*+*+*&timezone=america%2Ftoronto', { headers: { 'HX-Request': 'true' } })).text();
    expect(preview).toContain('did you mean America/Toronto?');
  });

  it('accepts the crons and time zones Temporal accepts, names and Sunday-as-7 included', async () => {
    for (const [cron, timezone] of [['0 9 * * mon-fri', 'America/Toronto'], ['*/15 8-18 * jan-mar 7', 'Asia/Kolkata'], ['0 0 1 * *', 'UTC'],
      ['30 6 * * 1,3,5', 'Etc/UTC'], ['0 12 * * *', 'Asia/Calcutta'], ['0 12 * * *', 'Europe/Kyiv']] as const) {
      const res = await scheduled({ cron, timezone, paused: true });
      expect(res.status, `${cron} ${timezone}: ${await res.clone().text()}`).toBe(201);
    }
  });

  it('previews the next runs Temporal will start: day of month AND weekday, skipped and repeated hours', async () => {
    const { nextRuns } = await import('../../core/schedules/cron');
    for (const [cron, timezone] of [['0 9 13 * 5', 'America/Toronto'], ['30 1 6-8 11 *', 'America/Toronto'], ['30 2 13-15 3 *', 'America/Toronto'], ['15 7 * * 1-5', 'Asia/Kolkata']] as const) {
      const res = await scheduled({ cron, timezone });
      expect(res.status).toBe(201);
      const { mission } = await json(res);
      const d = await t.deps.temporal.client.schedule.getHandle(`mission-${mission.id}`).describe();
      const fromTemporal = d.info.nextActionTimes.slice(0, 3).map((x) => x.toISOString());
      expect(fromTemporal.length, cron).toBeGreaterThan(0);
      expect(nextRuns(cron, timezone, fromTemporal.length).map((x) => x.toISOString()), `${cron} in ${timezone}`).toEqual(fromTemporal);
      await t.deps.temporal.client.schedule.getHandle(`mission-${mission.id}`).pause('test over');
    }
  });
});

describe('a refused value changes nothing', () => {
  let missionId: string;
  let workflowId: string;
  let taskId: string;
  const history = async () => (await t.deps.temporal.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const messages = async () => (await history()).filter((e) => e.workflowExecutionSignaledEventAttributes || e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateAdmittedEventAttributes);
  const auditOf = async (action: string, entityId: string) => listAudit(t.db.sql, { action, entityId, limit: 10 });

  beforeAll(async () => {
    const { mission } = await created(await api.request('POST', '/api/missions', {
      name: 'untouchable', type: 'scheduled', containerId: fx.containerId, status: 'active',
      schedule: { cron: '0 9 * * 1-5', timezone: 'UTC' }, tasks: [{ name: 'gated', order: 0, patternId: fx.patternId, requiresApproval: true }],
    }));
    missionId = mission.id;
    taskId = mission.tasks[0].id;
    workflowId = (await created(await api.request('POST', `/api/missions/${missionId}/execute`, {}))).workflowId; // no worker: it waits
  });

  it('a pause reason with a NUL pauses neither the mission nor its run', async () => {
    for (const res of [
      await post(`/api/missions/${missionId}/pause`, { reason: `quiet${NUL}` }),
      await post(`/api/missions/${missionId}/pause`, { reason: `quiet${HIGH}` }),
      await form(`/missions/${missionId}/pause`, { reason: `quiet${NUL}` }),
      await post(`/api/runs/${workflowId}/pause`, { reason: `quiet${NUL}` }),
      await form(`/runs/${workflowId}/pause`, { reason: `quiet${NUL}` }),
    ]) expect(res.status).toBe(400);
    expect((await json(await api.request('GET', `/api/missions/${missionId}`))).mission.status).toBe('active');
    expect(await messages()).toEqual([]);
    expect(await auditOf('mission.paused', missionId)).toEqual([]);
  });

  it('decision notes with a NUL or a lone surrogate never reach the run', async () => {
    for (const res of [
      await post(`/api/runs/${workflowId}/decisions`, { taskId, action: 'approve_with_notes', notes: `fine${NUL}` }),
      await post(`/api/runs/${workflowId}/decisions`, { taskId, action: 'approve_with_notes', notes: `fine${HIGH}` }),
      await post(`/api/runs/${workflowId}/decisions`, { taskId, action: 'edit_inline_approve', output: { text: `fine${NUL}` } }),
      await form(`/runs/${workflowId}/decide`, { taskId, action: 'approve_with_notes', notes: `fine${NUL}` }),
      await form(`/runs/${workflowId}/decide`, { taskId, action: 'edit_inline_approve', output: '{"text":"\\u0000"}' }),
    ]) expect(res.status).toBe(400);
    expect(await messages()).toEqual([]);
  });

  it('a schedule note with a NUL leaves the schedule running, with no audit entry', async () => {
    for (const res of [
      await post(`/api/schedules/${missionId}/pause`, { note: `later${NUL}` }),
      await post(`/api/schedules/${missionId}/pause`, { note: `later${HIGH}` }),
      await form(`/schedules/${missionId}/pause`, { note: `later${NUL}` }),
      await form(`/schedules/${missionId}/pause`, { note: 'x'.repeat(501) }),
    ]) expect(res.status).toBe(400);
    const d = await t.deps.temporal.client.schedule.getHandle(`mission-${missionId}`).describe();
    expect(d.state.paused).toBe(false);
    expect(await auditOf('schedule.paused', `mission-${missionId}`)).toEqual([]);
  });
});

// Issue 10's proof, as one matrix: a user of workspace A, in each role, with a token
// (JSON paths) or a session (pages), walks every route of the app given the ids of
// workspace B's records, and is answered 404 (or 403 below the route's role) and
// never anything else; B's rows and B's Temporal run and schedule are exactly as
// they were; and A's lists never show B's ids or names. Then the Temporal side: a
// decision signal sent straight to B's run, naming an admin of A only, is refused.
// (The event stream's side, that a subscriber hears only its workspace's events,
// is test/events/events.test.ts 'events per workspace'.)
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isJsonPath } from '../../api/context';
import { ROLE_RANK, ROLES, missionScheduleId, type Role } from '../../lib/names';
import { decisionSignal } from '../../workflows/messages';
import { json, userWithRole, type ApiClient, type TestApp } from '../helpers/app';
import { eventually, execute, missionEnv, waitFor, type MissionEnv } from '../helpers/missions';
import { apiBodies, uiForms, type Fixtures } from '../helpers/route-bodies';
import { declaredRoutes, pool, sendAs, walker, workspaceState, type Outcome, type Route, type Walker } from '../helpers/route-walk';
import { secondWorkspace } from '../helpers/workspaces';

let env: MissionEnv;
let t: TestApp;
let walkers: Walker[];
let adminB: ApiClient;
let fx: Fixtures;
let alertId: string;
let wsB: string;
let ownerB: Walker;
/** B's names (never to be shown to A) and ids (never to be listed to A). */
let names: string[];
let ids: string[];

const CODE = 'async (input, ctx) => ({ ok: true })';
async function created(res: Response) {
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return json(res);
}

beforeAll(async () => {
  env = await missionEnv({ MC_INJECT_RATE_LIMIT: '1000' });
  t = env.t;
  const tag = randomUUID().slice(0, 8);
  const b = await secondWorkspace(t, `team-b-${tag}`);
  wsB = b.id;
  adminB = b.admin;
  ownerB = { role: 'ADMIN', username: 'B admin', token: b.admin.token, cookie: b.browser.cookie, csrf: b.browser.csrf };
  const containerId = (await created(await adminB.request('POST', '/api/containers', { name: `b-lab-${tag}`, category: 'custom' }))).container.id;
  const patternId = (await created(await adminB.request('POST', '/api/patterns', { containerId, name: `b-pattern-${tag}`, code: CODE }))).pattern.id;
  const { mission } = await created(await adminB.request('POST', '/api/missions', {
    name: `b-mission-${tag}`, type: 'scheduled', containerId, status: 'active',
    schedule: { cron: '0 9 * * 1-5', timezone: 'America/Toronto', paused: true },
    tasks: [{ name: `b-task-${tag}`, order: 0, patternId, requiresApproval: true }],
  }));
  const user = await userWithRole(t, 'VIEWER', wsB);
  const { apiToken } = await created(await adminB.request('POST', '/api/tokens', { name: `b-token-${tag}`, userId: user.id }));
  const workflowId = await execute(adminB, mission.id);
  const waiting = await waitFor(t, workflowId, (p) => p.status === 'NeedsApproval');
  alertId = (await t.db.owner<{ id: string }[]>`
    insert into alerts (idempotency_key, kind, message, workspace_id, mission_id, workflow_id)
    values (${randomUUID()}, 'mission_failed', ${`b-alert-${tag}`}, ${wsB}, ${mission.id}, ${workflowId}) returning id::text as id`)[0]!.id;
  const own = { containerId, patternId, missionId: mission.id, taskId: waiting.tasks[0]!.id, userId: user.id, tokenId: apiToken.id };
  // B's outreach: a campaign, a lead of it and a draft for the lead, waiting for approval.
  const { campaign } = await created(await adminB.request('POST', '/api/campaigns', { name: `b-campaign-${tag}`, channels: ['EMAIL'] }));
  const { lead } = await created(await adminB.request('POST', '/api/leads', { campaignId: campaign.id, name: `b-lead-${tag}` }));
  const { draft } = await created(await adminB.request('POST', '/api/drafts', { campaignId: campaign.id, leadId: lead.id, channel: 'EMAIL', body: `b-draft-${tag}` }));
  await created(await adminB.request('POST', `/api/drafts/${draft.id}/submit`, {}));
  const { task: item } = await created(await adminB.request('POST', '/api/tasks', { title: `b-work-${tag}`, draftId: draft.id, workflowId, taskId: own.taskId }));
  const { comment } = await created(await adminB.request('POST', '/api/comments', { content: `b-comment-${tag}`, workflowId }));
  const outreach = { campaignId: campaign.id, leadId: lead.id, draftId: draft.id, workItemId: item.id, commentId: comment.id };
  fx = { ...own, workflowId, spare: own, outreach };
  names = [`team-b-${tag}`, `b-lab-${tag}`, `b-pattern-${tag}`, `b-mission-${tag}`, `b-task-${tag}`, user.username, `b-token-${tag}`, `b-alert-${tag}`,
    `b-campaign-${tag}`, `b-lead-${tag}`, `b-draft-${tag}`, `b-work-${tag}`, `b-comment-${tag}`];
  ids = [wsB, ...Object.values(own), workflowId, alertId, ...Object.values(outreach)];
  walkers = await Promise.all(ROLES.map((role) => walker(t, role)));
  // B at rest: its schedule applied in Temporal, its run waiting with nothing in flight and its request recorded.
  const settled = await eventually(async () => {
    const [sync] = await t.db.owner`select schedule_synced_version >= schedule_version and runs_synced_version >= runs_version as ok from mission_sync where mission_id = ${mission.id}`;
    const d = await t.deps.temporal.client.workflow.getHandle(workflowId).describe();
    const last = (await t.deps.temporal.client.workflow.getHandle(workflowId).fetchHistory()).events?.at(-1)?.eventType;
    const [asked] = await t.db.owner`select count(*)::int as n from audit_log where entity_id = ${workflowId} and action = 'approval.requested'`;
    return { sync: !!sync?.ok, pending: d.raw.pendingActivities?.length ?? 0, last: String(last), asked: asked!.n };
  }, (s) => s.sync && s.pending === 0 && /WORKFLOW_TASK_COMPLETED/.test(s.last) && s.asked === 1);
  expect(settled).toMatchObject({ sync: true, pending: 0, asked: 1 });
}, 120_000);
afterAll(async () => env?.close());

const stateOfB = () => workspaceState(t, wsB, [fx.workflowId], [missionScheduleId(fx.missionId)]);
const IDENTIFYING = new Set(['id', 'taskId', 'workflowId', 'missionId']);
const paramsOf = (path: string) => [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
const guessed = new Set<string>();
const guessedPaths = new Set<string>();

/** The value of a path parameter naming B's record: B's own id where B has one, else a B-like id. */
function bValue(name: string, path: string): string {
  const area = /^\/(?:api\/)?(\w+)/.exec(path)?.[1] ?? '';
  const byArea: Record<string, string> = {
    containers: fx.containerId, patterns: fx.patternId, missions: fx.missionId, users: fx.userId, tokens: fx.tokenId, alerts: alertId, workspace: fx.userId,
    settings: /tokens/.test(path) ? fx.tokenId : fx.userId,
    campaigns: fx.outreach!.campaignId, leads: fx.outreach!.leadId, drafts: fx.outreach!.draftId,
    tasks: fx.outreach!.workItemId, work: fx.outreach!.workItemId, comments: fx.outreach!.commentId, // /api/tasks/:id, /work-items/:id
  };
  const value = ({ index: '0', taskId: fx.taskId, version: '1', workflowId: fx.workflowId, missionId: fx.missionId, channel: 'email', name: 'app.css' } as Record<string, string>)[name]
    ?? (name === 'id' ? byArea[area] : undefined);
  if (value) return value;
  guessed.add(`${path} :${name}`);
  guessedPaths.add(path);
  return randomUUID();
}

/** route-bodies' valid bodies over B's fixtures, and the few that name B's workspace itself. */
const bodiesOfB = () => ({ bodies: apiBodies(fx), forms: { ...uiForms(fx), '/workspaces/switch': { workspaceId: wsB } } as Record<string, Record<string, string>> });

type Probe = { route: Route; url: string; body?: string; kind: 'bodiless' | 'empty' | 'valid' };

/** Each route once without a body (or with '{}' / an empty form), and once more with a body that would work in B when one is known. */
function probesOf(routes: Route[]): Probe[] {
  const { bodies, forms } = bodiesOfB();
  return routes.flatMap((route) => {
    const { method, path } = route;
    const url = path.replace(/:(\w+)/g, (_, name: string) => bValue(name, path)).replace(/\*/g, 'x');
    if (method === 'GET' || method === 'DELETE') return [{ route, url, kind: 'bodiless' as const }];
    const jsonPath = isJsonPath(path);
    const out: Probe[] = [{ route, url, body: jsonPath ? '{}' : '', kind: 'empty' }];
    const valid = jsonPath ? bodies[`${method} ${path}`] : forms[path];
    if (valid && Object.keys(valid).length) {
      out.push({ route, url, kind: 'valid', body: jsonPath ? JSON.stringify(valid) : new URLSearchParams(valid as Record<string, string>).toString() });
    }
    return out;
  });
}

const DECIDE = 'POST /runs/:workflowId/decide';
const refusedForRole = (o: Outcome, access: string) => o.status === 403 && o.text.includes(`needs the ${access} role`);
const showsName = (text: string) => names.find((n) => text.includes(n));

describe("workspace A's users, on every route, given workspace B's ids", () => {
  it('are answered 404 (403 below the route\'s role), see none of B in their lists, and change nothing in B', async () => {
    // The agent protocol answers agents only (its isolation is test/agents/agents.test.ts's): users get 401 there.
    const routes = declaredRoutes(t).filter((r) => r.access !== 'agent');
    const withIds = routes.filter((r) => paramsOf(r.path).some((p) => IDENTIFYING.has(p)));
    const workspaceLevel = routes.filter((r) => paramsOf(r.path).length && !withIds.includes(r)); // e.g. a channel of A's own settings
    const lists = routes.filter((r) => r.method === 'GET' && !paramsOf(r.path).length);
    // Routes whose valid body names a B record without a path parameter: they too must find nothing.
    const { bodies, forms } = bodiesOfB();
    const naming = routes.filter((r) => r.method !== 'GET' && !paramsOf(r.path).length && r.path !== '/logout'
      && ids.some((id) => JSON.stringify((isJsonPath(r.path) ? bodies[`${r.method} ${r.path}`] : forms[r.path]) ?? {}).includes(id)));

    const before = await stateOfB();
    const started = performance.now();
    const probes = probesOf([...withIds, ...workspaceLevel, ...naming]).concat(lists.map((route) => ({ route, url: route.path, kind: 'bodiless' as const })));
    const jobs = walkers.flatMap((who) => probes.map((p) => ({ who, p })));
    const outcomes = await pool(jobs, 8, async ({ who, p }) => ({ who, p, o: await sendAs(t, who, p.route.method, p.url, p.body) }));
    const ms = Math.round(performance.now() - started);
    const after = await stateOfB();

    const wrong: string[] = [];
    for (const { who, p, o } of outcomes) {
      const { method, path, access } = p.route;
      const label = `${who.role} ${method} ${path} (${p.kind}) → ${o.status} ${o.text.slice(0, 140)}`;
      const below = ROLE_RANK[who.role] < (ROLE_RANK[access as Role] ?? 0); // 'signed-in' ranks below every role
      const name = showsName(o.text);
      if (name) wrong.push(`shows B's "${name}": ${label}`);
      if (below) {
        if (!refusedForRole(o, access)) wrong.push(`not refused for the role: ${label}`);
      } else if (lists.includes(p.route)) {
        const id = o.status === 200 ? ids.find((x) => o.text.includes(x)) : undefined;
        if (id) wrong.push(`lists B's id ${id}: ${label}`);
        if (o.status >= 500 && path !== '/health/ready') wrong.push(`server error: ${label}`);
      } else if (workspaceLevel.includes(p.route)) {
        if (o.status >= 500) wrong.push(`server error: ${label}`);
      } else if (naming.includes(p.route)) {
        // A batch cancel answers per run: B's run is "not found", as a run that does not exist.
        const batch = method === 'POST' && /^\/(api\/)?runs\/cancel$/.test(path);
        const ok = batch && p.kind === 'valid'
          ? o.status === 200 && (!isJsonPath(path) || JSON.parse(o.text).notFound === 1)
          : o.status >= 400 && o.status < 500;
        if (!ok) wrong.push(`accepted a body naming B's record: ${label}`);
      } else {
        // Given B's id, the record does not exist: 404, whatever the body (an empty body may be refused first, as invalid).
        const hasValid = probes.some((q) => q.route === p.route && q.kind === 'valid');
        const ok = o.status === 404 || (p.kind === 'empty' && hasValid && (o.status === 400 || o.status === 422));
        if (ok) continue;
        wrong.push(`${o.status >= 200 && o.status < 400 ? 'ISOLATION BUG, accepted' : 'not 404'}: ${label}`);
      }
    }
    // The control: the same reads, by B's own admin, find B's records (so the 404s above were about workspaces, not bad ids).
    const reads = probes.filter((p) => p.route.method === 'GET' && withIds.includes(p.route));
    const control = await pool(reads, 8, async (p) => `${(await sendAs(t, ownerB, 'GET', p.url)).status} ${p.route.path}`);
    const found = control.filter((c) => c.startsWith('200 ') || guessedPaths.has(c.slice(4)));
    const changed = Object.keys(before).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
    const apiRoutes = withIds.filter((r) => isJsonPath(r.path)).length;
    console.log(
      `workspace matrix: ${withIds.length} routes with B's ids (${apiRoutes} by token, ${withIds.length - apiRoutes} by session) + ${workspaceLevel.length} workspace-level`
      + ` + ${naming.length} naming B in the body + ${lists.length} lists x ${walkers.length} roles x 2 credentials kinds = ${outcomes.length} requests in ${ms} ms:`
      + ` ${wrong.length + changed.length} leaks${guessed.size ? `; B-like ids for ${[...guessed].join(', ')}` : ''}`,
    );
    console.log(`control: B's admin reads ${found.length} of ${reads.length} of those routes with 200 (or a B-like id); in the body: ${naming.map((r) => `${r.method} ${r.path}`).join(', ')}`);
    expect(withIds.length).toBeGreaterThan(50);
    expect(found).toEqual(control);
    expect(lists.length).toBeGreaterThan(20);
    expect(changed, "B's state changed during the walk").toEqual([]);
    expect(after).toEqual(before);
    expect(wrong).toEqual([]);
    for (const table of ['containers', 'patterns', 'missions', 'alerts', 'events', 'audit_log', 'api_tokens', 'sessions', 'pattern_runs',
      'outbound_messages', 'task_outputs', 'memberships', 'work_items', 'task_events', 'comments']) expect(before.tables).toContain(table);
  }, 120_000);
});

describe("workspace B's run, through Temporal directly", () => {
  it('refuses a decision signal naming an admin of workspace A only, and stays waiting', async () => {
    const outsider = walkers.find((w) => w.role === 'ADMIN')!.username;
    await t.deps.temporal.client.workflow.getHandle(fx.workflowId).signal(decisionSignal, { taskId: fx.taskId, action: 'approve', actor: outsider });
    const refused = await waitFor(t, fx.workflowId, (p) => p.refusedDecisions.length === 1);
    expect(refused.refusedDecisions[0]).toMatchObject({ taskId: fx.taskId, action: 'approve', actor: outsider, reason: expect.stringMatching(/not a member of this run's workspace/) });
    expect(refused.status).toBe('NeedsApproval');
    expect(refused.tasks[0]!.status).not.toBe('completed');
    const audited = await eventually(
      async () => t.db.owner<{ ws: string }[]>`select workspace_id::text as ws from audit_log where entity_id = ${fx.workflowId} and action = 'approval.refused'`,
      (rows) => rows.length > 0,
    );
    expect(audited).toEqual([{ ws: wsB }]);
  });
});

describe("the decision form, given B's run", () => {
  const decide = (workflowId: string, from: string, hx: boolean) => sendAs(t, walkers.find((w) => w.role === 'ADMIN')!, 'POST', `/runs/${workflowId}/decide`,
    new URLSearchParams({ taskId: fx.taskId, action: 'approve', from }).toString(), hx ? { 'HX-Request': 'true' } : {});
  const mask = (o: Outcome, id: string) => ({ ...o, text: o.text.replaceAll(id, ':run').replace(/name="_csrf" value="[^"]+"/g, '') });

  it('answers as for a run that does not exist, with htmx, and leaves the run waiting', async () => {
    const none = `mission-${randomUUID()}-x`;
    for (const from of ['inbox', 'run']) {
      const [b, missing] = [await decide(fx.workflowId, from, true), await decide(none, from, true)];
      expect(mask(b, fx.workflowId), from).toEqual(mask(missing, none));
      expect(b.status, from).toBe(from === 'run' ? 404 : 200); // the inbox shows the refusal in its fragment
      expect(showsName(b.text)).toBeUndefined();
    }
    expect(await waitFor(t, fx.workflowId, () => true)).toMatchObject({ status: 'NeedsApproval', refusedDecisions: [expect.anything()] });
  });

  // Without htmx, a refused decision is a page that says why, with its status: never the 303 of a decision made.
  it('answers 404 without htmx too, not the 303 of a decision made', async () => {
    const b = await decide(fx.workflowId, 'inbox', false);
    expect(`${b.status} ${b.location}`, `${DECIDE} without HX-Request, given B's run`).toBe('404 null');
  });
});


// Walking every route of the app with one user's credentials, and a snapshot of
// everything a workspace holds (its rows in PostgreSQL, its runs and schedules in
// Temporal) to prove that a walk changed nothing there.
import { ACCESS, type Access } from '../../api/middleware/authorize';
import { isJsonPath } from '../../api/context';
import { ORIGIN, signIn, userWithRole, type TestApp } from './app';
import type { Role } from '../../lib/names';
import type { Fragment } from 'postgres';

export type Route = { method: string; path: string; access: Exclude<Access, 'public'> };

/** Every route of the app that declares a non-public access, once per method and path. */
export function declaredRoutes(t: TestApp): Route[] {
  const routes = new Map<string, Route>();
  for (const r of t.app.routes) {
    const access = (r.handler as { [ACCESS]?: Access })[ACCESS];
    if (r.method === 'ALL' || !access || access === 'public') continue;
    routes.set(`${r.method} ${r.path}`, { method: r.method, path: r.path, access });
  }
  return [...routes.values()];
}

/** A user of a role with both kinds of credentials: a token for JSON paths, a session (with its CSRF token) for pages. */
export interface Walker { role: Role; username: string; token: string; cookie: string; csrf: string }

export async function walker(t: TestApp, role: Role, ws: string = t.ws): Promise<Walker> {
  const user = await userWithRole(t, role, ws);
  const { cookie, csrf } = await signIn(t, user.username, user.password);
  return { role, username: user.username, token: user.token, cookie, csrf };
}

export type Outcome = { status: number; type: string; location: string | null; text: string };

/** Sends one request as `who`; `body` is a JSON string for JSON paths, a form (or '') for pages. A stream is hung up at once: its status is the answer. */
export async function sendAs(t: TestApp, who: Walker, method: string, url: string, body?: string, extra: Record<string, string> = {}): Promise<Outcome> {
  const json = isJsonPath(url.split('?')[0]!);
  const headers: Record<string, string> = json
    ? { Authorization: `Bearer ${who.token}` }
    : { Cookie: who.cookie, Origin: ORIGIN, 'X-CSRF-Token': who.csrf };
  if (body !== undefined) headers['Content-Type'] = json ? 'application/json' : 'application/x-www-form-urlencoded';
  Object.assign(headers, extra);
  const res = await t.app.request(url, { method, headers, body });
  const type = res.headers.get('content-type') ?? '';
  const location = res.headers.get('location');
  if (type.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, type, location, text: '' };
  }
  return { status: res.status, type, location, text: await res.text() };
}

export async function pool<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: size }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  }));
  return results;
}

/**
 * Everything workspace `ws` holds: per table that carries workspace_id, its rows there (count and a digest of the
 * rows' text); the rows of its missions', patterns' and members' own tables; its missions', patterns' and
 * containers' status and updated_at (readable in a diff); and, in Temporal, each run's history (length, last
 * event, status) and each schedule's state.
 */
export async function workspaceState(t: TestApp, ws: string, runs: string[], schedules: string[]): Promise<Record<string, unknown>> {
  const sql = t.db.owner;
  const digest = async (table: string, where: Fragment) =>
    (await sql<{ n: number; h: string }[]>`
      select count(*)::int as n, md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as h from ${sql(table)} x where ${where}`)[0];
  const tables = (await sql<{ name: string }[]>`
    select c.table_name as name from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
    where c.column_name = 'workspace_id' and c.table_schema = current_schema() order by 1`).map((r) => r.name);
  const state: Record<string, unknown> = { tables };
  for (const table of tables) state[table] = await digest(table, sql`workspace_id = ${ws}`);
  const missions = sql`mission_id in (select id from missions where workspace_id = ${ws})`;
  const patterns = sql`pattern_id in (select id from patterns where workspace_id = ${ws})`;
  state.workspaces = await digest('workspaces', sql`id = ${ws}`);
  state.users = await digest('users', sql`id in (select user_id from memberships where workspace_id = ${ws})`);
  state.mission_tasks = await digest('mission_tasks', missions);
  state.mission_sync = await digest('mission_sync', missions);
  state.trigger_deliveries = await digest('trigger_deliveries', missions);
  state.pattern_versions = await digest('pattern_versions', patterns);
  state.pattern_live_stats = await digest('pattern_live_stats', patterns); // the rollup may move tallies, never change sums
  for (const table of ['missions', 'patterns', 'containers'] as const) {
    const status = table === 'missions' ? sql`status` : sql`is_active::text`;
    state[`${table}.rows`] = await sql`select id, ${status} as status, updated_at from ${sql(table)} where workspace_id = ${ws} order by id`;
  }
  for (const id of runs) {
    const handle = t.deps.temporal.client.workflow.getHandle(id);
    const [described, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
    const last = history.events?.at(-1);
    state[`run ${id}`] = { status: described.status.name, length: described.historyLength, lastEvent: last?.eventType, lastEventId: String(last?.eventId) };
  }
  for (const id of schedules) {
    const d = await t.deps.temporal.client.schedule.getHandle(id).describe();
    state[`schedule ${id}`] = { paused: d.state.paused, note: d.state.note, actions: d.info.numActionsTaken, updated: d.info.lastUpdatedAt?.toISOString() ?? null };
  }
  return state;
}

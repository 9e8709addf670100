// The real Hono app over a test database and the shared Temporal server,
// driven with app.request(); plus sign-in helpers for each role.
import { createApp } from '../../api/app';
import { createAdapters } from '../../activities/adapters';
import { createSandbox } from '../../activities/sandbox';
import type { AppDeps } from '../../api/context';
import { createApiToken } from '../../core/access/tokens';
import { actorOf, createUser } from '../../core/access/users';
import type { Config } from '../../lib/config';
import type { Role } from '../../lib/names';
import { createTemporalClient } from '../../lib/temporal';
import { eventStreamOf } from '../../core/events/stream';
import { ADMIN_PASSWORD, createTestDatabase, testConfig, testLogger, uniqueName, type TestDatabase } from './env';

export interface TestApp {
  app: ReturnType<typeof createApp>['app'];
  deps: AppDeps;
  db: TestDatabase;
  config: Config;
  /** The default workspace's id: the one workspace every test database starts with. */
  ws: string;
  close(): Promise<void>;
}

export async function createTestApp(overrides: Record<string, string> = {}): Promise<TestApp> {
  const config = testConfig(overrides);
  const logger = testLogger();
  const db = await createTestDatabase(config, logger);
  const temporal = createTemporalClient({ address: config.TEMPORAL_ADDRESS!, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE, sql: db.sql });
  const sandbox = createSandbox(config);
  const deps: AppDeps = { sql: db.sql, temporal, logger, config, sessionSecret: db.sessionSecret, startedAt: new Date(), sandbox, adapters: createAdapters(config) };
  const { app } = createApp(deps);
  const ws = await defaultWorkspaceId(db.sql);
  return {
    app,
    deps,
    db,
    config,
    ws,
    async close() {
      await eventStreamOf(db.sql, logger).stop();
      await temporal.connection.close();
      await sandbox.close();
      await db.close();
    },
  };
}

/** The id of the workspace every database starts with (db/migrations/0008_workspaces.sql). */
export async function defaultWorkspaceId(sql: TestDatabase['sql']): Promise<string> {
  const [{ id }] = (await sql`select id from workspaces where is_default`) as [{ id: string }];
  return id;
}

export const ORIGIN = 'http://localhost';

export interface Browser {
  cookie: string;
  csrf: string;
  get(path: string, init?: RequestInit): Promise<Response>;
  post(path: string, form: Record<string, string>, init?: { headers?: Record<string, string> }): Promise<Response>;
}

/** Signs in through the real login form and returns a cookie-carrying client. */
export async function signIn(t: TestApp, username: string, password: string): Promise<Browser> {
  const res = await t.app.request('/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: ORIGIN },
    body: new URLSearchParams({ username, password, next: '/status' }),
  });
  if (res.status !== 303) throw new Error(`sign-in as ${username} failed with ${res.status}`);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  const page = await (await t.app.request('/status', { headers: { Cookie: cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  const browser: Browser = {
    cookie,
    csrf,
    get: async (path, init = {}) => t.app.request(path, { ...init, headers: { Cookie: cookie, ...(init.headers as Record<string, string>) } }),
    post: async (path, form, init = {}) =>
      t.app.request(path, {
        method: 'POST',
        headers: { Cookie: cookie, Origin: ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded', ...init.headers },
        body: new URLSearchParams({ _csrf: csrf, ...form }),
      }),
  };
  return browser;
}

export interface ApiClient {
  token: string;
  request(method: string, path: string, body?: unknown): Promise<Response>;
}

export function apiClient(t: TestApp, token: string): ApiClient {
  return {
    token,
    request: async (method, path, body) =>
      t.app.request(path, {
        method,
        headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
  };
}

/** A user of the given role in a workspace (the default one unless named), with a password and an API token acting there. */
export async function userWithRole(t: TestApp, role: Role, ws: string = t.ws): Promise<{ username: string; password: string; token: string; id: string }> {
  const username = uniqueName(role.toLowerCase());
  const password = `${role.toLowerCase()}-password-123`;
  const system = { id: null, name: 'test' };
  const user = await createUser(t.db.sql, { username, password, role }, system, { id: ws });
  const { token } = await createApiToken(t.db.sql, { userId: user.id, name: 'test' }, actorOf(user), { id: ws });
  return { username, password, token, id: user.id };
}

export { ADMIN_PASSWORD };

/** A response body as JSON, typed loosely for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function json(res: Response): Promise<any> {
  return res.json();
}

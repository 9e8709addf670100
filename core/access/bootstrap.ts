// First start: the first admin (an ADMIN of the default workspace, and its
// owner) and the session-signing secret. Safe when several processes start at
// once: only the one whose insert wins reports it.
import type { Sql } from '../../db/sql';
import { SYSTEM_ACTOR, appendAudit } from '../audit/audit-log';
import { hashPassword, randomSecret } from './credentials';
import { insertApiToken, validateTokenValue } from './tokens';
import { validatePassword } from './users';

export interface BootstrapResult {
  /** Set only when this call created the first admin. */
  createdAdmin?: {
    username: string;
    /** Generated values, shown once; absent when they came from the environment. */
    generatedPassword?: string;
    generatedToken?: string;
  };
}

export async function ensureAdmin(
  sql: Sql,
  opts: { username: string; password?: string; token?: string },
): Promise<BootstrapResult> {
  if (opts.password) validatePassword(opts.password);
  if (opts.token) validateTokenValue(opts.token);
  const [{ exists }] = (await sql`select exists (select 1 from users) as exists`) as [{ exists: boolean }];
  if (exists) return {};
  const password = opts.password ?? randomSecret(18);
  const passwordHash = await hashPassword(password);
  const created = await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(727003)`;
    const [{ count }] = (await tx`select count(*)::int as count from users`) as [{ count: number }];
    if (count > 0) return null;
    const [user] = await tx<{ id: string }[]>`
      insert into users (username, password_hash, role) values (${opts.username}, ${passwordHash}, 'ADMIN')
      returning id`;
    const [ws] = await tx<{ id: string }[]>`
      update workspaces set owner_user_id = coalesce(owner_user_id, ${user!.id}), updated_at = now()
      where is_default
      returning id`;
    if (!ws) throw new Error('The default workspace is missing: run the database migrations first.');
    await tx`insert into memberships (workspace_id, user_id, role) values (${ws.id}, ${user!.id}, 'ADMIN')`;
    await appendAudit(tx, {
      actor: SYSTEM_ACTOR, action: 'user.created', entityType: 'user', entityId: user!.id,
      details: { username: opts.username, role: 'ADMIN', bootstrap: true },
    });
    const { token } = await insertApiToken(tx, { userId: user!.id, name: 'bootstrap', token: opts.token }, SYSTEM_ACTOR, ws);
    return { token };
  });
  if (!created) return {};
  const token = created.token;
  return {
    createdAdmin: {
      username: opts.username,
      ...(opts.password ? {} : { generatedPassword: password }),
      ...(opts.token ? {} : { generatedToken: token }),
    },
  };
}

/** The secret that signs session cookies: from the environment, else generated once and kept in the database. */
export function sessionSecret(sql: Sql, fromEnv?: string): Promise<string> {
  return instanceSecret(sql, 'session_secret', fromEnv);
}

/** A secret of this instance: from the environment, else generated once and kept in the settings table under `key`. */
export async function instanceSecret(sql: Sql, key: string, fromEnv?: string): Promise<string> {
  if (fromEnv) return fromEnv;
  await sql`
    insert into settings (key, value) values (${key}, ${sql.json(randomSecret(48))})
    on conflict (key) do nothing`;
  const [row] = await sql<{ value: string }[]>`select value from settings where key = ${key}`;
  return row!.value;
}

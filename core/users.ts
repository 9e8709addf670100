// People and access: users with roles, argon2id passwords, server-side
// sessions and hashed API tokens. Every change here is audited.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import type { Sql, TxSql } from '../db/sql';
import { ConflictError, NotFoundError, ValidationError } from '../lib/errors';
import { ROLES, type Role } from '../lib/names';
import { appendAudit, type Actor } from './audit';

export interface User {
  id: string;
  username: string;
  displayName: string | null;
  role: Role;
  disabled: boolean;
  createdAt: Date;
}

export interface ApiToken {
  id: string;
  userId: string;
  username: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const TOKEN_PREFIX = 'mc_';

const userColumns = (sql: TxSql) =>
  sql`id, username, display_name as "displayName", role, disabled, created_at as "createdAt"`;

export function actorOf(user: Pick<User, 'id' | 'username'>): Actor {
  return { id: user.id, name: user.username };
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export async function hashPassword(password: string): Promise<string> {
  // argon2id with OWASP's baseline parameters (19 MiB, 2 passes).
  return argonHash(password, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
}

// Verified against when the username is unknown, so timing does not reveal which usernames exist.
let dummyHash: Promise<string> | undefined;

export async function checkPassword(sql: TxSql, username: string, password: string): Promise<User | null> {
  const [row] = await sql<(User & { passwordHash: string | null })[]>`
    select ${userColumns(sql)}, password_hash as "passwordHash"
    from users where lower(username) = lower(${username})`;
  const stored = row?.passwordHash ?? (await (dummyHash ??= hashPassword(randomSecret())));
  const ok = await argonVerify(stored, password).catch(() => false);
  if (!ok || !row || !row.passwordHash || row.disabled) return null;
  const { passwordHash: _omit, ...user } = row;
  return user;
}

export function validatePassword(password: string): void {
  if (password.length < 10) throw new ValidationError('Passwords must be at least 10 characters long.');
  if (password.length > 256) throw new ValidationError('Passwords must be at most 256 characters long.');
}

export async function createUser(
  sql: Sql,
  input: { username: string; password?: string; role: Role; displayName?: string },
  actor: Actor,
): Promise<User> {
  if (!ROLES.includes(input.role)) throw new ValidationError(`Unknown role ${input.role}.`);
  if (input.password !== undefined) validatePassword(input.password);
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  return sql.begin(async (tx) => {
    const [user] = await tx<User[]>`
      insert into users (username, display_name, password_hash, role)
      values (${input.username}, ${input.displayName ?? null}, ${passwordHash}, ${input.role})
      on conflict do nothing
      returning ${userColumns(tx)}`;
    if (!user) throw new ConflictError(`A user named ${input.username} already exists.`);
    await appendAudit(tx, {
      actor, action: 'user.created', entityType: 'user', entityId: user.id,
      details: { username: user.username, role: user.role },
    });
    return user;
  });
}

export async function listUsers(sql: TxSql): Promise<User[]> {
  return sql<User[]>`select ${userColumns(sql)} from users order by lower(username)`;
}

export async function getUser(sql: TxSql, id: string): Promise<User | null> {
  const [user] = await sql<User[]>`select ${userColumns(sql)} from users where id = ${id}`;
  return user ?? null;
}

export async function updateUser(
  sql: Sql,
  id: string,
  patch: { role?: Role; disabled?: boolean; password?: string },
  actor: Actor,
): Promise<User> {
  if (patch.password !== undefined) validatePassword(patch.password);
  const passwordHash = patch.password === undefined ? undefined : await hashPassword(patch.password);
  return sql.begin(async (tx) => {
    const [before] = await tx<User[]>`select ${userColumns(tx)} from users where id = ${id} for update`;
    if (!before) throw new NotFoundError('User');
    if (before.role === 'ADMIN' && (patch.disabled || (patch.role && patch.role !== 'ADMIN'))) {
      const [{ admins }] = (await tx`
        select count(*)::int as admins from users where role = 'ADMIN' and not disabled and id <> ${id}`) as [{ admins: number }];
      if (admins === 0) throw new ConflictError('This is the last active admin; make another admin first.');
    }
    const [user] = await tx<User[]>`
      update users set
        role = ${patch.role ?? before.role},
        disabled = ${patch.disabled ?? before.disabled},
        password_hash = coalesce(${passwordHash ?? null}, password_hash),
        updated_at = now()
      where id = ${id}
      returning ${userColumns(tx)}`;
    if (patch.disabled) await tx`delete from sessions where user_id = ${id}`;
    await appendAudit(tx, {
      actor, action: 'user.updated', entityType: 'user', entityId: id,
      details: {
        ...(patch.role && patch.role !== before.role ? { role: { from: before.role, to: patch.role } } : {}),
        ...(patch.disabled !== undefined && patch.disabled !== before.disabled ? { disabled: patch.disabled } : {}),
        ...(patch.password !== undefined ? { passwordChanged: true } : {}),
      },
    });
    return user!;
  });
}

// ---- sessions -------------------------------------------------------------

export interface Session {
  user: User;
  csrfToken: string;
  expiresAt: Date;
}

export async function createSession(sql: TxSql, userId: string): Promise<{ sessionId: string; csrfToken: string }> {
  const sessionId = randomSecret();
  const csrfToken = randomSecret();
  await sql`
    insert into sessions (id_hash, user_id, csrf_token, expires_at)
    values (${sha256(sessionId)}, ${userId}, ${csrfToken}, ${new Date(Date.now() + SESSION_TTL_MS)})`;
  return { sessionId, csrfToken };
}

export async function getSession(sql: TxSql, sessionId: string): Promise<Session | null> {
  const [row] = await sql<(User & { csrfToken: string; expiresAt: Date })[]>`
    select u.id, u.username, u.display_name as "displayName", u.role, u.disabled, u.created_at as "createdAt",
           s.csrf_token as "csrfToken", s.expires_at as "expiresAt"
    from sessions s join users u on u.id = s.user_id
    where s.id_hash = ${sha256(sessionId)} and s.expires_at > now() and not u.disabled`;
  if (!row) return null;
  const { csrfToken, expiresAt, ...user } = row;
  return { user, csrfToken, expiresAt };
}

export async function deleteSession(sql: TxSql, sessionId: string): Promise<void> {
  await sql`delete from sessions where id_hash = ${sha256(sessionId)} or expires_at < now()`;
}

export function csrfTokensMatch(expected: string, given: string | undefined | null): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

// ---- API tokens -------------------------------------------------------------

/** When a token made now for `days` days stops working (null: never). */
export function expiryAfterDays(days: number | undefined): Date | null {
  return days ? new Date(Date.now() + days * 86_400_000) : null;
}

export function validateTokenValue(token: string): void {
  if (token.length < 24 || token.length > 512) throw new ValidationError('API tokens must be 24 to 512 characters long.');
}

/** Creates a token inside the caller's transaction; returns the plaintext, shown once. */
export async function insertApiToken(
  tx: TxSql,
  input: { userId: string; name: string; expiresAt?: Date | null; token?: string },
  actor: Actor,
): Promise<{ token: string; apiToken: ApiToken }> {
  const token = input.token ?? TOKEN_PREFIX + randomSecret();
  validateTokenValue(token);
  const owner = await getUser(tx, input.userId);
  if (!owner) throw new NotFoundError('User');
  const [row] = await tx<{ id: string }[]>`
    insert into api_tokens (user_id, name, token_hash, prefix, created_by, expires_at)
    values (${input.userId}, ${input.name}, ${sha256(token)}, ${token.slice(0, 8)}, ${actor.id},
            ${input.expiresAt ?? null})
    returning id`;
  await appendAudit(tx, {
    actor, action: 'token.created', entityType: 'api_token', entityId: row!.id,
    details: { name: input.name, user: owner.username, prefix: token.slice(0, 8) },
  });
  const [apiToken] = await listApiTokens(tx, { id: row!.id });
  return { token, apiToken: apiToken! };
}

export async function createApiToken(
  sql: Sql,
  input: { userId: string; name: string; expiresAt?: Date | null; token?: string },
  actor: Actor,
): Promise<{ token: string; apiToken: ApiToken }> {
  return sql.begin((tx) => insertApiToken(tx, input, actor));
}

export async function listApiTokens(sql: TxSql, filter: { id?: string; userId?: string } = {}): Promise<ApiToken[]> {
  return sql<ApiToken[]>`
    select t.id, t.user_id as "userId", u.username, t.name, t.prefix, t.created_at as "createdAt",
           t.last_used_at as "lastUsedAt", t.expires_at as "expiresAt", t.revoked_at as "revokedAt"
    from api_tokens t join users u on u.id = t.user_id
    where true
      ${filter.id ? sql`and t.id = ${filter.id}` : sql``}
      ${filter.userId ? sql`and t.user_id = ${filter.userId}` : sql``}
    order by t.created_at desc`;
}

export async function revokeApiToken(sql: Sql, id: string, actor: Actor): Promise<void> {
  await sql.begin(async (tx) => {
    const [row] = await tx<{ name: string; revoked: boolean }[]>`
      update api_tokens set revoked_at = coalesce(revoked_at, now())
      where id = ${id}
      returning name, (revoked_at < now()) as revoked`;
    if (!row) throw new NotFoundError('API token');
    if (row.revoked) return; // already revoked: nothing changes, nothing to audit
    await appendAudit(tx, { actor, action: 'token.revoked', entityType: 'api_token', entityId: id, details: { name: row.name } });
  });
}

export async function authenticateToken(sql: TxSql, token: string): Promise<User | null> {
  if (token.length < 24 || token.length > 512) return null;
  const [row] = await sql<(User & { tokenId: string; stale: boolean })[]>`
    select u.id, u.username, u.display_name as "displayName", u.role, u.disabled, u.created_at as "createdAt",
           t.id as "tokenId", (t.last_used_at is null or t.last_used_at < now() - interval '1 minute') as stale
    from api_tokens t join users u on u.id = t.user_id
    where t.token_hash = ${sha256(token)}
      and t.revoked_at is null and (t.expires_at is null or t.expires_at > now()) and not u.disabled`;
  if (!row) return null;
  const { tokenId, stale, ...user } = row;
  // Recorded at most once a minute, so API traffic does not turn into a write per request.
  if (stale) await sql`update api_tokens set last_used_at = now() where id = ${tokenId}`;
  return user;
}

// Server-side sessions behind the signed cookie: created at sign-in, read on
// every request, deleted at sign-out (expired ones with them).
import type { TxSql } from '../../db/sql';
import { randomSecret, sha256 } from './credentials';
import type { User } from './users';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

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

// Server-side sessions behind the signed cookie: created at sign-in, read on
// every request, deleted at sign-out (expired ones with them). A session acts
// in one workspace, and the user's role there is read on every request.
import type { TxSql } from '../../db/sql';
import { randomSecret, sha256 } from './credentials';
import {
  memberWorkspace, signedInAs, workspaceColumns, workspaceIdOf,
  type Account, type MemberWorkspace, type SignedInUser, type WorkspaceColumns, type WorkspaceRef,
} from './users';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface Session {
  /** Their role is the one in `workspace` (null with it). */
  user: SignedInUser;
  /** The session's workspace, or null once the user is no longer a member of it (or it was archived). */
  workspace: MemberWorkspace | null;
  csrfToken: string;
  expiresAt: Date;
}

/** Where a sign-in lands: the default workspace if the user is a member of it, else their oldest membership. */
export async function loginWorkspace(sql: TxSql, userId: string): Promise<MemberWorkspace | null> {
  const [row] = await sql<WorkspaceColumns[]>`
    select ${workspaceColumns(sql)}
    from memberships m join workspaces w on w.id = m.workspace_id and w.archived_at is null
    where m.user_id = ${userId}
    order by w.is_default desc, m.created_at, w.created_at, w.id
    limit 1`;
  return row ? memberWorkspace(row) : null;
}

export async function createSession(sql: TxSql, userId: string, ws?: WorkspaceRef): Promise<{ sessionId: string; csrfToken: string }> {
  const sessionId = randomSecret();
  const csrfToken = randomSecret();
  await sql`
    insert into sessions (id_hash, user_id, csrf_token, expires_at, workspace_id)
    values (${sha256(sessionId)}, ${userId}, ${csrfToken}, ${new Date(Date.now() + SESSION_TTL_MS)}, ${workspaceIdOf(sql, ws)})`;
  return { sessionId, csrfToken };
}

export async function getSession(sql: TxSql, sessionId: string): Promise<Session | null> {
  const [row] = await sql<(Account & WorkspaceColumns & { csrfToken: string; expiresAt: Date })[]>`
    select u.id, u.username, u.display_name as "displayName", u.disabled, u.created_at as "createdAt",
           s.csrf_token as "csrfToken", s.expires_at as "expiresAt", ${workspaceColumns(sql)}
    from sessions s
    join users u on u.id = s.user_id
    left join (memberships m join workspaces w on w.id = m.workspace_id and w.archived_at is null)
      on m.workspace_id = s.workspace_id and m.user_id = s.user_id
    where s.id_hash = ${sha256(sessionId)} and s.expires_at > now() and not u.disabled`;
  if (!row) return null;
  return { ...signedInAs(row), csrfToken: row.csrfToken, expiresAt: row.expiresAt };
}

/** The session acts in another workspace from its next request (the caller checked the user is a member there). */
export async function switchSessionWorkspace(sql: TxSql, sessionId: string, ws: WorkspaceRef): Promise<void> {
  await sql`update sessions set workspace_id = ${ws.id} where id_hash = ${sha256(sessionId)}`;
}

export async function deleteSession(sql: TxSql, sessionId: string): Promise<void> {
  await sql`delete from sessions where id_hash = ${sha256(sessionId)} or expires_at < now()`;
}

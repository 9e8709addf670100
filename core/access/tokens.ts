// API tokens: stored as SHA-256 hashes, shown once, revocable, audited. A
// token acts in the one workspace it was made in, with its user's role there.
import type { Sql, TxSql } from '../../db/sql';
import { NotFoundError, ValidationError } from '../../lib/errors';
import { appendAudit, type Actor } from '../audit/audit-log';
import { randomSecret, sha256 } from './credentials';
import {
  getUser, signedInAs, workspaceColumns, workspaceIdOf,
  type Account, type MemberWorkspace, type SignedInUser, type WorkspaceColumns, type WorkspaceRef,
} from './users';

const TOKEN_PREFIX = 'mc_';

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

/** When a token made now for `days` days stops working (null: never). */
export function expiryAfterDays(days: number | undefined): Date | null {
  return days ? new Date(Date.now() + days * 86_400_000) : null;
}

export function validateTokenValue(token: string): void {
  if (token.length < 24 || token.length > 512) throw new ValidationError('API tokens must be 24 to 512 characters long.');
}

/**
 * Creates a token inside the caller's transaction, acting in the workspace given (its user must be a
 * member there; anyone else is not found); returns the plaintext, shown once.
 */
export async function insertApiToken(
  tx: TxSql,
  input: { userId: string; name: string; expiresAt?: Date | null; token?: string },
  actor: Actor,
  ws?: WorkspaceRef,
): Promise<{ token: string; apiToken: ApiToken }> {
  const token = input.token ?? TOKEN_PREFIX + randomSecret();
  validateTokenValue(token);
  const owner = await getUser(tx, input.userId, ws);
  if (!owner) throw new NotFoundError('User');
  const [row] = await tx<{ id: string }[]>`
    insert into api_tokens (user_id, name, token_hash, prefix, created_by, expires_at, workspace_id)
    values (${input.userId}, ${input.name}, ${sha256(token)}, ${token.slice(0, 8)}, ${actor.id},
            ${input.expiresAt ?? null}, ${workspaceIdOf(tx, ws)})
    returning id`;
  await appendAudit(tx, {
    actor, action: 'token.created', entityType: 'api_token', entityId: row!.id,
    details: { name: input.name, user: owner.username, prefix: token.slice(0, 8) }, workspaceId: ws?.id,
  });
  const [apiToken] = await listApiTokens(tx, { id: row!.id }, ws);
  return { token, apiToken: apiToken! };
}

export async function createApiToken(
  sql: Sql,
  input: { userId: string; name: string; expiresAt?: Date | null; token?: string },
  actor: Actor,
  ws?: WorkspaceRef,
): Promise<{ token: string; apiToken: ApiToken }> {
  return sql.begin((tx) => insertApiToken(tx, input, actor, ws));
}

/** The tokens that act in the workspace. */
export async function listApiTokens(sql: TxSql, filter: { id?: string; userId?: string } = {}, ws?: WorkspaceRef): Promise<ApiToken[]> {
  return sql<ApiToken[]>`
    select t.id, t.user_id as "userId", u.username, t.name, t.prefix, t.created_at as "createdAt",
           t.last_used_at as "lastUsedAt", t.expires_at as "expiresAt", t.revoked_at as "revokedAt"
    from api_tokens t join users u on u.id = t.user_id
    where t.workspace_id = ${workspaceIdOf(sql, ws)}
      ${filter.id ? sql`and t.id = ${filter.id}` : sql``}
      ${filter.userId ? sql`and t.user_id = ${filter.userId}` : sql``}
    order by t.created_at desc`;
}

export async function revokeApiToken(sql: Sql, id: string, actor: Actor, ws?: WorkspaceRef): Promise<void> {
  await sql.begin(async (tx) => {
    const [row] = await tx<{ name: string; revoked: boolean; workspaceId: string }[]>`
      update api_tokens set revoked_at = coalesce(revoked_at, now())
      where id = ${id} and workspace_id = ${workspaceIdOf(tx, ws)}
      returning name, (revoked_at < now()) as revoked, workspace_id as "workspaceId"`;
    if (!row) throw new NotFoundError('API token');
    if (row.revoked) return; // already revoked: nothing changes, nothing to audit
    await appendAudit(tx, { actor, action: 'token.revoked', entityType: 'api_token', entityId: id, details: { name: row.name }, workspaceId: row.workspaceId });
  });
}

/**
 * The token's user and workspace, with their role there read now, so a role change or a removal
 * counts from the next request; null for a token that is unknown, revoked, expired or whose user is disabled.
 */
export async function authenticateToken(sql: TxSql, token: string): Promise<{ user: SignedInUser; workspace: MemberWorkspace | null } | null> {
  if (token.length < 24 || token.length > 512) return null;
  const [row] = await sql<(Account & WorkspaceColumns & { tokenId: string; stale: boolean })[]>`
    select u.id, u.username, u.display_name as "displayName", u.disabled, u.created_at as "createdAt", ${workspaceColumns(sql)},
           t.id as "tokenId", (t.last_used_at is null or t.last_used_at < now() - interval '1 minute') as stale
    from api_tokens t
    join users u on u.id = t.user_id
    left join (memberships m join workspaces w on w.id = m.workspace_id and w.archived_at is null)
      on m.workspace_id = t.workspace_id and m.user_id = t.user_id
    where t.token_hash = ${sha256(token)}
      and t.revoked_at is null and (t.expires_at is null or t.expires_at > now()) and not u.disabled`;
  if (!row) return null;
  // Recorded at most once a minute, so API traffic does not turn into a write per request.
  if (row.stale) await sql`update api_tokens set last_used_at = now() where id = ${row.tokenId}`;
  return signedInAs(row);
}

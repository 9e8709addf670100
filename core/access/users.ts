// People: accounts with argon2id passwords, and their role in each workspace
// they are a member of (memberships). Every change is audited.
import { verify as argonVerify } from '@node-rs/argon2';
import type { Sql, TxSql } from '../../db/sql';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import { ROLES, type Role } from '../../lib/names';
import { appendAudit, type Actor } from '../audit/audit-log';
import { hashPassword, randomSecret } from './credentials';

/** An account: global, one per person, whatever workspaces they are in. */
export interface Account {
  id: string;
  username: string;
  displayName: string | null;
  disabled: boolean;
  createdAt: Date;
}

/** A member of a workspace: the account and its role in the workspace it was read in. */
export interface User extends Account {
  role: Role;
}

/** The signed-in caller: their role in the request's workspace, null when they are no longer a member of it. */
export interface SignedInUser extends Account {
  role: Role | null;
}

/** The workspace a function acts in; functions that take none act in the default workspace. */
export interface WorkspaceRef {
  id: string;
}

/** A workspace as one of its members sees it: with their role there. */
export interface MemberWorkspace {
  id: string;
  name: string;
  isDefault: boolean;
  role: Role;
}

/** The id of the workspace named, or the default one (only it exists until workspaces can be made). */
export const workspaceIdOf = (sql: TxSql, ws?: WorkspaceRef) => sql`coalesce(${ws?.id ?? null}::uuid, mc_default_workspace())`;

const accountColumns = (sql: TxSql) =>
  sql`u.id, u.username, u.display_name as "displayName", u.disabled, u.created_at as "createdAt"`;
const memberColumns = (sql: TxSql) => sql`${accountColumns(sql)}, m.role`;

/** Columns naming a left-joined membership `m` and workspace `w` (null when there is none), for memberWorkspace(). */
export const workspaceColumns = (sql: TxSql) =>
  sql`w.id as "workspaceId", w.name as "workspaceName", w.is_default as "workspaceIsDefault", m.role as "workspaceRole"`;

export interface WorkspaceColumns {
  workspaceId: string | null;
  workspaceName: string | null;
  workspaceIsDefault: boolean | null;
  workspaceRole: Role | null;
}

export function memberWorkspace(r: WorkspaceColumns): MemberWorkspace | null {
  if (!r.workspaceId || !r.workspaceRole) return null;
  return { id: r.workspaceId, name: r.workspaceName ?? '', isDefault: r.workspaceIsDefault === true, role: r.workspaceRole };
}

/** A session's or a token's row as the caller and the workspace they act in, with their role there. */
export function signedInAs(r: Account & WorkspaceColumns): { user: SignedInUser; workspace: MemberWorkspace | null } {
  const workspace = memberWorkspace(r);
  const { id, username, displayName, disabled, createdAt } = r;
  return { user: { id, username, displayName, disabled, createdAt, role: workspace?.role ?? null }, workspace };
}

export function actorOf(user: Pick<Account, 'id' | 'username'>): Actor {
  return { id: user.id, name: user.username };
}

// Verified against when the username is unknown, so timing does not reveal which usernames exist.
let dummyHash: Promise<string> | undefined;

/** The account, when the password is right and the account enabled; which workspace it acts in is the caller's choice. */
export async function checkPassword(sql: TxSql, username: string, password: string): Promise<Account | null> {
  const [row] = await sql<(Account & { passwordHash: string | null })[]>`
    select ${accountColumns(sql)}, u.password_hash as "passwordHash"
    from users u where lower(u.username) = lower(${username})`;
  const stored = row?.passwordHash ?? (await (dummyHash ??= hashPassword(randomSecret())));
  const ok = await argonVerify(stored, password).catch(() => false);
  if (!ok || !row || !row.passwordHash || row.disabled) return null;
  const { passwordHash: _omit, ...account } = row;
  return account;
}

export function validatePassword(password: string): void {
  if (password.length < 10) throw new ValidationError('Passwords must be at least 10 characters long.');
  if (password.length > 256) throw new ValidationError('Passwords must be at most 256 characters long.');
}

/**
 * A new account, made a member of the workspace with the role given. users.role still mirrors the
 * default workspace's role for the code that reads it until it is dropped; elsewhere it stays null.
 */
export async function createUser(
  sql: Sql,
  input: { username: string; password?: string; role: Role; displayName?: string },
  actor: Actor,
  ws?: WorkspaceRef,
): Promise<User> {
  if (!ROLES.includes(input.role)) throw new ValidationError(`Unknown role ${input.role}.`);
  if (input.password !== undefined) validatePassword(input.password);
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
  return sql.begin(async (tx) => {
    const [{ workspaceId }] = (await tx`select ${workspaceIdOf(tx, ws)} as "workspaceId"`) as [{ workspaceId: string }];
    const [account] = await tx<{ id: string }[]>`
      insert into users (username, display_name, password_hash, role)
      values (${input.username}, ${input.displayName ?? null}, ${passwordHash},
              case when ${workspaceId}::uuid = mc_default_workspace() then ${input.role}::text end)
      on conflict do nothing
      returning id`;
    if (!account) throw new ConflictError(`A user named ${input.username} already exists.`);
    await tx`
      insert into memberships (workspace_id, user_id, role, invited_by)
      values (${workspaceId}, ${account.id}, ${input.role}, ${actor.id})`;
    const user = (await getUser(tx, account.id, { id: workspaceId }))!;
    await appendAudit(tx, {
      actor, action: 'user.created', entityType: 'user', entityId: user.id,
      details: { username: user.username, role: user.role }, workspaceId,
    });
    return user;
  });
}

/** The members of the workspace, with their role there. */
export async function listUsers(sql: TxSql, ws?: WorkspaceRef): Promise<User[]> {
  return sql<User[]>`
    select ${memberColumns(sql)} from memberships m join users u on u.id = m.user_id
    where m.workspace_id = ${workspaceIdOf(sql, ws)}
    order by lower(u.username)`;
}

/** A member of the workspace; anyone else, in another workspace or none, is not found. */
export async function getUser(sql: TxSql, id: string, ws?: WorkspaceRef): Promise<User | null> {
  const [user] = await sql<User[]>`
    select ${memberColumns(sql)} from memberships m join users u on u.id = m.user_id
    where m.workspace_id = ${workspaceIdOf(sql, ws)} and u.id = ${id}`;
  return user ?? null;
}

/** How many of these workspaces `userId` is the last active admin of (whom they cannot do without). */
async function orphanedWorkspaces(tx: TxSql, userId: string, workspaceIds: string[] | 'all'): Promise<number> {
  const [{ count }] = (await tx`
    select count(*)::int as count from memberships m
    where m.user_id = ${userId} and m.role = 'ADMIN'
      ${workspaceIds === 'all' ? tx`` : tx`and m.workspace_id in ${tx(workspaceIds)}`}
      and not exists (
        select 1 from memberships o join users ou on ou.id = o.user_id
        where o.workspace_id = m.workspace_id and o.role = 'ADMIN' and o.user_id <> ${userId} and not ou.disabled)`) as [{ count: number }];
  return count;
}

/**
 * Changes a member: `role` is their role in this workspace (each keeps at least one active admin);
 * `disabled` and `password` are account-wide, so only the user themselves may change them while
 * they belong to other workspaces too.
 */
export async function updateUser(
  sql: Sql,
  id: string,
  patch: { role?: Role; disabled?: boolean; password?: string },
  actor: Actor,
  ws?: WorkspaceRef,
): Promise<User> {
  if (patch.role !== undefined && !ROLES.includes(patch.role)) throw new ValidationError(`Unknown role ${patch.role}.`);
  if (patch.password !== undefined) validatePassword(patch.password);
  const passwordHash = patch.password === undefined ? undefined : await hashPassword(patch.password);
  return sql.begin(async (tx) => {
    const [{ workspaceId }] = (await tx`select ${workspaceIdOf(tx, ws)} as "workspaceId"`) as [{ workspaceId: string }];
    // Role changes in one workspace queue behind each other, so two admins cannot demote each other at once.
    await tx`select pg_advisory_xact_lock(727005, hashtext(${workspaceId}))`;
    const [before] = await tx<(User & { elsewhere: boolean })[]>`
      select ${memberColumns(tx)},
             exists (select 1 from memberships o where o.user_id = u.id and o.workspace_id <> m.workspace_id) as elsewhere
      from memberships m join users u on u.id = m.user_id
      where m.workspace_id = ${workspaceId} and u.id = ${id}
      for update of m, u`;
    if (!before) throw new NotFoundError('User');
    const role = patch.role ?? before.role;
    const disabling = patch.disabled === true && !before.disabled;
    const accountWide = (patch.disabled !== undefined && patch.disabled !== before.disabled) || patch.password !== undefined;
    if (accountWide && before.elsewhere && id !== actor.id) {
      throw new ConflictError(`${before.username} is also a member of other workspaces, so only they can change their password or disable their account.`);
    }
    const demoting = before.role === 'ADMIN' && role !== 'ADMIN';
    if ((demoting && (await orphanedWorkspaces(tx, id, [workspaceId]))) || (disabling && (await orphanedWorkspaces(tx, id, 'all')))) {
      throw new ConflictError('This is the last active admin; make another admin first.');
    }
    if (role !== before.role) {
      await tx`update memberships set role = ${role}, updated_at = now() where workspace_id = ${workspaceId} and user_id = ${id}`;
    }
    await tx`
      update users set
        role = case when ${workspaceId}::uuid = mc_default_workspace() then ${role}::text else role end,
        disabled = ${patch.disabled ?? before.disabled},
        password_hash = coalesce(${passwordHash ?? null}, password_hash),
        updated_at = now()
      where id = ${id}`;
    if (disabling) await tx`delete from sessions where user_id = ${id}`;
    await appendAudit(tx, {
      actor, action: 'user.updated', entityType: 'user', entityId: id,
      details: {
        ...(role !== before.role ? { role: { from: before.role, to: role } } : {}),
        ...(patch.disabled !== undefined && patch.disabled !== before.disabled ? { disabled: patch.disabled } : {}),
        ...(patch.password !== undefined ? { passwordChanged: true } : {}),
      },
      workspaceId,
    });
    return (await getUser(tx, id, { id: workspaceId }))!;
  });
}

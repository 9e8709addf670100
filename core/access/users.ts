// People: users with roles and argon2id passwords. Every change is audited.
import { verify as argonVerify } from '@node-rs/argon2';
import type { Sql, TxSql } from '../../db/sql';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import { ROLES, type Role } from '../../lib/names';
import { appendAudit, type Actor } from '../audit/audit-log';
import { hashPassword, randomSecret } from './credentials';

export interface User {
  id: string;
  username: string;
  displayName: string | null;
  role: Role;
  disabled: boolean;
  createdAt: Date;
}

const userColumns = (sql: TxSql) =>
  sql`id, username, display_name as "displayName", role, disabled, created_at as "createdAt"`;

export function actorOf(user: Pick<User, 'id' | 'username'>): Actor {
  return { id: user.id, name: user.username };
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

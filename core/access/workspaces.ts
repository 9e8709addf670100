// Workspaces (seed 003): made by any signed-in user, who becomes their owner
// and first admin; renamed and archived by their admins; members are existing
// accounts an admin adds with a role there, changes and removes (each keeps an
// active admin). A session switches between the workspaces its user belongs
// to; a token stays in the one it was made in. Seed 003's JSON settings
// (default_llm_config, and the time zone) are validated and audited on change.
// Every entry is written to the chain of the workspace it concerns.
import { z } from 'zod';
import type { Sql, TxSql } from '../../db/sql';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import { ROLES, type Role } from '../../lib/names';
import { text } from '../../lib/text';
import { appendAudit, type Actor } from '../audit/audit-log';
import { timeZoneError } from '../schedules/time-zones';
import { getUser, type MemberWorkspace, type User, type WorkspaceRef } from './users';

export interface Workspace {
  id: string;
  name: string;
  isDefault: boolean;
  ownerUserId: string | null;
  ownerUsername: string | null;
  archivedAt: Date | null;
  createdAt: Date;
}

export const workspaceNameSchema = text({ message: 'Name the workspace.' }).trim().min(1, 'Name the workspace.').max(100, 'A workspace name has at most 100 characters.');

/** Seed 003's workspace settings, with what each may hold. Unknown keys are refused, not kept. */
export const workspaceSettingsSchema = z.object({
  default_llm_config: z.object({
    provider: text().trim().min(1, 'Name the provider.').max(50),
    model: text().trim().min(1, 'Name the model.').max(100),
    temperature: z.number().min(0).max(2).optional(),
    max_tokens: z.number().int().min(1).max(1_000_000).optional(),
  }).strict().nullable(),
  // The names schedules take (Temporal's), so that a workspace's zone can be any schedule's.
  timezone: text().max(64).superRefine((tz, ctx) => {
    const problem = timeZoneError(tz);
    if (problem) ctx.addIssue({ code: 'custom', message: `"${tz}" ${problem}.` });
  }),
}).strict();
export type WorkspaceSettings = z.infer<typeof workspaceSettingsSchema>;
export const DEFAULT_WORKSPACE_SETTINGS: WorkspaceSettings = { default_llm_config: null, timezone: 'UTC' };
const SETTINGS_KEY = 'workspace.settings';

const columns = (sql: TxSql) => sql`
  w.id, w.name, w.is_default as "isDefault", w.owner_user_id as "ownerUserId", o.username as "ownerUsername",
  w.archived_at as "archivedAt", w.created_at as "createdAt"`;

/** The workspace itself (archived ones too: its admins' own view). */
export async function getWorkspace(sql: TxSql, ws: WorkspaceRef): Promise<Workspace> {
  const [row] = await sql<Workspace[]>`select ${columns(sql)} from workspaces w left join users o on o.id = w.owner_user_id where w.id = ${ws.id}`;
  if (!row) throw new NotFoundError('Workspace');
  return row;
}

/** The workspaces a user may act in (not archived), with their role in each, the default one first. */
export async function listMyWorkspaces(sql: TxSql, userId: string): Promise<MemberWorkspace[]> {
  return sql<MemberWorkspace[]>`
    select w.id, w.name, w.is_default as "isDefault", m.role
    from memberships m join workspaces w on w.id = m.workspace_id and w.archived_at is null
    where m.user_id = ${userId}
    order by w.is_default desc, lower(w.name), w.created_at, w.id`;
}

/** One of the user's workspaces, for switching to it; any other (not theirs, archived, unknown) is not found. */
export async function memberWorkspaceOf(sql: TxSql, userId: string, workspaceId: string): Promise<MemberWorkspace> {
  const found = (await listMyWorkspaces(sql, userId)).find((w) => w.id === workspaceId);
  if (!found) throw new NotFoundError('Workspace');
  return found;
}

export async function createWorkspace(sql: Sql, name: string, actor: Actor & { id: string }): Promise<Workspace> {
  const clean = workspaceNameSchema.parse(name);
  return sql.begin(async (tx) => {
    const [{ id }] = (await tx`insert into workspaces (name, owner_user_id) values (${clean}, ${actor.id}) returning id`) as [{ id: string }];
    await tx`insert into memberships (workspace_id, user_id, role, invited_by) values (${id}, ${actor.id}, 'ADMIN', ${actor.id})`;
    await appendAudit(tx, { actor, action: 'workspace.created', entityType: 'workspace', entityId: id, details: { name: clean }, workspaceId: id });
    return getWorkspace(tx, { id });
  });
}

export async function renameWorkspace(sql: Sql, ws: WorkspaceRef, name: string, actor: Actor): Promise<Workspace> {
  const clean = workspaceNameSchema.parse(name);
  return sql.begin(async (tx) => {
    const [before] = await tx<{ name: string }[]>`select name from workspaces where id = ${ws.id} and archived_at is null for update`;
    if (!before) throw new NotFoundError('Workspace');
    if (before.name !== clean) {
      await tx`update workspaces set name = ${clean}, updated_at = now() where id = ${ws.id}`;
      await appendAudit(tx, { actor, action: 'workspace.renamed', entityType: 'workspace', entityId: ws.id, details: { from: before.name, to: clean }, workspaceId: ws.id });
    }
    return getWorkspace(tx, ws);
  });
}

/**
 * Archives a workspace: nobody acts in it any more (sessions and tokens in it are refused), and nothing
 * of it is deleted. Refused for the default workspace, and while anything of it could still run:
 * a scheduled mission that is not paused, or open runs (`openRuns`, counted in Temporal by the caller).
 */
export async function archiveWorkspace(sql: Sql, ws: WorkspaceRef, actor: Actor, openRuns: () => Promise<number>): Promise<Workspace> {
  const open = await openRuns();
  return sql.begin(async (tx) => {
    const [w] = await tx<{ name: string; isDefault: boolean }[]>`
      select name, is_default as "isDefault" from workspaces where id = ${ws.id} and archived_at is null for update`;
    if (!w) throw new NotFoundError('Workspace');
    if (w.isDefault) throw new ConflictError('The default workspace cannot be archived: it holds what belongs to no other.');
    const scheduled = await tx<{ name: string }[]>`
      select name from missions
      where workspace_id = ${ws.id} and type = 'scheduled' and status <> 'paused' and coalesce((schedule ->> 'paused')::boolean, false) = false
      order by lower(name) limit 6`;
    if (scheduled.length) {
      const names = scheduled.slice(0, 5).map((m) => `“${m.name}”`).join(', ') + (scheduled.length > 5 ? ', …' : '');
      throw new ConflictError(`Pause the workspace's scheduled missions first (${names}): an archived workspace runs nothing.`);
    }
    if (open > 0) throw new ConflictError(`${open} run${open === 1 ? ' is' : 's are'} still open in this workspace; let ${open === 1 ? 'it' : 'them'} finish or cancel ${open === 1 ? 'it' : 'them'} first.`);
    await tx`update workspaces set archived_at = now(), updated_at = now() where id = ${ws.id}`;
    await appendAudit(tx, { actor, action: 'workspace.archived', entityType: 'workspace', entityId: ws.id, details: { name: w.name }, workspaceId: ws.id });
    return getWorkspace(tx, ws);
  });
}

/** Adds an existing account to the workspace with a role there. */
export async function addMember(sql: Sql, ws: WorkspaceRef, input: { username: string; role: Role }, actor: Actor): Promise<User> {
  if (!ROLES.includes(input.role)) throw new ValidationError(`Unknown role ${input.role}.`);
  return sql.begin(async (tx) => {
    const [account] = await tx<{ id: string; username: string; disabled: boolean }[]>`
      select id, username, disabled from users where lower(username) = lower(${input.username.trim()})`;
    if (!account) throw new NotFoundError(`An account named “${input.username.trim()}”`);
    if (account.disabled) throw new ConflictError(`${account.username}'s account is disabled; they cannot be added.`);
    const added = await tx`
      insert into memberships (workspace_id, user_id, role, invited_by) values (${ws.id}, ${account.id}, ${input.role}, ${actor.id})
      on conflict (workspace_id, user_id) do nothing returning 1`;
    if (!added.length) throw new ConflictError(`${account.username} is already a member of this workspace.`);
    await appendAudit(tx, {
      actor, action: 'member.added', entityType: 'user', entityId: account.id, details: { username: account.username, role: input.role }, workspaceId: ws.id,
    });
    return (await getUser(tx, account.id, ws))!;
  });
}

/** Removes a member (never the last active admin): their sessions in the workspace end, their tokens there stop working. */
export async function removeMember(sql: Sql, ws: WorkspaceRef, userId: string, actor: Actor): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(727005, hashtext(${ws.id}))`; // the lock role changes take: no race to no admin
    const [m] = await tx<{ role: Role; username: string }[]>`
      select m.role, u.username from memberships m join users u on u.id = m.user_id
      where m.workspace_id = ${ws.id} and m.user_id = ${userId} for update of m`;
    if (!m) throw new NotFoundError('User');
    if (m.role === 'ADMIN') {
      const [{ others }] = (await tx`
        select count(*)::int as others from memberships o join users u on u.id = o.user_id
        where o.workspace_id = ${ws.id} and o.role = 'ADMIN' and o.user_id <> ${userId} and not u.disabled`) as [{ others: number }];
      if (!others) throw new ConflictError('This is the last active admin; make another admin first.');
    }
    await tx`delete from memberships where workspace_id = ${ws.id} and user_id = ${userId}`;
    await tx`delete from sessions where workspace_id = ${ws.id} and user_id = ${userId}`;
    await tx`update api_tokens set revoked_at = coalesce(revoked_at, now()) where workspace_id = ${ws.id} and user_id = ${userId}`;
    await appendAudit(tx, {
      actor, action: 'member.removed', entityType: 'user', entityId: userId, details: { username: m.username, role: m.role }, workspaceId: ws.id,
    });
  });
}

export async function getWorkspaceSettings(sql: TxSql, ws: WorkspaceRef): Promise<WorkspaceSettings> {
  const [row] = await sql<{ value: unknown }[]>`select value from workspace_settings where workspace_id = ${ws.id} and key = ${SETTINGS_KEY}`;
  const kept = workspaceSettingsSchema.partial().safeParse(row?.value ?? {});
  return { ...DEFAULT_WORKSPACE_SETTINGS, ...(kept.success ? kept.data : {}) };
}

/** Changes some of the settings (validated whole once merged); audited with what changed, from and to. */
export async function updateWorkspaceSettings(sql: Sql, ws: WorkspaceRef, patch: unknown, actor: Actor): Promise<WorkspaceSettings> {
  const partial = workspaceSettingsSchema.partial().parse(patch);
  return sql.begin(async (tx) => {
    await tx`select id from workspaces where id = ${ws.id} for update`;
    const before = await getWorkspaceSettings(tx, ws);
    const after = workspaceSettingsSchema.parse({ ...before, ...partial });
    const changed = Object.fromEntries(
      (Object.keys(after) as (keyof WorkspaceSettings)[])
        .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
        .map((k) => [k, { from: before[k], to: after[k] }]),
    );
    if (!Object.keys(changed).length) return after;
    await tx`
      insert into workspace_settings (workspace_id, key, value, updated_at, updated_by)
      values (${ws.id}, ${SETTINGS_KEY}, ${tx.json(after as never)}, now(), ${actor.id})
      on conflict (workspace_id, key) do update set value = excluded.value, updated_at = now(), updated_by = excluded.updated_by`;
    await appendAudit(tx, { actor, action: 'workspace.settings_updated', entityType: 'workspace', entityId: ws.id, details: { changed }, workspaceId: ws.id });
    return after;
  });
}

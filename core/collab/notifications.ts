// Each member's notifications (seed 003): what concerns them in a workspace,
// read and marked read by them alone; and their preferences there (kinds they
// mute, kinds also sent by email, and the address). The notifier
// (core/collab/notifier.ts) writes them from the event stream.
import type { TxSql } from '../../db/sql';
import { NotFoundError, ValidationError } from '../../lib/errors';
import type { WorkspaceRef } from '../access/users';

export const NOTIFICATION_KINDS = ['approval', 'run_failed', 'agent_offline', 'mention', 'alert'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** What each kind is, in the preferences' words. */
export const KIND_WORDS: Record<NotificationKind, string> = {
  approval: 'An approval I may decide',
  run_failed: 'A run I started failed',
  agent_offline: 'An agent went offline',
  mention: 'Someone mentioned me',
  alert: 'An alert was raised',
};

export interface Notification {
  id: string;
  kind: NotificationKind;
  title: string;
  body: string;
  href: string | null;
  createdAt: Date;
  readAt: Date | null;
}

export interface Preferences {
  muted: NotificationKind[];
  emailKinds: NotificationKind[];
  email: string | null;
}

export const DEFAULT_PREFERENCES: Preferences = { muted: [], emailKinds: [], email: null };

const columns = (sql: TxSql) => sql`id, kind, title, body, href, created_at as "createdAt", read_at as "readAt"`;

/** A member's notifications in a workspace, newest first (keyset paging by `before`). */
export async function listNotifications(
  sql: TxSql, userId: string, ws: WorkspaceRef, f: { unread?: boolean; before?: string; limit: number },
): Promise<Notification[]> {
  return sql<Notification[]>`
    select ${columns(sql)} from notifications n
    where n.user_id = ${userId} and n.workspace_id = ${ws.id}
      ${f.unread ? sql`and n.read_at is null` : sql``}
      ${f.before ? sql`and (n.created_at, n.id) < (select p.created_at, p.id from notifications p where p.id = ${f.before} and p.user_id = ${userId})` : sql``}
    order by n.created_at desc, n.id desc
    limit ${f.limit}`;
}

export async function unreadCount(sql: TxSql, userId: string, ws: WorkspaceRef): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from notifications where user_id = ${userId} and workspace_id = ${ws.id} and read_at is null`;
  return row!.n;
}

/** Marks one of the member's own notifications read (again is the same); another's is not found. */
export async function markRead(sql: TxSql, userId: string, ws: WorkspaceRef, id: string): Promise<Notification> {
  const [n] = await sql<Notification[]>`
    update notifications set read_at = coalesce(read_at, now())
    where id = ${id} and user_id = ${userId} and workspace_id = ${ws.id}
    returning ${columns(sql)}`;
  if (!n) throw new NotFoundError('Notification');
  return n;
}

/** Marks every unread notification of the member read; returns how many were. */
export async function markAllRead(sql: TxSql, userId: string, ws: WorkspaceRef): Promise<number> {
  const rows = await sql`
    update notifications set read_at = now() where user_id = ${userId} and workspace_id = ${ws.id} and read_at is null returning 1`;
  return rows.length;
}

export async function getPreferences(sql: TxSql, userId: string, ws: WorkspaceRef): Promise<Preferences> {
  const [p] = await sql<Preferences[]>`
    select muted, email_kinds as "emailKinds", email from notification_preferences where user_id = ${userId} and workspace_id = ${ws.id}`;
  return p ?? DEFAULT_PREFERENCES;
}

/** Changes what is given; kinds sent by email need an address (a 400 otherwise, nothing saved). */
export async function setPreferences(sql: TxSql, userId: string, ws: WorkspaceRef, p: Partial<Preferences>): Promise<Preferences> {
  const now = { ...(await getPreferences(sql, userId, ws)), ...p };
  if (now.emailKinds.length && !now.email) throw new ValidationError('Email needs an address: give email, or send no kinds by email.', [{ path: 'email', message: 'required for emailKinds' }]);
  await sql`
    insert into notification_preferences (workspace_id, user_id, muted, email_kinds, email)
    values (${ws.id}, ${userId}, ${now.muted}, ${now.emailKinds}, ${now.email})
    on conflict (workspace_id, user_id) do update set muted = excluded.muted, email_kinds = excluded.email_kinds, email = excluded.email, updated_at = now()`;
  return now;
}

// The notifier: reads the event stream in order from a cursor kept in
// PostgreSQL and writes each member's notifications (an approval they may
// decide, a run they started failed, an agent went offline, a mention, an
// alert). A batch, its notifications and the cursor's move commit together,
// and a notification is unique per member and source, so a replica that dies
// mid-batch, or two replicas at once, notify each member once. Email is a
// second channel through the outbound adapters (dry-run and the channel
// toggles govern it): a notification that asks for one is `pending` until its
// send, keyed by the notification, is recorded, so it is sent once too.
import type { Sql, TxSql } from '../../db/sql';
import type { Logger } from '../../lib/logger';
import { SYSTEM_ACTOR } from '../audit/audit-log';
import { appendEvent } from '../events/events';
import { startStreamConsumer } from '../events/consumer';
import { OutboundBlockedError, OutboundUncertainError, sendOutbound, type Adapters } from '../safety/outbound';
import type { NotificationKind } from './notifications';

export const NOTIFIER_CURSOR = 'notifier.cursor';
const BATCH = 200;

interface EventRow {
  id: string;
  type: string;
  entityType: string;
  entityId: string | null;
  missionId: string | null;
  runId: string | null;
  actor: string;
  payload: Record<string, unknown>;
  workspaceId: string;
}

interface Planned {
  kind: NotificationKind;
  to: string[]; // user ids
  title: string;
  body: string;
  href: string | null;
  sourceKey: string;
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

const membersWithRole = async (tx: TxSql, workspaceId: string, roles: string[]) =>
  (await tx<{ id: string }[]>`
    select u.id from memberships m join users u on u.id = m.user_id
    where m.workspace_id = ${workspaceId} and m.role in ${tx(roles)} and not u.disabled`).map((r) => r.id);

const membersNamed = async (tx: TxSql, workspaceId: string, names: string[]) =>
  names.length ? (await tx<{ id: string }[]>`
    select u.id from memberships m join users u on u.id = m.user_id
    where m.workspace_id = ${workspaceId} and u.username in ${tx(names)} and not u.disabled`).map((r) => r.id) : [];

const missionName = async (tx: TxSql, id: string | null) =>
  id ? (await tx<{ name: string }[]>`select name from missions where id = ${id}`)[0]?.name ?? 'a mission' : 'a mission';

const runHref = (runId: string | null) => (runId ? `/runs/${encodeURIComponent(runId)}` : null);

/** Who an event concerns, and what to tell them; null for the events no one is notified of. */
async function plan(tx: TxSql, e: EventRow): Promise<Planned | null> {
  const source = `event:${e.id}`;
  switch (e.type) {
    case 'approval.requested':
      return {
        kind: 'approval', to: await membersWithRole(tx, e.workspaceId, ['ADMIN']), sourceKey: source, href: runHref(e.runId),
        title: `“${cut(str(e.payload.taskName) || 'A task', 120)}” waits for a decision`, body: `In a run of “${cut(await missionName(tx, e.missionId), 120)}”.`,
      };
    case 'run.failed':
    case 'scheduler.job.failed': {
      // The member who started the run; a run no member started (a schedule, a trigger) concerns the admins.
      const [start] = await tx<{ actor: string }[]>`
        select actor from events where run_id = ${e.runId} and type in ('run.started', 'scheduler.job.started') order by id limit 1`;
      const starter = start ? await membersNamed(tx, e.workspaceId, [start.actor]) : [];
      return {
        kind: 'run_failed', to: starter.length ? starter : await membersWithRole(tx, e.workspaceId, ['ADMIN']), sourceKey: source, href: runHref(e.runId),
        title: `A run of “${cut(await missionName(tx, e.missionId), 120)}” failed`, body: cut(str(e.payload.error) || str(e.payload.reason) || str(e.payload.message), 500),
      };
    }
    case 'agent.status_changed':
      if (e.payload.to !== 'OFFLINE') return null;
      return {
        kind: 'agent_offline', to: await membersWithRole(tx, e.workspaceId, ['ADMIN', 'OPERATOR']), sourceKey: source, href: e.entityId ? `/agents/${e.entityId}` : null,
        title: `Agent “${cut(str(e.payload.name) || 'an agent', 120)}” went offline`, body: 'It missed its heartbeats; its work waits for it, or for another agent.',
      };
    case 'alert.raised':
      return {
        kind: 'alert', to: await membersWithRole(tx, e.workspaceId, ['ADMIN', 'OPERATOR']), sourceKey: source, href: runHref(e.runId),
        title: `Alert: ${cut(str(e.payload.title) || str(e.payload.message) || str(e.payload.kind), 200)}`, body: cut(str(e.payload.message), 500),
      };
    case 'comment.created':
    case 'comment.updated': {
      // Once per comment and member: an edit that adds a mention tells only the one added.
      const names = (Array.isArray(e.payload.mentions) ? e.payload.mentions : []).filter((n): n is string => typeof n === 'string' && n !== e.actor);
      const to = await membersNamed(tx, e.workspaceId, names);
      if (!to.length) return null;
      const p = e.payload;
      const href = p.workflowId ? runHref(str(p.workflowId)) : p.agentId ? `/agents/${str(p.agentId)}` : p.missionId ? `/missions/${str(p.missionId)}` : null;
      return { kind: 'mention', to, sourceKey: `mention:${e.entityId}`, href, title: `${cut(e.actor, 100)} mentioned you`, body: cut(str(p.excerpt), 500) };
    }
    default:
      return null;
  }
}

/** Writes the notifications one event calls for, minus each member's muted kinds; returns how many. */
async function deliver(tx: TxSql, e: EventRow, p: Planned): Promise<number> {
  if (!p.to.length) return 0;
  const rows = await tx`
    insert into notifications (workspace_id, user_id, kind, title, body, href, source_key, email_state)
    select ${e.workspaceId}, u.id, ${p.kind}, ${p.title}, ${p.body}, ${p.href}, ${p.sourceKey},
           case when ${p.kind} = any(coalesce(np.email_kinds, '{}')) and np.email is not null then 'pending' end
    from unnest(${p.to}::uuid[]) as u(id)
    left join notification_preferences np on np.user_id = u.id and np.workspace_id = ${e.workspaceId}
    where not (${p.kind} = any(coalesce(np.muted, '{}')))
    on conflict (user_id, source_key) do nothing
    returning 1`;
  return rows.length;
}

/**
 * One batch: the events after the cursor, their notifications, and the cursor moved past them, in one
 * transaction holding the cursor's row (another replica's batch waits, then starts where this one ended).
 * Returns how many events it read.
 */
export async function notifyOnce(sql: Sql): Promise<number> {
  return sql.begin(async (tx) => {
    await tx`insert into settings (key, value) values (${NOTIFIER_CURSOR}, ${tx.json({ after: 0 })}) on conflict (key) do nothing`;
    const [cursor] = await tx<{ after: number }[]>`select (value->>'after')::bigint as after from settings where key = ${NOTIFIER_CURSOR} for update`;
    const events = await tx<EventRow[]>`
      select id::text, type, entity_type as "entityType", entity_id as "entityId", mission_id::text as "missionId", run_id as "runId",
             actor, payload, workspace_id as "workspaceId"
      from events where id > ${cursor!.after} order by id limit ${BATCH}`;
    const delivered = new Map<string, number>();
    for (const e of events) {
      const p = await plan(tx, e);
      const n = p ? await deliver(tx, e, p) : 0;
      if (n) delivered.set(e.workspaceId, (delivered.get(e.workspaceId) ?? 0) + n);
    }
    // Pages refresh their inbox count on this (it names no one: each page asks for its own member's count).
    for (const [workspaceId, count] of delivered) {
      await appendEvent(tx, { type: 'notification.delivered', entityType: 'notification', entityId: null, actor: 'system', payload: { count }, workspaceId, key: `notifier/${events.at(-1)!.id}/${workspaceId}` });
    }
    if (events.length) await tx`update settings set value = ${tx.json({ after: Number(events.at(-1)!.id) })}, updated_at = now() where key = ${NOTIFIER_CURSOR}`;
    return events.length;
  });
}

/** Hands the pending emails to the outbound adapters, each once (keyed by its notification); returns how many settled. */
export async function sendPendingEmails(deps: { sql: Sql; adapters: Adapters }, logger?: Logger): Promise<number> {
  const pending = await deps.sql<{ id: string; workspaceId: string; title: string; body: string; href: string | null; email: string }[]>`
    select n.id, n.workspace_id as "workspaceId", n.title, n.body, n.href, np.email
    from notifications n join notification_preferences np on np.user_id = n.user_id and np.workspace_id = n.workspace_id
    where n.email_state = 'pending' and np.email is not null
    order by n.created_at limit 50`;
  let settled = 0;
  for (const n of pending) {
    const key = `notification:${n.id}`;
    try {
      await sendOutbound(deps, {
        channel: 'email', idempotencyKey: key, executionKey: key, patternId: null, actor: SYSTEM_ACTOR, workspaceId: n.workspaceId,
        payload: { to: n.email, subject: n.title, body: [n.body, n.href ? `Open it: ${n.href}` : ''].filter(Boolean).join('\n\n') },
      });
    } catch (err) {
      // Blocked (a channel off) and failed sends are recorded outcomes; an uncertain one goes again, same key.
      if (err instanceof OutboundUncertainError || !(err instanceof OutboundBlockedError || (err as { attempt?: unknown }).attempt)) {
        logger?.warn({ notificationId: n.id, err: (err as Error).message }, 'notification email not sent yet');
        continue;
      }
    }
    await deps.sql`update notifications set email_state = 'done' where id = ${n.id}`;
    settled++;
  }
  return settled;
}

/** Runs the notifier in the background: woken by new events, and looking on its own every few seconds. */
export function startNotifier(deps: { sql: Sql; adapters: Adapters; logger: Logger }): { stop(): Promise<void> } {
  return startStreamConsumer(deps, 'notifier', { size: BATCH, once: () => notifyOnce(deps.sql), then: () => sendPendingEmails(deps, deps.logger) });
}

// Comments (seed 004): a note on a mission, a run (and one of its tasks) or an
// agent, of type NOTE, ERROR, WARNING or SUCCESS from a person, or SYSTEM from
// the engine itself where a person would want an explanation (a task retried
// after its worker was lost, a run held by the global pause). A comment names
// the members it mentions (@username); the notifier tells them. Authors edit
// and delete their own, admins any; every change is audited with its event.
import type { Sql, TxSql } from '../../db/sql';
import { ForbiddenError, NotFoundError } from '../../lib/errors';
import type { Role } from '../../lib/names';
import { appendAudit, SYSTEM_ACTOR, type Actor } from '../audit/audit-log';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { refusedReference } from '../outreach/campaigns';
import type { CommentInput, CommentPatch, CommentType } from './comment-schemas';

export interface Comment {
  id: string;
  workspaceId: string;
  type: CommentType;
  content: string;
  missionId: string | null;
  workflowId: string | null;
  taskId: string | null;
  agentId: string | null;
  author: string;
  authorId: string | null;
  mentions: string[];
  metadata: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

const columns = (sql: TxSql) => sql`
  id, workspace_id as "workspaceId", type, content, mission_id as "missionId", workflow_id as "workflowId", task_id as "taskId",
  agent_id as "agentId", author, author_id as "authorId", mentions, metadata, created_at as "createdAt", updated_at as "updatedAt"`;

export interface CommentFilter {
  missionId?: string;
  workflowId?: string;
  taskId?: string;
  agentId?: string;
  type?: CommentType;
  /** Comments written before this one (keyset paging, newest first). */
  before?: string;
  limit: number;
}

/** A mission's comments include those on its runs (a run's comment names its mission). */
export async function listComments(sql: TxSql, f: CommentFilter, ws: WorkspaceRef): Promise<Comment[]> {
  return sql<Comment[]>`
    select ${columns(sql)} from comments c
    where c.workspace_id = ${workspaceIdOf(sql, ws)}
      ${f.missionId ? sql`and c.mission_id = ${f.missionId}` : sql``}
      ${f.workflowId ? sql`and c.workflow_id = ${f.workflowId}` : sql``}
      ${f.taskId ? sql`and c.task_id = ${f.taskId}` : sql``}
      ${f.agentId ? sql`and c.agent_id = ${f.agentId}` : sql``}
      ${f.type ? sql`and c.type = ${f.type}` : sql``}
      ${f.before ? sql`and (c.created_at, c.id) < (
        select p.created_at, p.id from comments p where p.id = ${f.before} and p.workspace_id = ${workspaceIdOf(sql, ws)})` : sql``}
    order by c.created_at desc, c.id desc
    limit ${f.limit}`;
}

export async function getComment(sql: TxSql, id: string, ws: WorkspaceRef, opts: { lock?: boolean } = {}): Promise<Comment> {
  const [c] = await sql<Comment[]>`
    select ${columns(sql)} from comments c where c.id = ${id} and c.workspace_id = ${workspaceIdOf(sql, ws)}
    ${opts.lock ? sql`for update` : sql``}`;
  if (!c) throw new NotFoundError('Comment');
  return c;
}

const MENTION = /(?:^|[^\w@])@([A-Za-z0-9_.-]{1,64})/g;

/** The members of the workspace a text mentions, by their usernames as the workspace knows them. */
async function mentionedMembers(tx: TxSql, content: string, workspaceId: string): Promise<string[]> {
  const names = [...new Set([...content.matchAll(MENTION)].map((m) => m[1]!.replace(/\.+$/, '').toLowerCase()))].slice(0, 50);
  if (!names.length) return [];
  const rows = await tx<{ username: string }[]>`
    select u.username from users u join memberships m on m.user_id = u.id
    where m.workspace_id = ${workspaceId} and lower(u.username) in ${tx(names)} and not u.disabled
    order by u.username`;
  return rows.map((r) => r.username);
}

type Target = Pick<Comment, 'missionId' | 'workflowId' | 'taskId' | 'agentId'>;

/** What the comment is about, checked to be the workspace's own (a 400 naming the field); a run brings its mission. */
async function checkedTarget(tx: TxSql, t: Target, workspaceId: string): Promise<Target> {
  const out = { ...t };
  if (t.workflowId) {
    const missionId = t.workflowId.slice('mission-'.length, 'mission-'.length + 36);
    if (t.missionId && t.missionId !== missionId) throw refusedReference('missionId', 'mission of that run');
    out.missionId = missionId;
  }
  if (out.missionId) {
    const [m] = await tx`select 1 from missions where id = ${out.missionId} and workspace_id = ${workspaceId}`;
    if (!m) throw refusedReference(t.workflowId ? 'workflowId' : 'missionId', t.workflowId ? 'run of a mission' : 'mission');
  }
  if (t.taskId) {
    const [task] = await tx`select 1 from mission_tasks where id = ${t.taskId} and mission_id = ${out.missionId}`;
    if (!task) throw refusedReference('taskId', 'task of the run’s mission');
  }
  if (t.agentId) {
    const [a] = await tx`select 1 from agents where id = ${t.agentId} and workspace_id = ${workspaceId} and deleted_at is null`;
    if (!a) throw refusedReference('agentId', 'agent');
  }
  return out;
}

async function record(tx: TxSql, c: Comment, action: string, actor: Actor, extra: Record<string, unknown> = {}, idempotencyKey?: string) {
  await appendAudit(tx, {
    actor, action, entityType: 'comment', entityId: c.id, workspaceId: c.workspaceId, idempotencyKey,
    details: {
      commentType: c.type, missionId: c.missionId, workflowId: c.workflowId, taskId: c.taskId, agentId: c.agentId,
      mentions: c.mentions, excerpt: c.content.slice(0, 200), ...extra,
    },
  });
}

async function insert(tx: TxSql, input: Target & { type: CommentType; content: string; metadata?: Record<string, unknown> }, actor: Actor, workspaceId: string, key?: string) {
  const target = await checkedTarget(tx, input, workspaceId);
  const mentions = await mentionedMembers(tx, input.content, workspaceId);
  const [row] = await tx<Comment[]>`
    insert into comments (workspace_id, type, content, mission_id, workflow_id, task_id, agent_id, author, author_id, mentions, metadata, idempotency_key)
    values (${workspaceId}, ${input.type}, ${input.content}, ${target.missionId}, ${target.workflowId}, ${target.taskId}, ${target.agentId},
            ${actor.name}, ${actor.id}, ${mentions}, ${tx.json((input.metadata ?? {}) as never)}, ${key ?? null})
    on conflict (idempotency_key) do nothing
    returning ${columns(tx)}`;
  if (row) await record(tx, row, 'comment.created', actor, {}, key ? `comment:${key}` : undefined);
  return row ?? null;
}

export async function createComment(sql: Sql, input: CommentInput, actor: Actor, ws: WorkspaceRef): Promise<Comment> {
  return sql.begin(async (tx) => {
    const [{ id: workspaceId }] = (await tx`select ${workspaceIdOf(tx, ws)}::text as id`) as [{ id: string }];
    const target = { missionId: input.missionId ?? null, workflowId: input.workflowId ?? null, taskId: input.taskId ?? null, agentId: input.agentId ?? null };
    return (await insert(tx, { ...target, type: input.type, content: input.content, metadata: input.metadata }, actor, workspaceId))!;
  });
}

/**
 * The engine's own explanation, written once under `key` however often its writer runs (a retried activity);
 * false when it was written before. `tx` may be the change's own transaction.
 */
export async function systemComment(
  sql: TxSql, workspaceId: string, target: Partial<Target>, content: string, key: string, type: CommentType = 'SYSTEM',
): Promise<boolean> {
  const t = { missionId: target.missionId ?? null, workflowId: target.workflowId ?? null, taskId: target.taskId ?? null, agentId: target.agentId ?? null };
  return (await insert(sql, { ...t, type, content: content.slice(0, 10_000) }, SYSTEM_ACTOR, workspaceId, key)) !== null;
}

/** Authors change their own comments and admins any; the engine's SYSTEM comments are changed by no one. */
function assertMayChange(c: Comment, actor: Actor & { role: Role }, what: 'edit' | 'delete'): void {
  if (c.type === 'SYSTEM' && (what === 'edit' || actor.role !== 'ADMIN')) {
    throw new ForbiddenError(what === 'edit' ? 'A SYSTEM comment is the engine’s own record; no one edits it.' : 'Only an admin deletes a SYSTEM comment.');
  }
  if (c.authorId !== actor.id && actor.role !== 'ADMIN') throw new ForbiddenError(`Only its author (${c.author}) or an admin may ${what} this comment.`);
}

export async function updateComment(sql: Sql, id: string, patch: CommentPatch, actor: Actor & { role: Role }, ws: WorkspaceRef): Promise<Comment> {
  return sql.begin(async (tx) => {
    const before = await getComment(tx, id, ws, { lock: true });
    assertMayChange(before, actor, 'edit');
    const content = patch.content ?? before.content;
    const type = patch.type ?? before.type;
    if (content === before.content && type === before.type) return before;
    const mentions = await mentionedMembers(tx, content, before.workspaceId);
    const [after] = await tx<Comment[]>`
      update comments set content = ${content}, type = ${type}, mentions = ${mentions}, updated_at = now()
      where id = ${id} returning ${columns(tx)}`;
    await record(tx, after!, 'comment.updated', actor, { from: { type: before.type, excerpt: before.content.slice(0, 200) } });
    return after!;
  });
}

export async function deleteComment(sql: Sql, id: string, actor: Actor & { role: Role }, ws: WorkspaceRef): Promise<void> {
  await sql.begin(async (tx) => {
    const c = await getComment(tx, id, ws, { lock: true });
    assertMayChange(c, actor, 'delete');
    await tx`delete from comments where id = ${id}`;
    await record(tx, c, 'comment.deleted', actor);
  });
}

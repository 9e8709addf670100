// The task board's work items (seed 002's tasks): a piece of work in BACKLOG,
// DOING, NEEDS_APPROVAL or DONE, about the campaign, lead, draft, run and task
// it names, held by an agent or a person. Operators (and the patterns and
// agents that act as one) create items and move them between the first three
// columns; only an admin sets DONE, or takes an item out of DONE (seed 002 §7).
// Every change is one row of the item's timeline (task_events), audited with
// its event, in one transaction. The board (core/board/board.ts) shows items
// in the columns of runs: BACKLOG beside draft missions, DOING beside running
// runs, NEEDS_APPROVAL beside runs at a gate, DONE beside completed runs.
import type { Sql, TxSql } from '../../db/sql';
import { ConflictError, ForbiddenError, NotFoundError } from '../../lib/errors';
import { ROLE_RANK, type Role } from '../../lib/names';
import { appendAudit, type Actor } from '../audit/audit-log';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { getCampaign, refusedReference } from '../outreach/campaigns';
import { getDraft } from '../outreach/drafts';
import { getLead } from '../outreach/leads';
import type { WorkColumn, WorkItemCreateInput, WorkItemPatch } from './work-item-schemas';

export interface WorkItem {
  id: string;
  workspaceId: string;
  title: string;
  description: string;
  column: WorkColumn;
  columnChangedAt: Date;
  priority: string;
  campaignId: string | null;
  campaignName: string | null;
  leadId: string | null;
  leadName: string | null;
  draftId: string | null;
  draftTitle: string | null;
  workflowId: string | null;
  taskId: string | null;
  agentId: string | null;
  agentName: string | null;
  assignee: string | null;
  sourceKey: string | null;
  createdBy: string;
  updatedBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface TaskEvent {
  id: string;
  at: Date;
  actor: string;
  kind: 'created' | 'moved' | 'updated' | 'note';
  fromColumn: WorkColumn | null;
  toColumn: WorkColumn | null;
  note: string | null;
  details: Record<string, unknown>;
}

/** The least role that may move an item from `from` to `to`: admins alone finish work, or reopen it. */
export function leastRoleToMove(from: WorkColumn, to: WorkColumn): Role {
  return from === 'DONE' || to === 'DONE' ? 'ADMIN' : 'OPERATOR';
}

const columns = (sql: TxSql) => sql`
  w.id, w.workspace_id as "workspaceId", w.title, w.description, w.board_column as "column", w.column_changed_at as "columnChangedAt",
  w.priority, w.campaign_id as "campaignId", c.name as "campaignName", w.lead_id as "leadId", l.name as "leadName",
  w.draft_id as "draftId", coalesce(d.subject, left(d.body, 80)) as "draftTitle", w.workflow_id as "workflowId", w.task_id as "taskId",
  w.agent_id as "agentId", a.name as "agentName", w.assignee, w.source_key as "sourceKey", w.created_by as "createdBy",
  w.updated_by as "updatedBy", w.created_at as "createdAt", w.updated_at as "updatedAt"`;
const from = (sql: TxSql) => sql`
  work_items w
  left join campaigns c on c.id = w.campaign_id
  left join leads l on l.id = w.lead_id
  left join drafts d on d.id = w.draft_id
  left join agents a on a.id = w.agent_id`;

export interface WorkItemFilter {
  column?: WorkColumn;
  campaignId?: string;
  leadId?: string;
  draftId?: string;
  workflowId?: string;
  agentId?: string;
  /** Titles containing this. */
  q?: string;
  priority?: string;
  /** Items created before this one (keyset paging, newest first). */
  before?: string;
  limit: number;
}

const like = (q: string) => `%${q.replace(/[%_\\]/g, '\\$&')}%`;

export async function listWorkItems(sql: TxSql, f: WorkItemFilter, ws: WorkspaceRef): Promise<WorkItem[]> {
  return sql<WorkItem[]>`
    select ${columns(sql)} from ${from(sql)}
    where w.workspace_id = ${workspaceIdOf(sql, ws)}
      ${f.column ? sql`and w.board_column = ${f.column}` : sql``}
      ${f.campaignId ? sql`and w.campaign_id = ${f.campaignId}` : sql``}
      ${f.leadId ? sql`and w.lead_id = ${f.leadId}` : sql``}
      ${f.draftId ? sql`and w.draft_id = ${f.draftId}` : sql``}
      ${f.workflowId ? sql`and w.workflow_id = ${f.workflowId}` : sql``}
      ${f.agentId ? sql`and w.agent_id = ${f.agentId}` : sql``}
      ${f.priority ? sql`and w.priority = ${f.priority}` : sql``}
      ${f.q ? sql`and w.title ilike ${like(f.q)}` : sql``}
      ${f.before ? sql`and (w.created_at, w.id) < (
        select p.created_at, p.id from work_items p where p.id = ${f.before} and p.workspace_id = ${workspaceIdOf(sql, ws)})` : sql``}
    order by w.created_at desc, w.id desc
    limit ${f.limit}`;
}

/** The board's share: each column's most recently moved items (up to `perColumn`) and how many it holds. */
export async function boardWorkItems(
  sql: TxSql, f: { q?: string; priority?: string }, perColumn: number, ws?: WorkspaceRef,
): Promise<Record<WorkColumn, { items: WorkItem[]; count: number }>> {
  const filter = sql`w.workspace_id = ${workspaceIdOf(sql, ws)}
    ${f.priority ? sql`and w.priority = ${f.priority}` : sql``}
    ${f.q ? sql`and w.title ilike ${like(f.q)}` : sql``}`;
  const [items, counts] = await Promise.all([
    sql<(WorkItem & { rank: number })[]>`
      select * from (
        select ${columns(sql)}, row_number() over (partition by w.board_column order by w.column_changed_at desc, w.id desc) as rank
        from ${from(sql)} where ${filter}
      ) ranked where rank <= ${perColumn}
      order by "columnChangedAt" desc, id desc`,
    sql<{ column: WorkColumn; n: number }[]>`
      select w.board_column as "column", count(*)::int as n from work_items w where ${filter} group by w.board_column`,
  ]);
  const board = { BACKLOG: { items: [], count: 0 }, DOING: { items: [], count: 0 }, NEEDS_APPROVAL: { items: [], count: 0 }, DONE: { items: [], count: 0 } } as Record<WorkColumn, { items: WorkItem[]; count: number }>;
  for (const { rank: _rank, ...item } of items) board[item.column].items.push(item);
  for (const c of counts) board[c.column].count = c.n;
  return board;
}

export async function getWorkItem(sql: TxSql, id: string, ws: WorkspaceRef, opts: { lock?: boolean } = {}): Promise<WorkItem> {
  const [w] = await sql<WorkItem[]>`
    select ${columns(sql)} from ${from(sql)}
    where w.id = ${id} and w.workspace_id = ${workspaceIdOf(sql, ws)}
    ${opts.lock ? sql`for update of w` : sql``}`;
  if (!w) throw new NotFoundError('Work item');
  return w;
}

const eventColumns = (sql: TxSql) =>
  sql`id::text, at, actor, kind, from_column as "fromColumn", to_column as "toColumn", note, details`;

/** An item's timeline, oldest first (its first 500 entries). */
export async function workItemTimeline(sql: TxSql, id: string, ws: WorkspaceRef): Promise<TaskEvent[]> {
  return sql<TaskEvent[]>`
    select ${eventColumns(sql)}
    from task_events e
    where e.work_item_id = ${id} and e.workspace_id = ${workspaceIdOf(sql, ws)}
    order by e.id limit 500`;
}

type Links = Pick<WorkItem, 'campaignId' | 'leadId' | 'draftId' | 'workflowId' | 'taskId' | 'agentId' | 'assignee'>;
const LINK_KEYS = ['campaignId', 'leadId', 'draftId', 'workflowId', 'taskId', 'agentId', 'assignee'] as const;

/**
 * The links an item will have, checked: each names a record of the workspace (a 400 naming the field when it
 * does not); a lead or draft brings its campaign when none is given, and one of another campaign is refused.
 */
async function checkedLinks(tx: TxSql, l: Links, ws: WorkspaceRef): Promise<Links> {
  const out = { ...l };
  const refuse = (field: string, what: string) => (err: unknown) => {
    if (err instanceof NotFoundError) throw refusedReference(field, what);
    throw err;
  };
  const lead = l.leadId ? await getLead(tx, l.leadId, ws).catch(refuse('leadId', 'lead')) : null;
  const draft = l.draftId ? await getDraft(tx, l.draftId, ws).catch(refuse('draftId', 'draft')) : null;
  if (l.campaignId) await getCampaign(tx, l.campaignId, ws).catch(refuse('campaignId', 'campaign'));
  for (const [what, campaignId] of [['lead', lead?.campaignId], ['draft', draft?.campaignId]] as const) {
    if (!campaignId) continue;
    if (out.campaignId && out.campaignId !== campaignId) throw new ConflictError(`The ${what} is of another campaign than the item's.`, { field: `${what}Id` });
    out.campaignId = campaignId;
  }
  if (lead && draft?.leadId && draft.leadId !== lead.id) throw new ConflictError('The draft is written for another lead than the item names.', { field: 'draftId' });
  if (l.taskId && !l.workflowId) throw refusedReference('taskId', 'task of the item’s run (name the run with workflowId)');
  if (l.workflowId) {
    const missionId = l.workflowId.slice('mission-'.length, 'mission-'.length + 36);
    const [m] = await tx`select 1 from missions where id = ${missionId} and workspace_id = ${workspaceIdOf(tx, ws)}`;
    if (!m) throw refusedReference('workflowId', 'run of a mission');
    if (l.taskId) {
      const [t] = await tx`select 1 from mission_tasks where id = ${l.taskId} and mission_id = ${missionId}`;
      if (!t) throw refusedReference('taskId', 'task of the run’s mission');
    }
  }
  if (l.agentId) {
    const [a] = await tx`select 1 from agents where id = ${l.agentId} and workspace_id = ${workspaceIdOf(tx, ws)} and deleted_at is null`;
    if (!a) throw refusedReference('agentId', 'agent');
  }
  return out;
}

function assertMayMove(from: WorkColumn, to: WorkColumn, role: Role): void {
  const least = leastRoleToMove(from, to);
  if (ROLE_RANK[role] < ROLE_RANK[least]) {
    throw new ForbiddenError(
      to === 'DONE' ? `Only an admin sets a work item DONE; you are ${role}.`
        : from === 'DONE' ? `Only an admin takes a work item out of DONE; you are ${role}.`
          : `Moving a work item needs the ${least} role; you are ${role}.`,
    );
  }
}

async function record(
  tx: TxSql, item: Pick<WorkItem, 'id' | 'workspaceId' | 'title'>, actor: Actor,
  e: { kind: TaskEvent['kind']; from?: WorkColumn; to?: WorkColumn; note?: string | null; details?: Record<string, unknown>; key?: string },
): Promise<TaskEvent> {
  const [row] = await tx<TaskEvent[]>`
    insert into task_events (work_item_id, workspace_id, actor, actor_id, kind, from_column, to_column, note, details, idempotency_key)
    values (${item.id}, ${item.workspaceId}, ${actor.name}, ${actor.id}, ${e.kind}, ${e.from ?? null}, ${e.to ?? null},
            ${e.note ?? null}, ${tx.json((e.details ?? {}) as never)}, ${e.key ?? null})
    on conflict (idempotency_key) do nothing
    returning ${eventColumns(tx)}`;
  // The same key again (a retried writer): the entry made the first time, and nothing more.
  if (!row) return (await tx<TaskEvent[]>`select ${eventColumns(tx)} from task_events where idempotency_key = ${e.key!}`)[0]!;
  const action = e.kind === 'moved' ? 'work_item.moved' : e.kind === 'note' ? 'work_item.noted' : `work_item.${e.kind}`;
  await appendAudit(tx, {
    actor, action, entityType: 'work_item', entityId: item.id, workspaceId: item.workspaceId,
    details: { title: item.title, ...(e.from ? { from: e.from } : {}), ...(e.to ? { to: e.to } : {}), ...(e.note ? { note: e.note.slice(0, 500) } : {}), ...e.details },
  });
  return row;
}

/**
 * A new item in the caller's workspace (in BACKLOG unless it says otherwise; a role may create an item only in
 * a column it may move one to). With a sourceKey, the same key is the same item: a second create answers the
 * item the first made (`created: false`) and writes nothing.
 */
export async function createWorkItem(
  sql: Sql, input: WorkItemCreateInput, actor: Actor & { role: Role }, ws: WorkspaceRef,
): Promise<{ item: WorkItem; created: boolean }> {
  assertMayMove('BACKLOG', input.column, actor.role);
  return sql.begin(async (tx) => {
    if (input.sourceKey) {
      const [existing] = await tx<{ id: string }[]>`
        select id from work_items where workspace_id = ${workspaceIdOf(tx, ws)} and source_key = ${input.sourceKey}`;
      if (existing) return { item: await getWorkItem(tx, existing.id, ws), created: false };
    }
    const l = await checkedLinks(tx, Object.fromEntries(LINK_KEYS.map((k) => [k, input[k] ?? null])) as Links, ws);
    const [row] = await tx<{ id: string; workspaceId: string }[]>`
      insert into work_items (workspace_id, title, description, board_column, priority, campaign_id, lead_id, draft_id, workflow_id,
                              task_id, agent_id, assignee, source_key, created_by, updated_by)
      values (${workspaceIdOf(tx, ws)}, ${input.title}, ${input.description}, ${input.column}, ${input.priority}, ${l.campaignId},
              ${l.leadId}, ${l.draftId}, ${l.workflowId}, ${l.taskId}, ${l.agentId}, ${l.assignee}, ${input.sourceKey ?? null},
              ${actor.name}, ${actor.name})
      on conflict (workspace_id, source_key) do nothing
      returning id, workspace_id as "workspaceId"`;
    if (!row) {
      // A concurrent create with the same key won the race: its item is this one.
      const [existing] = await tx<{ id: string }[]>`select id from work_items where workspace_id = ${workspaceIdOf(tx, ws)} and source_key = ${input.sourceKey!}`;
      return { item: await getWorkItem(tx, existing!.id, ws), created: false };
    }
    await record(tx, { id: row.id, workspaceId: row.workspaceId, title: input.title }, actor, {
      kind: 'created', to: input.column, details: { priority: input.priority, ...Object.fromEntries(LINK_KEYS.filter((k) => l[k]).map((k) => [k, l[k]])) },
    });
    return { item: await getWorkItem(tx, row.id, ws), created: true };
  });
}

const FIELDS = ['title', 'description', 'priority'] as const;

/**
 * Changes an item's fields and links, and moves it when the patch names another column (with the patch's note),
 * each checked as above: one timeline row for the changes, one for the move (a note without a move is a note).
 * A patch that changes nothing writes nothing, so a retried request is recorded once.
 */
export async function updateWorkItem(
  sql: Sql, id: string, patch: WorkItemPatch, actor: Actor & { role: Role }, ws: WorkspaceRef,
): Promise<WorkItem> {
  return sql.begin(async (tx) => {
    const before = await getWorkItem(tx, id, ws, { lock: true });
    const to = patch.column ?? before.column;
    if (to !== before.column) assertMayMove(before.column, to, actor.role);
    const wanted = Object.fromEntries(LINK_KEYS.map((k) => [k, patch[k] === undefined ? before[k] : patch[k]])) as Links;
    // Unlinking the run unlinks its task too; naming a new run without a task drops the old run's task.
    if (patch.workflowId !== undefined && patch.taskId === undefined && wanted.workflowId !== before.workflowId) wanted.taskId = null;
    const linksChanged = LINK_KEYS.some((k) => wanted[k] !== before[k]);
    const l = linksChanged ? await checkedLinks(tx, wanted, ws) : wanted;
    const fields = Object.fromEntries(FIELDS.map((k) => [k, patch[k] ?? before[k]])) as Pick<WorkItem, (typeof FIELDS)[number]>;
    const changed = [...FIELDS.filter((k) => fields[k] !== before[k]), ...LINK_KEYS.filter((k) => l[k] !== before[k])];
    const moved = to !== before.column;
    if (!changed.length && !moved && !patch.note) return before;
    await tx`
      update work_items set title = ${fields.title}, description = ${fields.description}, priority = ${fields.priority},
             campaign_id = ${l.campaignId}, lead_id = ${l.leadId}, draft_id = ${l.draftId}, workflow_id = ${l.workflowId},
             task_id = ${l.taskId}, agent_id = ${l.agentId}, assignee = ${l.assignee},
             board_column = ${to}, column_changed_at = ${to === before.column ? before.columnChangedAt : tx`now()`},
             updated_by = ${actor.name}, updated_at = now()
      where id = ${id}`;
    const item = { id, workspaceId: before.workspaceId, title: fields.title };
    if (changed.length) {
      // A description can be long: the entry says that it changed, not what it says.
      const changes = Object.fromEntries(changed.map((k) => [k, k === 'description' ? { changed: true } : { from: (before as never)[k], to: ({ ...fields, ...l } as never)[k] }]));
      await record(tx, item, actor, { kind: 'updated', details: { changes } });
    }
    if (moved) await record(tx, item, actor, { kind: 'moved', from: before.column, to, note: patch.note || null });
    else if (patch.note) await record(tx, item, actor, { kind: 'note', note: patch.note });
    return getWorkItem(tx, id, ws);
  });
}

/** A note on an item's timeline (an operator's word on the work, a pattern's progress); with a key, written once. */
export async function noteWorkItem(sql: Sql, id: string, note: string, actor: Actor, ws: WorkspaceRef, key?: string): Promise<TaskEvent> {
  return sql.begin(async (tx) => {
    const item = await getWorkItem(tx, id, ws, { lock: true });
    return record(tx, item, actor, { kind: 'note', note, key });
  });
}

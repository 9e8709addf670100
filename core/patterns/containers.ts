// Containers: named, categorised groups of patterns, each in one workspace.
// A container of another workspace is, to every function here, one that does not exist.
import type { Sql, TxSql } from '../../db/sql';
import { rethrowConstraint } from '../../db/errors';
import { ConflictError, NotFoundError } from '../../lib/errors';
import { appendAudit, type Actor } from '../audit/audit-log';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import type { Category, ContainerInput, ContainerPatch } from './schemas';

export interface Container {
  id: string;
  name: string;
  description: string;
  category: Category;
  isActive: boolean;
  isDefault: boolean;
  priority: number;
  createdAt: Date;
  updatedAt: Date;
  patternCount: number;
}

const columns = (sql: TxSql) => sql`
  c.id, c.name, c.description, c.category, c.is_active as "isActive", c.is_default as "isDefault",
  c.priority, c.created_at as "createdAt", c.updated_at as "updatedAt",
  (select count(*)::int from patterns p where p.container_id = c.id) as "patternCount"`;

export async function listContainers(
  sql: TxSql,
  q: { category?: Category; active?: boolean; q?: string; limit: number; offset: number },
  ws?: WorkspaceRef,
): Promise<{ items: Container[]; total: number }> {
  const where = sql`
    where c.workspace_id = ${workspaceIdOf(sql, ws)}
      ${q.category ? sql`and c.category = ${q.category}` : sql``}
      ${q.active !== undefined ? sql`and c.is_active = ${q.active}` : sql``}
      ${q.q ? sql`and c.name ilike ${'%' + q.q.replace(/[%_\\]/g, '\\$&') + '%'}` : sql``}`;
  const items = await sql<Container[]>`
    select ${columns(sql)} from containers c ${where}
    order by c.priority desc, lower(c.name) limit ${q.limit} offset ${q.offset}`;
  const [{ total }] = (await sql`select count(*)::int as total from containers c ${where}`) as [{ total: number }];
  return { items, total };
}

export async function getContainer(sql: TxSql, id: string, ws?: WorkspaceRef): Promise<Container> {
  const [row] = await sql<Container[]>`select ${columns(sql)} from containers c where c.id = ${id} and c.workspace_id = ${workspaceIdOf(sql, ws)}`;
  if (!row) throw new NotFoundError('Container');
  return row;
}

const uniqueMessages = (name: string, category: string) => ({
  unique: `A container named "${name}" already exists, or ${category} already has a default container.`,
});

export async function createContainer(sql: Sql, input: ContainerInput, actor: Actor, ws?: WorkspaceRef): Promise<Container> {
  try {
    return await sql.begin(async (tx) => {
      const [row] = await tx<{ id: string }[]>`
        insert into containers (name, description, category, is_active, is_default, priority, workspace_id)
        values (${input.name}, ${input.description}, ${input.category}, ${input.isActive}, ${input.isDefault}, ${input.priority},
                ${workspaceIdOf(tx, ws)})
        returning id`;
      await appendAudit(tx, {
        actor, action: 'container.created', entityType: 'container', entityId: row!.id,
        details: { name: input.name, category: input.category }, workspaceId: ws?.id,
      });
      return getContainer(tx, row!.id, ws);
    });
  } catch (err) {
    rethrowConstraint(err, uniqueMessages(input.name, input.category));
  }
}

export async function updateContainer(sql: Sql, id: string, patch: ContainerPatch, actor: Actor, ws?: WorkspaceRef): Promise<Container> {
  try {
    return await sql.begin(async (tx) => {
      const before = await getContainer(tx, id, ws);
      await tx`
        update containers set
          name = ${patch.name ?? before.name},
          description = ${patch.description ?? before.description},
          category = ${patch.category ?? before.category},
          is_active = ${patch.isActive ?? before.isActive},
          is_default = ${patch.isDefault ?? before.isDefault},
          priority = ${patch.priority ?? before.priority},
          updated_at = now()
        where id = ${id} and workspace_id = ${workspaceIdOf(tx, ws)}`;
      await appendAudit(tx, { actor, action: 'container.updated', entityType: 'container', entityId: id, details: { changes: patch }, workspaceId: ws?.id });
      return getContainer(tx, id, ws);
    });
  } catch (err) {
    rethrowConstraint(err, uniqueMessages(patch.name ?? 'that', patch.category ?? 'its category'));
  }
}

/** Deletes an empty container that no mission uses; otherwise says what still depends on it. */
export async function deleteContainer(sql: Sql, id: string, actor: Actor, ws?: WorkspaceRef): Promise<void> {
  await sql.begin(async (tx) => {
    const container = await getContainer(tx, id, ws);
    const users = await tx<{ name: string }[]>`select name from missions where container_id = ${id} order by name limit 5`;
    if (users.length) {
      throw new ConflictError(
        `Missions still use this container (${users.map((u) => u.name).join(', ')}). Move or delete them first, or deactivate the container instead.`,
        { missions: users.map((u) => u.name) },
      );
    }
    if (container.patternCount > 0) {
      throw new ConflictError(`This container still holds ${container.patternCount} pattern(s). Delete or move them first, or deactivate the container instead.`);
    }
    await tx`delete from containers where id = ${id} and workspace_id = ${workspaceIdOf(tx, ws)}`;
    await appendAudit(tx, {
      actor, action: 'container.deleted', entityType: 'container', entityId: id, details: { name: container.name }, workspaceId: ws?.id,
    });
  });
}

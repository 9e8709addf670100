// Agent definitions (seed 003's AgentDefinition): a kind of agent, with its
// capabilities, the commands it accepts (each with its payload schema, the
// least role that may send it and a timeout), the input schema of its tasks,
// its outputs and triggers. Every change to those is a new immutable version
// (like a pattern's); name, category and status change in place.
import type { Sql, TxSql } from '../../db/sql';
import { rethrowConstraint } from '../../db/errors';
import { NotFoundError } from '../../lib/errors';
import { appendAudit, type Actor } from '../audit/audit-log';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import type { CommandSpec, DefinitionCreateInput, DefinitionVersionInput } from './schemas';

export interface DefinitionVersion {
  id: string;
  version: number;
  description: string;
  capabilities: string[];
  commands: CommandSpec[];
  inputsSchema: Record<string, unknown>;
  outputsConfig: { key: string; type: string; description?: string; required?: boolean }[];
  triggersConfig: { type: string; config: Record<string, unknown> }[];
  configSchema: Record<string, unknown>;
  note: string | null;
  createdBy: string;
  createdAt: Date;
}

export interface AgentDefinition extends Omit<DefinitionVersion, 'id' | 'note' | 'createdBy' | 'createdAt'> {
  id: string;
  name: string;
  category: string;
  status: 'draft' | 'active' | 'deprecated';
  currentVersion: number;
  versionId: string;
  agentCount: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const versionColumns = (sql: TxSql) => sql`
  v.description, v.capabilities, v.commands, v.inputs_schema as "inputsSchema", v.outputs_config as "outputsConfig",
  v.triggers_config as "triggersConfig", v.config_schema as "configSchema"`;

async function selectDefinitions(sql: TxSql, ws: WorkspaceRef | undefined, filter: { id?: string; name?: string }): Promise<AgentDefinition[]> {
  return sql<AgentDefinition[]>`
    select d.id, d.name, d.category, d.status, d.current_version as "currentVersion", v.id as "versionId", v.version, ${versionColumns(sql)},
           d.created_by as "createdBy", d.created_at as "createdAt", d.updated_at as "updatedAt",
           (select count(*)::int from agents a where a.definition_id = d.id and a.deleted_at is null) as "agentCount"
    from agent_definitions d
    join agent_definition_versions v on v.definition_id = d.id and v.version = d.current_version
    where d.workspace_id = ${workspaceIdOf(sql, ws)}
      ${filter.id ? sql`and d.id = ${filter.id}` : sql``}
      ${filter.name ? sql`and lower(d.name) = lower(${filter.name})` : sql``}
    order by lower(d.name)`;
}

export function listDefinitions(sql: TxSql, ws?: WorkspaceRef): Promise<AgentDefinition[]> {
  return selectDefinitions(sql, ws, {});
}

export async function getDefinition(sql: TxSql, id: string, ws?: WorkspaceRef): Promise<AgentDefinition> {
  const [d] = await selectDefinitions(sql, ws, { id });
  if (!d) throw new NotFoundError('Agent definition');
  return d;
}

export async function listDefinitionVersions(sql: TxSql, id: string, ws?: WorkspaceRef): Promise<DefinitionVersion[]> {
  return sql<DefinitionVersion[]>`
    select v.id, v.version, ${versionColumns(sql)}, v.note, v.created_by as "createdBy", v.created_at as "createdAt"
    from agent_definition_versions v
    where v.definition_id = ${id} and v.workspace_id = ${workspaceIdOf(sql, ws)}
    order by v.version desc`;
}

async function insertVersion(tx: TxSql, definitionId: string, version: number, v: DefinitionVersionInput, actor: Actor, workspaceId: string) {
  await tx`
    insert into agent_definition_versions (workspace_id, definition_id, version, description, capabilities, commands, inputs_schema,
                                           outputs_config, triggers_config, config_schema, note, created_by)
    values (${workspaceId}, ${definitionId}, ${version}, ${v.description}, ${v.capabilities}, ${tx.json(v.commands as never)},
            ${tx.json(v.inputsSchema as never)}, ${tx.json(v.outputsConfig as never)}, ${tx.json(v.triggersConfig as never)},
            ${tx.json(v.configSchema as never)}, ${v.note ?? null}, ${actor.name})`;
}

const NAME_TAKEN = 'An agent definition with this name already exists in this workspace.';

export async function createDefinition(sql: Sql, input: DefinitionCreateInput, actor: Actor, ws?: WorkspaceRef): Promise<AgentDefinition> {
  return sql.begin(async (tx) => {
    const [row] = await tx<{ id: string; workspaceId: string }[]>`
      insert into agent_definitions (workspace_id, name, category, status, created_by)
      values (${workspaceIdOf(tx, ws)}, ${input.name}, ${input.category}, ${input.status}, ${actor.name})
      returning id, workspace_id as "workspaceId"`.catch((err) => rethrowConstraint(err, { unique: NAME_TAKEN }));
    await insertVersion(tx, row!.id, 1, input, actor, row!.workspaceId);
    await appendAudit(tx, {
      actor, action: 'agent_definition.created', entityType: 'agent_definition', entityId: row!.id,
      details: { name: input.name, version: 1, commands: input.commands.map((c) => c.type) }, workspaceId: row!.workspaceId,
    });
    return getDefinition(tx, row!.id, { id: row!.workspaceId });
  });
}

/** Saves a new version and makes it current; agents of this kind follow it from their next hello. */
export async function addDefinitionVersion(sql: Sql, id: string, input: DefinitionVersionInput, actor: Actor, ws?: WorkspaceRef): Promise<AgentDefinition> {
  return sql.begin(async (tx) => {
    const [row] = await tx<{ version: number; workspaceId: string; name: string }[]>`
      update agent_definitions set current_version = current_version + 1, updated_at = now()
      where id = ${id} and workspace_id = ${workspaceIdOf(tx, ws)}
      returning current_version as version, workspace_id as "workspaceId", name`;
    if (!row) throw new NotFoundError('Agent definition');
    await insertVersion(tx, id, row.version, input, actor, row.workspaceId);
    await appendAudit(tx, {
      actor, action: 'agent_definition.versioned', entityType: 'agent_definition', entityId: id,
      details: { name: row.name, version: row.version, note: input.note ?? null, commands: input.commands.map((c) => c.type) }, workspaceId: row.workspaceId,
    });
    return getDefinition(tx, id, { id: row.workspaceId });
  });
}

export async function updateDefinition(
  sql: Sql, id: string, patch: { name?: string; category?: string; status?: AgentDefinition['status'] }, actor: Actor, ws?: WorkspaceRef,
): Promise<AgentDefinition> {
  return sql.begin(async (tx) => {
    const before = await getDefinition(tx, id, ws);
    const [row] = await tx<{ workspaceId: string }[]>`
      update agent_definitions set name = ${patch.name ?? before.name}, category = ${patch.category ?? before.category},
             status = ${patch.status ?? before.status}, updated_at = now()
      where id = ${id} returning workspace_id as "workspaceId"`.catch((err) => rethrowConstraint(err, { unique: NAME_TAKEN }));
    const changes = Object.fromEntries(
      (['name', 'category', 'status'] as const).filter((k) => patch[k] !== undefined && patch[k] !== before[k]).map((k) => [k, { from: before[k], to: patch[k] }]),
    );
    if (Object.keys(changes).length) {
      await appendAudit(tx, {
        actor, action: changes.status && Object.keys(changes).length === 1 ? 'agent_definition.status_changed' : 'agent_definition.updated',
        entityType: 'agent_definition', entityId: id, details: { name: patch.name ?? before.name, changes }, workspaceId: row!.workspaceId,
      });
    }
    return getDefinition(tx, id, ws);
  });
}

/** The command an agent of this definition accepts, as its current version declares it. */
export function commandSpecOf(def: Pick<AgentDefinition, 'commands'>, type: string): CommandSpec | undefined {
  return def.commands.find((c) => c.type === type);
}

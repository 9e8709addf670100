// Agent configurations (seed 003's AgentConfiguration): YAML that an agent of a
// definition runs with, every change a new immutable version, checked against
// the definition's config schema. Assigning one to an agent is desired state:
// its stream sends the assigned version until the agent acknowledges it
// (applied or rejected), on whichever replica it is connected to.
import { createHash } from 'node:crypto';
import { LineCounter, parseDocument } from 'yaml';
import type { Sql, TxSql } from '../../db/sql';
import { rethrowConstraint } from '../../db/errors';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import { appendAudit, type Actor } from '../audit/audit-log';
import { getAgent, wakeAgent } from './agents';
import { getDefinition } from './definitions';
import { assertMatches } from './json-schema';

export interface AgentConfiguration {
  id: string;
  definitionId: string;
  definitionName: string;
  name: string;
  description: string;
  status: 'active' | 'inactive' | 'archived';
  currentVersion: number;
  yaml: string;
  effective: unknown;
  lastRunStatus: string | null;
  lastRunAt: Date | null;
  lastRunOutputPreview: string | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface ConfigurationVersion {
  version: number;
  yaml: string;
  sha256: string;
  note: string | null;
  createdBy: string;
  createdAt: Date;
}

/** Parses YAML (the core schema: no custom tags, few aliases) and says where it is wrong. */
export function parseConfigYaml(text: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { schema: 'core', customTags: [], lineCounter, uniqueKeys: true, prettyErrors: false });
  const [err] = doc.errors;
  if (err) {
    const at = err.pos ? lineCounter.linePos(err.pos[0]) : null;
    throw new ValidationError(`The YAML is not valid${at ? ` (line ${at.line}, column ${at.col})` : ''}: ${err.message.split('\n')[0]}`, at ? { line: at.line, column: at.col } : undefined);
  }
  try {
    return doc.toJS({ maxAliasCount: 50 }) ?? {};
  } catch (e) {
    throw new ValidationError(`The YAML cannot be used: ${(e as Error).message}`);
  }
}

async function checkedYaml(tx: TxSql, definitionId: string, yaml: string, ws: { id: string }): Promise<{ effective: unknown; sha: string }> {
  const def = await getDefinition(tx, definitionId, ws);
  const effective = parseConfigYaml(yaml);
  assertMatches(`The configuration for ${def.name}`, def.configSchema, effective);
  return { effective, sha: createHash('sha256').update(yaml).digest('hex') };
}

const configColumns = (sql: TxSql) => sql`
  c.id, c.definition_id as "definitionId", d.name as "definitionName", c.name, c.description, c.status, c.current_version as "currentVersion",
  v.yaml_text as yaml, v.effective, c.last_run_status as "lastRunStatus", c.last_run_at as "lastRunAt",
  c.last_run_output_preview as "lastRunOutputPreview", c.created_by as "createdBy", c.created_at as "createdAt", c.updated_at as "updatedAt"`;

export async function listConfigurations(sql: TxSql, ws: { id: string }, filter: { id?: string; definitionId?: string } = {}): Promise<AgentConfiguration[]> {
  return sql<AgentConfiguration[]>`
    select ${configColumns(sql)} from agent_configurations c
    join agent_definitions d on d.id = c.definition_id
    join agent_configuration_versions v on v.configuration_id = c.id and v.version = c.current_version
    where c.workspace_id = ${ws.id}
      ${filter.id ? sql`and c.id = ${filter.id}` : sql``}
      ${filter.definitionId ? sql`and c.definition_id = ${filter.definitionId}` : sql``}
    order by lower(c.name)`;
}

export async function getConfiguration(sql: TxSql, id: string, ws: { id: string }): Promise<AgentConfiguration> {
  const [c] = await listConfigurations(sql, ws, { id });
  if (!c) throw new NotFoundError('Agent configuration');
  return c;
}

export async function listConfigurationVersions(sql: TxSql, id: string, ws: { id: string }): Promise<ConfigurationVersion[]> {
  return sql<ConfigurationVersion[]>`
    select version, yaml_text as yaml, sha256, note, created_by as "createdBy", created_at as "createdAt"
    from agent_configuration_versions where configuration_id = ${id} and workspace_id = ${ws.id} order by version desc`;
}

export async function createConfiguration(
  sql: Sql, input: { definitionId: string; name: string; description: string; yaml: string }, actor: Actor, ws: { id: string },
): Promise<AgentConfiguration> {
  return sql.begin(async (tx) => {
    const { effective, sha } = await checkedYaml(tx, input.definitionId, input.yaml, ws);
    const [row] = await tx<{ id: string }[]>`
      insert into agent_configurations (workspace_id, definition_id, name, description, created_by_user_id, created_by)
      values (${ws.id}, ${input.definitionId}, ${input.name}, ${input.description}, ${actor.id}, ${actor.name}) returning id`
      .catch((err) => rethrowConstraint(err, { unique: 'A configuration with this name already exists in this workspace.' }));
    await tx`
      insert into agent_configuration_versions (workspace_id, configuration_id, version, yaml_text, effective, sha256, created_by)
      values (${ws.id}, ${row!.id}, 1, ${input.yaml}, ${tx.json(effective as never)}, ${sha}, ${actor.name})`;
    await appendAudit(tx, { actor, action: 'agent_configuration.created', entityType: 'agent_configuration', entityId: row!.id, details: { name: input.name, version: 1 }, workspaceId: ws.id });
    return getConfiguration(tx, row!.id, ws);
  });
}

/** A new version; every agent it is assigned to is sent it (their acknowledgement is pending again). */
export async function addConfigurationVersion(sql: Sql, id: string, input: { yaml: string; note?: string }, actor: Actor, ws: { id: string }): Promise<AgentConfiguration> {
  return sql.begin(async (tx) => {
    const before = await getConfiguration(tx, id, ws);
    if (before.status === 'archived') throw new ConflictError('This configuration is archived; make a new one instead.');
    if (before.yaml === input.yaml) throw new ConflictError('Nothing changed: the YAML is the same as the current version\'s.');
    const { effective, sha } = await checkedYaml(tx, before.definitionId, input.yaml, ws);
    const version = before.currentVersion + 1;
    await tx`
      insert into agent_configuration_versions (workspace_id, configuration_id, version, yaml_text, effective, sha256, note, created_by)
      values (${ws.id}, ${id}, ${version}, ${input.yaml}, ${tx.json(effective as never)}, ${sha}, ${input.note ?? null}, ${actor.name})`;
    await tx`update agent_configurations set current_version = ${version}, updated_at = now() where id = ${id}`;
    const pushed = await tx<{ id: string }[]>`
      update agents set config_version = ${version}, config_status = 'pending', config_message = null
      where configuration_id = ${id} and deleted_at is null returning id`;
    await appendAudit(tx, {
      actor, action: 'agent_configuration.versioned', entityType: 'agent_configuration', entityId: id,
      details: { name: before.name, version, note: input.note ?? null, agents: pushed.length }, workspaceId: ws.id,
    });
    for (const a of pushed) await wakeAgent(tx, a.id, ws.id, `config/${id}/${version}`);
    return getConfiguration(tx, id, ws);
  });
}

/** Assigns a configuration (its current version) to an agent, or none. */
export async function assignConfiguration(sql: Sql, agentId: string, configurationId: string | null, actor: Actor, ws: { id: string }): Promise<void> {
  await sql.begin(async (tx) => {
    const agent = await getAgent(tx, agentId, ws);
    const config = configurationId ? await getConfiguration(tx, configurationId, ws) : null;
    if (config && config.definitionId !== agent.definitionId) throw new ConflictError(`"${config.name}" configures ${config.definitionName}; "${agent.name}" is a ${agent.definitionName}.`);
    if (config && config.status !== 'active') throw new ConflictError(`"${config.name}" is ${config.status}; only an active configuration can be assigned.`);
    await tx`
      update agents set configuration_id = ${config?.id ?? null}, config_version = ${config?.currentVersion ?? null},
             config_status = ${config ? 'pending' : null}, config_message = null, config_applied_version = null
      where id = ${agentId}`;
    await appendAudit(tx, {
      actor, action: 'agent.configuration_assigned', entityType: 'agent', entityId: agentId,
      details: { name: agent.name, configuration: config?.name ?? null, version: config?.currentVersion ?? null }, workspaceId: ws.id,
    });
    await wakeAgent(tx, agentId, ws.id, `assign/${agentId}/${config?.id ?? 'none'}/${Date.now()}`);
  });
}

/** The configuration an agent should be running but has not acknowledged, if any. */
export async function pendingConfiguration(sql: TxSql, agentId: string): Promise<{ configurationId: string; name: string; version: number; yaml: string; effective: unknown } | null> {
  const [row] = await sql<{ configurationId: string; name: string; version: number; yaml: string; effective: unknown }[]>`
    select c.id as "configurationId", c.name, v.version, v.yaml_text as yaml, v.effective
    from agents a join agent_configurations c on c.id = a.configuration_id
    join agent_configuration_versions v on v.configuration_id = c.id and v.version = a.config_version
    where a.id = ${agentId} and a.config_status = 'pending'`;
  return row ?? null;
}

/** The agent's acknowledgement of a version it was sent. */
export async function acknowledgeConfiguration(sql: Sql, agentId: string, version: number, ack: { status: 'applied' | 'rejected'; message?: string }): Promise<void> {
  await sql.begin(async (tx) => {
    const [row] = await tx<{ name: string; workspaceId: string; configurationId: string }[]>`
      update agents set config_status = ${ack.status}, config_message = ${ack.message ?? null},
             config_applied_version = ${ack.status === 'applied' ? tx`${version}` : tx`config_applied_version`}
      where id = ${agentId} and config_version = ${version} and config_status = 'pending'
      returning name, workspace_id as "workspaceId", configuration_id as "configurationId"`;
    if (!row) throw new ConflictError('This agent has no pending configuration of that version (it was acknowledged already, or a newer one was assigned).');
    await appendAudit(tx, {
      actor: { id: null, name: `agent:${row.name}` }, action: `agent.configuration.${ack.status}`, entityType: 'agent', entityId: agentId,
      details: { name: row.name, version, configurationId: row.configurationId, ...(ack.message ? { message: ack.message } : {}) }, workspaceId: row.workspaceId,
    });
  });
}

// Agents: instances of a definition that connect and take orders. An admin
// registers one and gets its token (`mca_…`, hashed at rest, scoped to that
// one agent, revocable) and its signing secret, both shown once. The token
// speaks the agent protocol only (/api/agent/*); it never acts as a user.
import { createHmac } from 'node:crypto';
import type { Sql, TxSql } from '../../db/sql';
import { rethrowConstraint } from '../../db/errors';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import { AGENT_TOKEN_PREFIX, type AgentStatus } from '../../client/agent/protocol';
import { appendAudit, type Actor } from '../audit/audit-log';
import { appendEvent } from '../events/events';
import { randomSecret, sha256 } from '../access/credentials';
import { instanceSecret } from '../access/bootstrap';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { getDefinition } from './definitions';
import type { AgentCreateInput } from './schemas';

export interface Agent {
  id: string;
  workspaceId: string;
  name: string;
  definitionId: string;
  definitionName: string;
  definitionVersion: number;
  kind: 'http' | 'worker';
  status: AgentStatus;
  paused: boolean;
  capabilities: string[];
  metadata: Record<string, unknown>;
  version: string | null;
  heartbeatIntervalMs: number;
  lastHeartbeatAt: Date | null;
  statusChangedAt: Date;
  currentTask: string | null;
  resourceUsage: Record<string, number>;
  configurationId: string | null;
  configurationName: string | null;
  configVersion: number | null;
  configAppliedVersion: number | null;
  configStatus: 'pending' | 'applied' | 'rejected' | null;
  configMessage: string | null;
  createdBy: string;
  createdAt: Date;
}

/** What the one who registers an agent sees once: its token and its signing secret. */
export interface AgentCredentials {
  token: string;
  signingSecret: string;
}

const agentColumns = (sql: TxSql) => sql`
  a.id, a.workspace_id as "workspaceId", a.name, a.definition_id as "definitionId", d.name as "definitionName",
  d.current_version as "definitionVersion", a.kind, a.status, a.paused_at is not null as paused, a.capabilities, a.metadata, a.version,
  a.heartbeat_interval_ms as "heartbeatIntervalMs", a.last_heartbeat_at as "lastHeartbeatAt", a.status_changed_at as "statusChangedAt",
  a.current_task as "currentTask", a.resource_usage as "resourceUsage", a.configuration_id as "configurationId", c.name as "configurationName",
  a.config_version as "configVersion", a.config_applied_version as "configAppliedVersion", a.config_status as "configStatus",
  a.config_message as "configMessage", a.created_by as "createdBy", a.created_at as "createdAt"`;

const agentFrom = (sql: TxSql) => sql`
  agents a join agent_definitions d on d.id = a.definition_id left join agent_configurations c on c.id = a.configuration_id`;

export interface AgentFilter {
  status?: AgentStatus;
  capability?: string;
  definitionId?: string;
}

export async function listAgents(sql: TxSql, f: AgentFilter = {}, ws?: WorkspaceRef): Promise<Agent[]> {
  return sql<Agent[]>`
    select ${agentColumns(sql)} from ${agentFrom(sql)}
    where a.workspace_id = ${workspaceIdOf(sql, ws)} and a.deleted_at is null
      ${f.status ? sql`and a.status = ${f.status}` : sql``}
      ${f.capability ? sql`and ${f.capability} = any(a.capabilities)` : sql``}
      ${f.definitionId ? sql`and a.definition_id = ${f.definitionId}` : sql``}
    order by lower(a.name)`;
}

export async function getAgent(sql: TxSql, id: string, ws?: WorkspaceRef): Promise<Agent> {
  const [a] = await sql<Agent[]>`
    select ${agentColumns(sql)} from ${agentFrom(sql)}
    where a.id = ${id} and a.workspace_id = ${workspaceIdOf(sql, ws)} and a.deleted_at is null`;
  if (!a) throw new NotFoundError('Agent');
  return a;
}

const signingKeys = new WeakMap<Sql, Promise<string>>();

/** The instance's key for agent signing secrets: MC_AGENT_SIGNING_KEY, else generated once and kept in the database (read once per pool). */
export function agentSigningKey(sql: Sql, fromEnv?: string): Promise<string> {
  if (fromEnv) return Promise.resolve(fromEnv);
  let key = signingKeys.get(sql);
  if (!key) {
    key = instanceSecret(sql, 'agent_signing_key');
    key.catch(() => signingKeys.delete(sql));
    signingKeys.set(sql, key);
  }
  return key;
}

/** An agent's signing secret: derived, never stored, so a leak of the database's rows alone forges nothing. */
export function signingSecretOf(instanceKey: string, agentId: string, keyVersion: number): string {
  return createHmac('sha256', instanceKey).update(`agent-command:v1:${agentId}:${keyVersion}`).digest('base64url');
}

async function issueToken(tx: TxSql, agent: { id: string; workspaceId: string; keyVersion: number }, actor: Actor, instanceKey: string): Promise<AgentCredentials> {
  const token = AGENT_TOKEN_PREFIX + randomSecret();
  await tx`
    insert into agent_tokens (workspace_id, agent_id, token_hash, prefix, created_by)
    values (${agent.workspaceId}, ${agent.id}, ${sha256(token)}, ${token.slice(0, 8)}, ${actor.name})`;
  return { token, signingSecret: signingSecretOf(instanceKey, agent.id, agent.keyVersion) };
}

const NAME_TAKEN = 'An agent with this name already exists in this workspace.';

export async function createAgent(
  sql: Sql, input: AgentCreateInput, actor: Actor, instanceKey: string, ws?: WorkspaceRef,
): Promise<{ agent: Agent } & AgentCredentials> {
  return sql.begin(async (tx) => {
    const def = await getDefinition(tx, input.definitionId, ws).catch(() => {
      throw new ValidationError('definitionId names no agent definition of this workspace.', { field: 'definitionId' });
    });
    if (def.status === 'deprecated') throw new ConflictError(`The definition "${def.name}" is deprecated; agents of it cannot be registered.`);
    const [row] = await tx<{ id: string; workspaceId: string }[]>`
      insert into agents (workspace_id, name, definition_id, kind, heartbeat_interval_ms, capabilities, metadata, created_by)
      values (${workspaceIdOf(tx, ws)}, ${input.name}, ${def.id}, ${input.kind}, ${input.heartbeatIntervalMs},
              ${input.capabilities ?? def.capabilities}, ${tx.json(input.metadata as never)}, ${actor.name})
      returning id, workspace_id as "workspaceId"`.catch((err) => rethrowConstraint(err, { unique: NAME_TAKEN }));
    const credentials = await issueToken(tx, { ...row!, keyVersion: 1 }, actor, instanceKey);
    await appendAudit(tx, {
      actor, action: 'agent.created', entityType: 'agent', entityId: row!.id,
      details: { name: input.name, definition: def.name, kind: input.kind }, workspaceId: row!.workspaceId,
    });
    await appendAudit(tx, { actor, action: 'token.agent.created', entityType: 'agent', entityId: row!.id, details: { name: input.name, prefix: credentials.token.slice(0, 8) }, workspaceId: row!.workspaceId });
    return { agent: await getAgent(tx, row!.id, ws), ...credentials };
  });
}

/** A new token and signing secret; the old token stops working at once, and so do frames signed with the old secret. */
export async function rotateAgentToken(sql: Sql, id: string, actor: Actor, instanceKey: string, ws?: WorkspaceRef): Promise<AgentCredentials> {
  return sql.begin(async (tx) => {
    const [row] = await tx<{ id: string; workspaceId: string; keyVersion: number; name: string }[]>`
      update agents set signing_key_version = signing_key_version + 1, session_id = null, updated_at = now()
      where id = ${id} and workspace_id = ${workspaceIdOf(tx, ws)} and deleted_at is null
      returning id, workspace_id as "workspaceId", signing_key_version as "keyVersion", name`;
    if (!row) throw new NotFoundError('Agent');
    await tx`update agent_tokens set revoked_at = now() where agent_id = ${id} and revoked_at is null`;
    const credentials = await issueToken(tx, row, actor, instanceKey);
    await appendAudit(tx, { actor, action: 'token.agent.rotated', entityType: 'agent', entityId: id, details: { name: row.name, prefix: credentials.token.slice(0, 8) }, workspaceId: row.workspaceId });
    await wakeAgent(tx, id, row.workspaceId, `rotated/${id}/${row.keyVersion}`); // its open stream ends now
    return credentials;
  });
}

export async function updateAgent(
  sql: Sql, id: string, patch: { name?: string; heartbeatIntervalMs?: number; capabilities?: string[]; metadata?: Record<string, unknown> }, actor: Actor, ws?: WorkspaceRef,
): Promise<Agent> {
  return sql.begin(async (tx) => {
    const before = await getAgent(tx, id, ws);
    await tx`
      update agents set name = ${patch.name ?? before.name}, heartbeat_interval_ms = ${patch.heartbeatIntervalMs ?? before.heartbeatIntervalMs},
             capabilities = ${patch.capabilities ?? before.capabilities}, metadata = ${tx.json((patch.metadata ?? before.metadata) as never)}, updated_at = now()
      where id = ${id}`.catch((err) => rethrowConstraint(err, { unique: NAME_TAKEN }));
    await appendAudit(tx, { actor, action: 'agent.updated', entityType: 'agent', entityId: id, details: { name: patch.name ?? before.name, fields: Object.keys(patch) }, workspaceId: before.workspaceId });
    return getAgent(tx, id, ws);
  });
}

/** Removes an agent: its tokens stop working, its open commands are left to time out, its history stays. */
export async function deleteAgent(sql: Sql, id: string, actor: Actor, ws?: WorkspaceRef): Promise<void> {
  await sql.begin(async (tx) => {
    const before = await getAgent(tx, id, ws);
    await tx`update agents set deleted_at = now(), status = 'OFFLINE', session_id = null where id = ${id}`;
    await tx`update agent_tokens set revoked_at = now() where agent_id = ${id} and revoked_at is null`;
    await appendAudit(tx, { actor, action: 'agent.deleted', entityType: 'agent', entityId: id, details: { name: before.name }, workspaceId: before.workspaceId });
    await wakeAgent(tx, id, before.workspaceId, `deleted/${id}`); // its open stream ends now
  });
}

/** The agent a token speaks for (null for an unknown or revoked token, or a deleted agent). */
export async function authenticateAgentToken(sql: TxSql, token: string): Promise<{ id: string; name: string; workspaceId: string; keyVersion: number } | null> {
  if (!token.startsWith(AGENT_TOKEN_PREFIX) || token.length > 512) return null;
  const [row] = await sql<{ id: string; name: string; workspaceId: string; keyVersion: number; tokenId: string; stale: boolean }[]>`
    select a.id, a.name, a.workspace_id as "workspaceId", a.signing_key_version as "keyVersion", t.id as "tokenId",
           (t.last_used_at is null or t.last_used_at < now() - interval '1 minute') as stale
    from agent_tokens t join agents a on a.id = t.agent_id
    join workspaces w on w.id = a.workspace_id and w.archived_at is null
    where t.token_hash = ${sha256(token)} and t.revoked_at is null and a.deleted_at is null`;
  if (!row) return null;
  if (row.stale) await sql`update agent_tokens set last_used_at = now() where id = ${row.tokenId}`;
  const { tokenId: _t, stale: _s, ...agent } = row;
  return agent;
}

/** The event type that tells an agent's open stream (on any replica) to look again; internal, not shown. */
export const WORK_CHANGED = 'agent.work_changed';

/** Wakes the agent's open stream: its work changed (a command, a task, a configuration, a pause, its session or token). */
export function wakeAgent(tx: TxSql, agentId: string, workspaceId: string, key: string) {
  return appendEvent(tx, { type: WORK_CHANGED, entityType: 'agent', entityId: agentId, actor: 'system', key: `agent-wake/${key}`, workspaceId });
}

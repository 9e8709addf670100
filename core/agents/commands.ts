// Commands to agents: validated against the definition's declared payload
// schema, sent only by the least role the definition names for that type,
// rate-limited per agent, signed (client/agent/signature.ts) and audited.
// Each command is its own Temporal workflow (workflows/agent-command-workflow.ts),
// whose result is the outcome: any caller, replica or `temporal workflow
// execute` waits on the same exactly-once answer. The row here is its record.
import { randomUUID } from 'node:crypto';
import type { Sql, TxSql } from '../../db/sql';
import { ConflictError, ForbiddenError, NotFoundError } from '../../lib/errors';
import { ROLE_RANK, type Role } from '../../lib/names';
import { agentCommandWorkflowId, type SignedCommand } from '../../client/agent/protocol';
import { signFrame } from '../../client/agent/signature';
import { appendAudit, type Actor } from '../audit/audit-log';
import { hitRateLimit } from '../access/rate-limit';
import { getAgent, signingSecretOf, type Agent } from './agents';
import { commandSpecOf, getDefinition } from './definitions';
import { assertMatches } from './json-schema';

export const COMMAND_STATUSES = ['queued', 'delivered', 'succeeded', 'failed', 'timed_out', 'cancelled'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];
export type SettledStatus = Exclude<CommandStatus, 'queued' | 'delivered'>;

export interface AgentCommand {
  id: string;
  agentId: string;
  agentName: string;
  type: string;
  payload: unknown;
  status: CommandStatus;
  result: unknown;
  error: { code?: string; message: string } | null;
  timeoutMs: number;
  requestedBy: string;
  source: 'api' | 'ui' | 'cli';
  workflowId: string;
  createdAt: Date;
  expiresAt: Date;
  deliveredAt: Date | null;
  finishedAt: Date | null;
}

export interface CommandRequest {
  agentId: string;
  type: string;
  payload: unknown;
  timeoutMs?: number;
  source: AgentCommand['source'];
  /** Given by a CLI start (derived from its workflow's id); otherwise new. */
  commandId?: string;
  /** The workflow that carries it: a CLI start's own id; otherwise agent-command-<commandId>. */
  workflowId?: string;
}

export interface CommandLimits {
  /** Commands per agent per minute, shared by every replica. */
  perMinute: number;
  instanceKey: string;
}

const commandColumns = (sql: TxSql) => sql`
  c.id, c.agent_id as "agentId", a.name as "agentName", c.type, c.payload, c.status, c.result, c.error, c.timeout_ms as "timeoutMs",
  c.requested_by as "requestedBy", c.source, c.workflow_id as "workflowId", c.created_at as "createdAt", c.expires_at as "expiresAt",
  c.delivered_at as "deliveredAt", c.finished_at as "finishedAt"`;

export async function getCommand(sql: TxSql, id: string, ws: { id: string }, agentId?: string): Promise<AgentCommand> {
  const [c] = await sql<AgentCommand[]>`
    select ${commandColumns(sql)} from agent_commands c join agents a on a.id = c.agent_id
    where c.id = ${id} and c.workspace_id = ${ws.id} ${agentId ? sql`and c.agent_id = ${agentId}` : sql``}`;
  if (!c) throw new NotFoundError('Command');
  return c;
}

export async function listCommands(sql: TxSql, q: { agentId?: string; status?: CommandStatus; limit: number; before?: Date }, ws: { id: string }): Promise<AgentCommand[]> {
  return sql<AgentCommand[]>`
    select ${commandColumns(sql)} from agent_commands c join agents a on a.id = c.agent_id
    where c.workspace_id = ${ws.id}
      ${q.agentId ? sql`and c.agent_id = ${q.agentId}` : sql``}
      ${q.status ? sql`and c.status = ${q.status}` : sql``}
      ${q.before ? sql`and c.created_at < ${q.before}` : sql``}
    order by c.created_at desc limit ${q.limit}`;
}

/** Records a refusal in its own transaction (the request's is rolled back), then throws it. */
async function refuse(sql: Sql, err: Error, actor: Actor, agent: Pick<Agent, 'id' | 'name' | 'workspaceId'>, type: string, source: string): Promise<never> {
  await appendAudit(sql, {
    actor, action: 'agent.command.refused', entityType: 'agent', entityId: agent.id,
    details: { name: agent.name, type, source, reason: err.message }, workspaceId: agent.workspaceId,
  });
  throw err;
}

/**
 * Checks a command for its sender (their role in the agent's workspace: null when they are not a member) and
 * records it, signed, ready for its workflow; a refusal is audited. Idempotent by `commandId`.
 */
export async function prepareCommand(
  sql: Sql, req: CommandRequest, actor: Actor & { role: Role | null }, limits: CommandLimits, ws: { id: string },
): Promise<{ command: AgentCommand; created: boolean }> {
  const agent = await getAgent(sql, req.agentId, ws);
  const commandId = req.commandId ?? randomUUID();
  const workflowId = req.workflowId ?? agentCommandWorkflowId(commandId);
  const [existing] = await sql<{ id: string }[]>`select id from agent_commands where id = ${commandId}`;
  if (existing) return { command: await getCommand(sql, commandId, ws, agent.id), created: false };
  const def = await getDefinition(sql, agent.definitionId, ws);
  const spec = commandSpecOf(def, req.type);
  if (!spec) {
    const accepted = def.commands.map((c) => c.type).join(', ') || 'none';
    await refuse(sql, new ConflictError(`"${agent.name}" (${def.name} v${def.currentVersion}) accepts no command ${req.type}; it accepts: ${accepted}.`, { code: 'unknown_command' }), actor, agent, req.type, req.source);
  }
  if (!actor.role || ROLE_RANK[actor.role] < ROLE_RANK[spec!.role]) {
    const who = actor.role ? `you are ${actor.role}` : `${actor.name} is not a member of this workspace`;
    await refuse(sql, new ForbiddenError(`${req.type} needs the ${spec!.role} role; ${who}.`), actor, agent, req.type, req.source);
  }
  try {
    assertMatches(`The payload of ${req.type}`, spec!.payloadSchema, req.payload);
  } catch (err) {
    await refuse(sql, err as Error, actor, agent, req.type, req.source);
  }
  const timeoutMs = req.timeoutMs ?? spec!.timeoutMs;
  const issuedAt = new Date();
  const expiresAt = new Date(issuedAt.getTime() + timeoutMs);
  const [key] = await sql<{ keyVersion: number }[]>`select signing_key_version as "keyVersion" from agents where id = ${agent.id}`;
  const signed: SignedCommand = {
    v: 1, kind: 'command', id: commandId, agentId: agent.id, workspaceId: agent.workspaceId, type: req.type, payload: req.payload,
    issuedAt: issuedAt.toISOString(), expiresAt: expiresAt.toISOString(),
  };
  const frame = await signFrame(signingSecretOf(limits.instanceKey, agent.id, key!.keyVersion), signed);
  const created = await sql.begin(async (tx) => {
    await hitRateLimit(tx, `agent-commands:${agent.id}`, limits.perMinute, 60);
    const rows = await tx`
      insert into agent_commands (id, workspace_id, agent_id, type, payload, signed_body, signature, timeout_ms, requested_by, source, workflow_id, created_at, expires_at)
      values (${commandId}, ${agent.workspaceId}, ${agent.id}, ${req.type}, ${tx.json(req.payload as never)}, ${frame.signed}, ${frame.signature},
              ${timeoutMs}, ${actor.name}, ${req.source}, ${workflowId}, ${issuedAt}, ${expiresAt})
      on conflict (id) do nothing returning 1`;
    if (!rows.length) return false;
    await appendAudit(tx, {
      actor, action: 'agent.command.sent', entityType: 'agent', entityId: agent.id,
      details: { name: agent.name, commandId, type: req.type, source: req.source, timeoutMs, workflowId }, workspaceId: agent.workspaceId,
    });
    return true;
  }).catch(async (err) => {
    if ((err as { code?: string }).code === 'rate_limited') await refuse(sql, err as Error, actor, agent, req.type, req.source);
    throw err;
  });
  return { command: await getCommand(sql, commandId, ws, agent.id), created };
}

/** What an agent's stream sends: the open commands whose workflow waits for the agent, oldest first. */
export async function openCommandFrames(sql: TxSql, agentId: string): Promise<{ id: string; signed: string; signature: string }[]> {
  return sql<{ id: string; signed: string; signature: string }[]>`
    select id, signed_body as signed, signature from agent_commands
    where agent_id = ${agentId} and status in ('queued', 'delivered') and task_token is not null and expires_at > now()
    order by created_at limit 100`;
}

export async function markDelivered(sql: TxSql, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await sql`update agent_commands set status = 'delivered', delivered_at = coalesce(delivered_at, now()) where id = any(${ids}::uuid[]) and status = 'queued'`;
}

/** The task token an agent's answer completes (the dispatching activity's), or why there is none. */
export async function answerableCommand(sql: TxSql, id: string, agentId: string): Promise<{ taskToken: Buffer; type: string }> {
  const [row] = await sql<{ taskToken: Buffer | null; status: CommandStatus; type: string }[]>`
    select task_token as "taskToken", status, type from agent_commands where id = ${id} and agent_id = ${agentId}`;
  if (!row) throw new NotFoundError('Command');
  if (!['queued', 'delivered'].includes(row.status) || !row.taskToken) throw new ConflictError(`This command is already settled (${row.status}).`, { code: 'settled' });
  return { taskToken: row.taskToken, type: row.type };
}

export interface CommandOutcome {
  commandId: string;
  status: SettledStatus;
  result?: unknown;
  error?: { code?: string; message: string };
}

/** Writes a command's outcome once (the row, the run log, the audit entry and its event); a second settle changes nothing. */
export async function settleCommand(sql: Sql, o: CommandOutcome): Promise<void> {
  await sql.begin(async (tx) => {
    const [row] = await tx<{ agentId: string; workspaceId: string; type: string; name: string; requestedBy: string; payload: unknown; createdAt: Date; configurationId: string | null }[]>`
      update agent_commands c set status = ${o.status}, result = ${o.result === undefined ? null : tx.json(o.result as never)},
             error = ${o.error ? tx.json(o.error as never) : null}, finished_at = now(), task_token = null
      from agents a
      where c.id = ${o.commandId} and a.id = c.agent_id and c.status in ('queued', 'delivered')
      returning c.agent_id as "agentId", c.workspace_id as "workspaceId", c.type, a.name, c.requested_by as "requestedBy",
                c.payload, c.created_at as "createdAt", a.configuration_id as "configurationId"`;
    if (!row) return;
    const logStatus = o.status === 'succeeded' ? 'success' : o.status === 'cancelled' ? 'cancelled' : 'error';
    await tx`
      insert into agent_run_log (workspace_id, agent_id, configuration_id, run_id, trigger_type, triggered_by, status, start_time, end_time,
                                 input_params_snapshot, output_preview, error_message, command_id)
      values (${row.workspaceId}, ${row.agentId}, ${row.configurationId}, ${agentCommandWorkflowId(o.commandId)}, 'command', ${row.requestedBy}, ${logStatus},
              ${row.createdAt}, now(), ${tx.json({ type: row.type, payload: row.payload } as never)},
              ${o.result === undefined ? null : preview(o.result)}, ${o.error?.message ?? null}, ${o.commandId})
      on conflict (run_id) do nothing`;
    await appendAudit(tx, {
      actor: { id: null, name: `agent:${row.name}` }, action: `agent.command.${o.status}`, entityType: 'agent', entityId: row.agentId,
      details: { name: row.name, commandId: o.commandId, type: row.type, ...(o.error ? { error: o.error.message } : {}) },
      idempotencyKey: `agent.command.settled:${o.commandId}`, workspaceId: row.workspaceId,
    });
  });
}

/** A short preview of an output, for lists (seed 003's output_preview). */
export function preview(value: unknown, max = 280): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

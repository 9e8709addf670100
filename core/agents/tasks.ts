// Mission tasks on agents. An attempt is an activity (runAgentTask) that picks
// the agent (a fixed one, or the least busy connected one with the capability),
// records the signed task with the activity's task token and ends by async
// completion: the agent's answer completes it (settleTaskResult), stored as a
// pattern's output is, so the approval gate, retries, failure actions, pause and
// cancel are the mission workflow's own. While an attempt waits, each heartbeat
// of its agent is relayed to Temporal: an agent that dies mid-task stops them,
// and Temporal's heartbeat timeout gives the attempt up and tries again.
import { randomUUID } from 'node:crypto';
import type { Sql, TxSql } from '../../db/sql';
import { ConflictError, NotFoundError } from '../../lib/errors';
import type { SignedTask } from '../../client/agent/protocol';
import { signFrame } from '../../client/agent/signature';
import type { PinnedAgent } from '../../workflows/messages';
import { appendEvent, type EventInput } from '../events/events';
import { referenceTo, storeOutput } from '../runs/outputs';
import type { OutputRef } from '../../workflows/messages';
import { preview } from './commands';
import { signingSecretOf, wakeAgent } from './agents';
import { assertMatches, type JsonSchema } from './json-schema';
import { activeHold } from '../safety/global-pause-state';

export const OPEN_TASK = ['queued', 'delivered', 'running'] as const;

export interface DispatchInput {
  workflowId: string;
  runId: string;
  attempt: number;
  missionId: string;
  missionName: string;
  trigger: string;
  taskId: string;
  taskName: string;
  order: number;
  execSeq: number;
  requiresApproval: boolean;
  maxAttempts: number;
  startedBy: string | null;
  agent: PinnedAgent;
  input: unknown;
  context: SignedTask['context'];
  taskToken: Uint8Array;
}

/** `held`: no agent was asked because the workspace's global pause is on (the attempt waits it out, however long). */
export type Dispatched = { dispatched: { agentId: string; agentName: string; taskRowId: string } } | { noAgent: string; held?: true } | { replayed: { outputRef: OutputRef; attempt: number } };

const prefixOf = (d: { workflowId: string; runId: string; taskId: string; execSeq: number }) => `${d.workflowId}/${d.runId}/${d.taskId}/${d.execSeq}/`;

/** The agent an attempt goes to now, or why there is none (paused, offline, no capability). */
async function pickAgent(tx: TxSql, workspaceId: string, a: PinnedAgent): Promise<{ id: string; name: string; keyVersion: number } | string> {
  const rows = await tx<{ id: string; name: string; keyVersion: number; status: string; paused: boolean }[]>`
    select a.id, a.name, a.signing_key_version as "keyVersion", a.status, a.paused_at is not null as paused,
           (select count(*) from agent_tasks t where t.agent_id = a.id and t.status in ('queued', 'delivered', 'running')) as busy
    from agents a
    where a.workspace_id = ${workspaceId} and a.deleted_at is null and a.definition_id = ${a.definitionId}
      ${a.selection === 'fixed' ? tx`and a.id = ${a.agentId!}` : tx`and ${a.capability!} = any(a.capabilities)`}
    order by (a.status = 'OFFLINE' or a.paused_at is not null), busy, a.last_heartbeat_at desc nulls last
    limit 1`;
  const best = rows[0];
  if (!best) return a.selection === 'fixed' ? 'the agent no longer exists' : `no agent of ${a.definitionName} has the capability "${a.capability}"`;
  if (best.paused) return `"${best.name}" is paused`;
  // A fixed agent that is offline still gets its task: it waits in Temporal for the agent to come back.
  if (best.status === 'OFFLINE' && a.selection === 'capability') return `no agent with the capability "${a.capability}" is connected`;
  return best;
}

/** Checks, picks an agent, and records the attempt for its stream; the activity then waits for the answer. */
export async function dispatchAgentTask(sql: Sql, d: DispatchInput, workspaceId: string, instanceKey: string): Promise<Dispatched> {
  const prefix = prefixOf(d);
  // A retry may find an earlier attempt done (the answer stored, the completion lost): its output is the one.
  const [done] = await sql<{ outputRef: OutputRef; attempt: number }[]>`
    select output_ref as "outputRef", attempt from agent_tasks where key_prefix = ${prefix} and status = 'succeeded' limit 1`;
  if (done) return { replayed: done };
  const [schema] = await sql<{ inputsSchema: JsonSchema }[]>`
    select inputs_schema as "inputsSchema" from agent_definition_versions where definition_id = ${d.agent.definitionId} and version = ${d.agent.definitionVersion}`;
  if (!schema) throw new NotFoundError(`Version ${d.agent.definitionVersion} of ${d.agent.definitionName}`);
  assertMatches(`The input of "${d.taskName}"`, schema.inputsSchema, d.input);
  return sql.begin(async (tx) => {
    // The workspace's global pause holds every dispatch: Temporal tries the attempt again later.
    if (await activeHold(tx, workspaceId)) return { noAgent: 'the workspace is on global pause', held: true };
    const agent = await pickAgent(tx, workspaceId, d.agent);
    if (typeof agent === 'string') return { noAgent: agent };
    // Earlier attempts of this execution that still look open were given up by Temporal: they are lost.
    await tx`update agent_tasks set status = 'lost', task_token = null, finished_at = now() where key_prefix = ${prefix} and status in ('queued', 'delivered', 'running')`;
    const id = randomUUID();
    const issuedAt = new Date();
    const expiresAt = new Date(issuedAt.getTime() + d.agent.config.timeout);
    const body: SignedTask = {
      v: 1, kind: 'task', id, agentId: agent.id, workspaceId, input: d.input, context: d.context, issuedAt: issuedAt.toISOString(), expiresAt: expiresAt.toISOString(),
      task: { id: d.taskId, name: d.taskName, missionId: d.missionId, missionName: d.missionName, workflowId: d.workflowId, execSeq: d.execSeq, attempt: d.attempt },
    };
    const frame = await signFrame(signingSecretOf(instanceKey, agent.id, agent.keyVersion), body);
    await tx`
      insert into agent_tasks (id, workspace_id, agent_id, key_prefix, attempt, workflow_id, mission_id, task_id, task_name, task_order, exec_seq,
                               requires_approval, max_attempts, started_by, signed_body, signature, task_token, expires_at, last_relayed_at)
      values (${id}, ${workspaceId}, ${agent.id}, ${prefix}, ${d.attempt}, ${d.workflowId}, ${d.missionId}, ${d.taskId}, ${d.taskName}, ${d.order},
              ${d.execSeq}, ${d.requiresApproval}, ${d.maxAttempts}, ${d.startedBy}, ${frame.signed}, ${frame.signature}, ${Buffer.from(d.taskToken)},
              ${expiresAt}, now())`;
    const trigger = d.trigger === 'scheduled' ? 'schedule' : d.trigger === 'triggered' ? 'webhook' : 'manual';
    await tx`
      insert into agent_run_log (workspace_id, agent_id, configuration_id, run_id, trigger_type, triggered_by, status, input_params_snapshot,
                                 agent_task_id, mission_id, workflow_id, task_name)
      select ${workspaceId}, a.id, a.configuration_id, ${prefix + d.attempt}, ${trigger}, ${d.startedBy}, 'pending', ${tx.json(d.input as never)},
             ${id}, ${d.missionId}, ${d.workflowId}, ${d.taskName}
      from agents a where a.id = ${agent.id}
      on conflict (run_id) do nothing`;
    await tx`update agents set current_task = ${`${d.taskName} (${d.missionName})`} where id = ${agent.id}`;
    await appendEvent(tx, taskEvent(d, workspaceId, 'task.started', `started/${d.attempt}`, { agent: { id: agent.id, name: agent.name } }));
    await wakeAgent(tx, agent.id, workspaceId, `task/${id}`);
    return { dispatched: { agentId: agent.id, agentName: agent.name, taskRowId: id } };
  });
}

function taskEvent(
  d: { workflowId: string; runId: string; taskId: string; execSeq: number; missionId: string | null; missionName?: string; taskName: string; attempt: number; startedBy: string | null },
  workspaceId: string, type: string, key: string, payload: Record<string, unknown> = {},
): EventInput {
  return {
    type, entityType: 'task', entityId: d.taskId, taskId: d.taskId, missionId: d.missionId, runId: d.workflowId, actor: d.startedBy ?? 'system',
    key: `${prefixOf(d)}${key}`, workspaceId, payload: { taskName: d.taskName, missionName: d.missionName, execSeq: d.execSeq, attempt: d.attempt, ...payload },
  };
}

/** The open frames an agent's stream sends: its tasks that wait for it. */
export async function openTaskFrames(sql: TxSql, agentId: string): Promise<{ id: string; signed: string; signature: string }[]> {
  return sql<{ id: string; signed: string; signature: string }[]>`
    select id, signed_body as signed, signature from agent_tasks
    where agent_id = ${agentId} and status in ('queued', 'delivered', 'running') and task_token is not null
    order by created_at limit 100`;
}

export async function markTasksDelivered(sql: TxSql, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await sql`update agent_tasks set status = 'delivered', delivered_at = coalesce(delivered_at, now()) where id = any(${ids}::uuid[]) and status = 'queued'`;
  await sql`update agent_run_log set status = 'running' where agent_task_id = any(${ids}::uuid[]) and status = 'pending'`;
}

interface OpenTask {
  id: string;
  agentId: string;
  workspaceId: string;
  workflowId: string;
  keyPrefix: string;
  attempt: number;
  missionId: string | null;
  taskId: string;
  taskName: string;
  taskOrder: number;
  execSeq: number;
  requiresApproval: boolean;
  maxAttempts: number;
  startedBy: string | null;
  createdAt: Date;
  taskToken: Buffer;
  outputsConfig: { key: string; type: string; required?: boolean }[];
}

/** An open task of this agent, with what its answer is checked against; 404 when not its own, 409 once settled. */
export async function answerableTask(sql: TxSql, id: string, agentId: string): Promise<OpenTask> {
  const [row] = await sql<(OpenTask & { status: string })[]>`
    select t.id, t.agent_id as "agentId", t.workspace_id as "workspaceId", t.workflow_id as "workflowId", t.key_prefix as "keyPrefix",
           t.attempt, t.mission_id as "missionId", t.task_id as "taskId", t.task_name as "taskName", t.task_order as "taskOrder",
           t.exec_seq as "execSeq", t.requires_approval as "requiresApproval", t.max_attempts as "maxAttempts", t.started_by as "startedBy",
           t.created_at as "createdAt", t.task_token as "taskToken", t.status, v.outputs_config as "outputsConfig"
    from agent_tasks t join agents a on a.id = t.agent_id
    join agent_definitions d on d.id = a.definition_id
    join agent_definition_versions v on v.definition_id = d.id and v.version = d.current_version
    where t.id = ${id} and t.agent_id = ${agentId}`;
  if (!row) throw new NotFoundError('Task');
  if (!(OPEN_TASK as readonly string[]).includes(row.status) || !row.taskToken) throw new ConflictError(`This task is already settled (${row.status}).`, { code: 'settled' });
  return row;
}

const OUTPUT_TYPES: Record<string, (v: unknown) => boolean> = {
  json: () => true,
  string: (v) => typeof v === 'string',
  md: (v) => typeof v === 'string',
  url: (v) => typeof v === 'string' && URL.canParse(v) && /^https?:/i.test(v),
};

/** Where an output breaks its definition's outputs (seed 003's outputs_config), or null. */
export function outputProblem(outputsConfig: OpenTask['outputsConfig'], output: unknown): string | null {
  if (!outputsConfig.length) return null;
  if (typeof output !== 'object' || output === null || Array.isArray(output)) return 'the output must be an object with the keys the definition declares';
  const o = output as Record<string, unknown>;
  for (const spec of outputsConfig) {
    if (o[spec.key] === undefined) {
      if (spec.required) return `the output lacks "${spec.key}"`;
      continue;
    }
    if (!OUTPUT_TYPES[spec.type]?.(o[spec.key])) return `"${spec.key}" must be ${spec.type === 'url' ? 'an http(s) URL' : `of type ${spec.type}`}`;
  }
  return null;
}

/**
 * Records an agent's answer (the output stored like a pattern's, the run log, the events) and returns what
 * completes the activity: the task's result, or its failure (final when not retryable or its attempts are spent).
 */
export async function settleTaskResult(
  sql: Sql, t: OpenTask, answer: { ok: true; output: unknown } | { ok: false; error: { message: string; retryable?: boolean } },
): Promise<{ result: { outputRef: OutputRef; durationMs: number; attempt: number; outbound: []; replayed: false } } | { failure: { message: string; final: boolean; failures: number } }> {
  const [, runId] = t.keyPrefix.split('/');
  const d = { ...t, runId: runId!, missionName: undefined };
  const durationMs = Date.now() - t.createdAt.getTime();
  return sql.begin(async (tx) => {
    if (answer.ok) {
      const ref = `${runId}/${t.taskId}/${t.execSeq}`;
      const stored = await storeOutput(tx, ref, t.workflowId, { taskId: t.taskId, taskName: t.taskName, order: t.taskOrder }, answer.output, t.workspaceId);
      const outputRef = referenceTo(ref, answer.output);
      await tx`update agent_tasks set status = 'succeeded', output_ref = ${tx.json(outputRef as never)}, finished_at = now() where id = ${t.id}`;
      await finishLog(tx, t, 'success', preview(answer.output), null);
      if (stored.first && !t.requiresApproval) await appendEvent(tx, taskEvent(d, t.workspaceId, 'task.completed', 'done', { agent: { id: t.agentId } }));
      return { result: { outputRef, durationMs, attempt: t.attempt, outbound: [], replayed: false } };
    }
    await tx`update agent_tasks set status = 'failed', error = ${answer.error.message}, finished_at = now() where id = ${t.id}`;
    const [{ failures }] = (await tx`select count(*)::int as failures from agent_tasks where key_prefix = ${t.keyPrefix} and status = 'failed'`) as [{ failures: number }];
    const final = answer.error.retryable === false || failures >= t.maxAttempts;
    await finishLog(tx, t, 'error', null, answer.error.message);
    await appendEvent(tx, taskEvent(d, t.workspaceId, final ? 'task.failed' : 'task.attempt_failed', `failed/${t.attempt}`, { kind: 'agent', error: answer.error.message, failures, final }));
    return { failure: { message: failures > 1 && final ? `${answer.error.message} (after ${failures} attempts)` : answer.error.message, final, failures } };
  });
}

async function finishLog(tx: TxSql, t: OpenTask, status: 'success' | 'error' | 'cancelled', outputPreview: string | null, error: string | null): Promise<void> {
  await tx`
    update agent_run_log set status = ${status}, end_time = now(), output_preview = ${outputPreview}, error_message = ${error}
    where agent_task_id = ${t.id}`;
  await tx`update agents set current_task = null where id = ${t.agentId}`;
  await tx`
    update agent_configurations c set last_run_status = ${status}, last_run_at = now(), last_run_id = l.id, last_run_output_preview = ${outputPreview}
    from agent_run_log l where l.agent_task_id = ${t.id} and c.id = l.configuration_id`;
}

/** Temporal gave the attempt up, or the run was cancelled: the agent is told to stop (its stream sends `cancel`). */
export async function abandonTask(sql: Sql, id: string, status: 'cancelled' | 'lost'): Promise<void> {
  await sql.begin(async (tx) => {
    const [t] = await tx<{ agentId: string; workspaceId: string }[]>`
      update agent_tasks set status = ${status}, task_token = null, finished_at = now()
      where id = ${id} and status in ('queued', 'delivered', 'running')
      returning agent_id as "agentId", workspace_id as "workspaceId"`;
    if (!t) return;
    await tx`update agent_run_log set status = 'cancelled', end_time = now() where agent_task_id = ${id} and status in ('pending', 'running')`;
    await tx`update agents set current_task = null where id = ${t.agentId}`;
    await wakeAgent(tx, t.agentId, t.workspaceId, `cancel/${id}`);
  });
}

/** Tasks the agent's stream should tell to stop: given up since it last looked. */
export async function cancelledTasks(sql: TxSql, agentId: string, since: Date): Promise<{ id: string; status: string }[]> {
  return sql<{ id: string; status: string }[]>`
    select id, status from agent_tasks where agent_id = ${agentId} and status in ('cancelled', 'lost') and finished_at >= ${since}`;
}

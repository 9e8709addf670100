// The activities of agentCommandWorkflow: recording a command (and, for a CLI
// start, checking it for the actor named), waiting for an HTTP agent's answer
// by async completion (the agent's POST completes this activity by its task
// token), and writing the outcome once.
import { createHash } from 'node:crypto';
import { ApplicationFailure, CompleteAsyncError, Context } from '@temporalio/activity';
import type { Sql } from '../db/sql';
import { isConnectionError } from '../db/sql';
import { AppError } from '../lib/errors';
import type { Role } from '../lib/names';
import type { SignedFrame } from '../client/agent/protocol';
import { prepareCommand, settleCommand, type CommandOutcome } from '../core/agents/commands';
import { agentSigningKey, wakeAgent } from '../core/agents/agents';
import { SchemaMismatchError } from '../core/agents/json-schema';
import { dispatchAgentTask } from '../core/agents/tasks';
import { earlierOutputs } from '../core/runs/outputs';
import type { Actor } from '../core/audit/audit-log';
import type { AgentCommandInput } from '../workflows/agent-command-workflow';
import type { PinnedAgent } from '../workflows/messages';
import type { RunTaskResult } from './mission-activities';
import { actorByName, missionWorkspaces } from './run-workspace';

export interface PreparedCommand {
  commandId: string;
  agentId: string;
  kind: 'http' | 'worker';
  expiresAt: string;
  frame: SignedFrame;
}

export interface AgentTaskInput {
  missionId: string;
  missionName: string;
  trigger: string;
  taskId: string;
  taskName: string;
  order: number;
  execSeq: number;
  agent: PinnedAgent;
  input: unknown;
  notes: string[];
  runInput: unknown;
  earlier?: { before: number; excluded: string[] };
  maxAttempts: number;
  startedBy: Actor | null;
  requiresApproval: boolean;
}

/**
 * How often an attempt with no agent to take it looks again, and for how long at least (the task's timeout, if
 * longer); an attempt held by the global pause looks less often, and never gives up while the pause lasts.
 */
const NO_AGENT_RETRY_MS = 2000;
const NO_AGENT_PATIENCE_MS = 60_000;
const HELD_RETRY_MS = 10_000;

export interface AgentActivityDeps {
  sql: Sql;
  signingKey?: string;
  commandRateLimit: number;
}

/** A stable command id for a workflow that was started without one (a CLI start): its retries record one command. */
function commandIdOf(workflowId: string, runId: string): string {
  const h = createHash('sha256').update(`${workflowId}/${runId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function createAgentActivities(deps: AgentActivityDeps) {
  const { sql } = deps;
  const instanceKey = () => agentSigningKey(sql, deps.signingKey);
  const workspaceOf = missionWorkspaces(sql);

  return {
    async prepareAgentCommand(input: AgentCommandInput): Promise<PreparedCommand> {
      const { workflowId, runId } = Context.current().info.workflowExecution!;
      const [agent] = await sql<{ workspaceId: string; kind: 'http' | 'worker' }[]>`
        select workspace_id as "workspaceId", kind from agents where id = ${input.agentId}::uuid and deleted_at is null`.catch((err) => {
        if (isConnectionError(err)) throw err;
        return [];
      });
      if (!agent) throw ApplicationFailure.create({ type: 'CommandRefused', message: 'No such agent.', nonRetryable: true });
      const frameOf = async (commandId: string): Promise<PreparedCommand> => {
        const [row] = await sql<{ signed: string; signature: string; expiresAt: Date; workflowId: string }[]>`
          select signed_body as signed, signature, expires_at as "expiresAt", workflow_id as "workflowId" from agent_commands where id = ${commandId}`;
        if (!row || row.workflowId !== workflowId) throw ApplicationFailure.create({ type: 'CommandRefused', message: 'No command of this workflow has that id.', nonRetryable: true });
        return { commandId, agentId: input.agentId, kind: agent.kind, expiresAt: row.expiresAt.toISOString(), frame: { signed: row.signed, signature: row.signature } };
      };
      // The app recorded (and checked) its command before starting this workflow.
      if (input.commandId) return frameOf(input.commandId);
      // A CLI start: checked here for the user it names, as the app checks its own users.
      const actor = await actorByName(sql, input.actor || 'temporal-cli', agent.workspaceId);
      try {
        const { command } = await prepareCommand(
          sql,
          { agentId: input.agentId, type: input.type, payload: input.payload ?? {}, timeoutMs: input.timeoutMs, source: 'cli', commandId: commandIdOf(workflowId, runId), workflowId },
          { id: actor.id, name: actor.name, role: actor.disabled ? null : ((actor.role as Role | null | undefined) ?? null) },
          { perMinute: deps.commandRateLimit, instanceKey: await instanceKey() },
          { id: agent.workspaceId },
        );
        return frameOf(command.id);
      } catch (err) {
        if (err instanceof AppError) throw ApplicationFailure.create({ type: 'CommandRefused', message: err.message, nonRetryable: true });
        throw err;
      }
    },

    /** Waits for the agent: its answer completes this activity (api/routes/agents/protocol.ts). */
    async dispatchAgentCommand(input: { commandId: string }): Promise<never> {
      const { taskToken, attempt } = Context.current().info;
      const [row] = await sql<{ agentId: string; workspaceId: string }[]>`
        update agent_commands set task_token = ${Buffer.from(taskToken)}
        where id = ${input.commandId} and status in ('queued', 'delivered')
        returning agent_id as "agentId", workspace_id as "workspaceId"`;
      if (!row) throw ApplicationFailure.create({ type: 'CommandSettled', message: 'The command is already settled.', nonRetryable: true });
      await wakeAgent(sql, row.agentId, row.workspaceId, `command/${input.commandId}/${attempt}`);
      throw new CompleteAsyncError();
    },

    /** One attempt of a mission task on an agent: dispatched here, completed by the agent's answer (api/routes/agents/protocol.ts). */
    async runAgentTask(input: AgentTaskInput): Promise<RunTaskResult> {
      const info = Context.current().info;
      const { workflowId, runId } = info.workflowExecution!;
      const workspaceId = await workspaceOf(input.missionId);
      const previous = input.earlier ? await earlierOutputs(sql, workflowId, input.earlier.before, input.earlier.excluded) : {};
      let outcome;
      try {
        outcome = await dispatchAgentTask(sql, {
          workflowId, runId, attempt: info.attempt, missionId: input.missionId, missionName: input.missionName, trigger: input.trigger,
          taskId: input.taskId, taskName: input.taskName, order: input.order, execSeq: input.execSeq, requiresApproval: input.requiresApproval,
          maxAttempts: input.maxAttempts, startedBy: input.startedBy?.name ?? null, agent: input.agent, input: input.input,
          context: { previous, notes: input.notes.length ? input.notes.join('\n\n') : null, runInput: input.runInput }, taskToken: info.taskToken,
        }, workspaceId, await instanceKey());
      } catch (err) {
        if (err instanceof SchemaMismatchError || err instanceof AppError) {
          throw ApplicationFailure.create({ type: 'Validation', message: err.message, nonRetryable: true, details: [{ kind: 'input', attempt: info.attempt }] });
        }
        throw err;
      }
      if ('replayed' in outcome) return { outputRef: outcome.replayed.outputRef, durationMs: 0, attempt: outcome.replayed.attempt, outbound: [], replayed: true };
      if ('noAgent' in outcome) {
        const waited = Date.now() - info.scheduledTimestampMs;
        const patience = Math.max(NO_AGENT_PATIENCE_MS, input.agent.config.timeout);
        throw ApplicationFailure.create({
          type: 'NoAgent', message: `No agent took "${input.taskName}": ${outcome.noAgent}.`, nonRetryable: !outcome.held && waited >= patience,
          nextRetryDelay: outcome.held ? HELD_RETRY_MS : NO_AGENT_RETRY_MS, details: [{ kind: 'no_agent', attempt: info.attempt }],
        });
      }
      throw new CompleteAsyncError();
    },

    async settleAgentCommand(outcome: CommandOutcome): Promise<void> {
      await settleCommand(sql, outcome);
    },
  };
}

export type AgentActivities = ReturnType<typeof createAgentActivities>;

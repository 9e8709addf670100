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
import { agentSigningKey } from '../core/agents/agents';
import { prepareCommand, settleCommand, type CommandOutcome } from '../core/agents/commands';
import { wakeAgent } from '../core/agents/configurations';
import type { AgentCommandInput } from '../workflows/agent-command-workflow';
import { actorByName } from './run-workspace';

export interface PreparedCommand {
  commandId: string;
  agentId: string;
  kind: 'http' | 'worker';
  expiresAt: string;
  frame: SignedFrame;
}

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

    async settleAgentCommand(outcome: CommandOutcome): Promise<void> {
      await settleCommand(sql, outcome);
    },
  };
}

export type AgentActivities = ReturnType<typeof createAgentActivities>;

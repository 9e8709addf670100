// Sending a command from the app (API or UI): checked and recorded
// (commands.ts), started as its own workflow, and waited for up to `wait`
// seconds. The outcome comes from the workflow, so a caller that stops
// waiting can read it later, and any replica answers the same.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { SearchAttributeType, TypedSearchAttributes, defineSearchAttributeKey } from '@temporalio/common';
import type { Sql } from '../../db/sql';
import type { Config } from '../../lib/config';
import { SEARCH_ATTRIBUTES, type Role } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import { AGENT_COMMAND_WORKFLOW_TYPE } from '../../client/agent/protocol';
import type { AgentCommandInput } from '../../workflows/agent-command-workflow';
import { workspaceIdKey } from '../../workflows/messages';
import type { Actor } from '../audit/audit-log';
import { unavailable } from '../runs/temporal-errors';
import { agentSigningKey } from './agents';
import { getCommand, prepareCommand, settleCommand, type AgentCommand, type CommandRequest } from './commands';

const agentIdKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.agentId, SearchAttributeType.KEYWORD);

export interface SendDeps {
  sql: Sql;
  temporal: TemporalHandle;
  config: Pick<Config, 'MC_AGENT_SIGNING_KEY' | 'MC_AGENT_COMMAND_RATE_LIMIT'>;
}

/** Sends a command and waits up to `waitSeconds` for its outcome; `settled` says whether it came. */
export async function sendCommand(
  deps: SendDeps, req: Omit<CommandRequest, 'commandId' | 'workflowId'>, actor: Actor & { role: Role | null }, ws: { id: string }, waitSeconds: number,
): Promise<{ command: AgentCommand; settled: boolean }> {
  const instanceKey = await agentSigningKey(deps.sql, deps.config.MC_AGENT_SIGNING_KEY);
  const { command } = await prepareCommand(deps.sql, req, actor, { perMinute: deps.config.MC_AGENT_COMMAND_RATE_LIMIT, instanceKey }, ws);
  const input: AgentCommandInput = { agentId: command.agentId, type: command.type, commandId: command.id, actor: actor.name };
  let handle;
  try {
    handle = await deps.temporal.client.workflow.start(AGENT_COMMAND_WORKFLOW_TYPE, {
      taskQueue: deps.temporal.taskQueue, workflowId: command.workflowId, args: [input],
      typedSearchAttributes: new TypedSearchAttributes([{ key: agentIdKey, value: command.agentId }, { key: workspaceIdKey, value: ws.id }]),
      staticSummary: `${command.type} to ${command.agentName}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) {
      // Never started: recorded as failed, so no command waits forever for a workflow that does not exist.
      await settleCommand(deps.sql, { commandId: command.id, status: 'failed', error: { code: 'not_started', message: 'Temporal was not reachable; the command was not sent.' } });
      throw unavailable(err);
    }
    handle = deps.temporal.client.workflow.getHandle(command.workflowId);
  }
  if (waitSeconds > 0) {
    try {
      await deps.temporal.connection.withDeadline(Date.now() + waitSeconds * 1000, () => handle.result());
    } catch {
      // Not settled in time (or Temporal slow): the caller gets the command as it stands, and reads it again later.
    }
  }
  const now = await getCommand(deps.sql, command.id, ws);
  return { command: now, settled: !['queued', 'delivered'].includes(now.status) };
}

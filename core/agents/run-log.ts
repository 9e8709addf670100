// Seed 003's AgentRunLog, read back: what an agent ran (each command, with its
// trigger, who asked, status, times, input snapshot and output preview).
import type { TxSql } from '../../db/sql';

export interface AgentRunLogEntry {
  id: string;
  runId: string;
  triggerType: 'manual' | 'schedule' | 'webhook' | 'command';
  triggeredBy: string | null;
  status: 'pending' | 'running' | 'success' | 'error' | 'cancelled';
  startTime: Date;
  endTime: Date | null;
  inputParamsSnapshot: unknown;
  outputPreview: string | null;
  errorMessage: string | null;
  commandId: string | null;
}

export function agentRunLog(sql: TxSql, agentId: string, limit: number): Promise<AgentRunLogEntry[]> {
  return sql<AgentRunLogEntry[]>`
    select id, run_id as "runId", trigger_type as "triggerType", triggered_by as "triggeredBy", status, start_time as "startTime",
           end_time as "endTime", input_params_snapshot as "inputParamsSnapshot", output_preview as "outputPreview",
           error_message as "errorMessage", command_id as "commandId"
    from agent_run_log where agent_id = ${agentId} order by start_time desc limit ${limit}`;
}

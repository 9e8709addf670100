// Every pending decision across runs: runs whose MissionStatus is
// NeedsApproval, each asked for its pending approvals.
import type { Sql } from '../../db/sql';
import type { TemporalHandle } from '../../lib/temporal';
import { progressQuery } from '../../workflows/messages';
import { hydrateOutputs } from './outputs';
import { listRuns, type RunSummary } from './visibility';

export interface PendingApproval {
  run: RunSummary;
  taskId: string;
  taskName: string;
  output: unknown;
  /** Where the output is kept; `output` holds it whole up to REVIEW_MAX_BYTES. */
  outputRef?: { ref: string; bytes: number; preview?: string };
  requestedAt: string;
  deadline: string | null;
  pattern: { id: string; name: string; version: number } | null;
  notes: string[];
  runs: number;
}

export async function pendingApprovals(sql: Sql, temporal: TemporalHandle, opts: { missionId?: string; limit?: number } = {}): Promise<PendingApproval[]> {
  const { runs } = await listRuns(temporal, { status: 'NeedsApproval', missionId: opts.missionId }, opts.limit ?? 50);
  const lists = await Promise.all(
    runs.map(async (run) => {
      const p = await temporal.client.workflow.getHandle(run.workflowId).query(progressQuery).catch(() => null);
      if (!p) return [];
      const pending = p.pendingApprovals.map((a): PendingApproval => {
        const t = p.tasks.find((x) => x.id === a.taskId)!;
        return {
          run, taskId: a.taskId, taskName: a.taskName, output: a.output, ...(a.outputRef ? { outputRef: a.outputRef } : {}),
          requestedAt: a.requestedAt, deadline: a.deadline, pattern: t.pattern, notes: t.notes, runs: t.runs,
        };
      });
      // The run keeps big outputs by reference; a reviewer needs them whole.
      return hydrateOutputs(sql, run.workflowId, pending);
    }),
  );
  return lists.flat().sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
}

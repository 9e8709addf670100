// Every pending decision across runs (or one mission's runs): runs whose
// MissionStatus is NeedsApproval, each asked for its pending approvals.
import type { Sql } from '../../db/sql';
import type { TemporalHandle } from '../../lib/temporal';
import { progressQuery } from '../../workflows/messages';
import { hydrateOutputs } from './outputs';
import { workspaceIdOf } from '../access/users';
import { listRuns, type RunSummary, type RunWorkspace } from './visibility';

/** How long the inbox waits for one run's progress. */
const QUERY_DEADLINE_MS = 5000;

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

/** Narrows the inbox to the runs of one mission. */
export interface ApprovalFilter {
  missionId?: string;
  limit?: number;
}

/** The decisions waiting in one workspace's runs (every run's when none is named). */
export async function pendingApprovals(sql: Sql, temporal: TemporalHandle, opts: ApprovalFilter = {}, ws?: RunWorkspace): Promise<PendingApproval[]> {
  const { runs } = await listRuns(temporal, { status: 'NeedsApproval', missionId: opts.missionId, workspace: ws }, opts.limit ?? 50);
  const lists = await Promise.all(
    runs.map(async (run) => {
      // A run that no worker answers for (its worker gone, a deploy) must not hold the whole inbox: it is left out.
      const handle = temporal.client.workflow.getHandle(run.workflowId);
      const p = await temporal.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(progressQuery)).catch(() => null);
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

/**
 * The missions the inbox can be narrowed to: those with an approval gate, and the one
 * asked for (a run works from the plan it started with, which may have had a gate since removed).
 */
export async function approvalMissions(sql: Sql, include?: string, ws?: { id: string }): Promise<{ id: string; name: string }[]> {
  return sql<{ id: string; name: string }[]>`
    select m.id, m.name from missions m
    where m.workspace_id = ${workspaceIdOf(sql, ws)}
      and (exists (select 1 from mission_tasks t where t.mission_id = m.id and t.requires_approval)
           ${include ? sql`or m.id = ${include}` : sql``})
    order by lower(m.name), m.id`;
}

// Task outputs, stored once in PostgreSQL and passed by reference: a run's
// history, its `progress` and its result carry only the reference and a
// bounded preview; the activity that needs an output reads it here.
import type { Sql, TxSql } from '../../db/sql';
import { NotFoundError, UnavailableError } from '../../lib/errors';
import { PREVIEW_INLINE_BYTES, PREVIEW_TEXT_CHARS, type OutputRef, type Progress } from '../../workflows/messages';

/** The reference of one output, with the output itself when small or the start of its JSON otherwise. */
export function referenceTo(ref: string, output: unknown): OutputRef {
  const json = JSON.stringify(output ?? null);
  const bytes = Buffer.byteLength(json);
  return bytes <= PREVIEW_INLINE_BYTES ? { ref, bytes, value: output ?? null } : { ref, bytes, preview: json.slice(0, PREVIEW_TEXT_CHARS) };
}

/** Where a task's output sits in its run: earlier tasks' outputs are found by it. */
export interface OutputPlace {
  taskId: string;
  taskName: string;
  order: number;
}

/** Stores an output under its reference; a retry storing it again keeps the first (`first` says which happened). */
export async function storeOutput(
  sql: TxSql, ref: string, workflowId: string, place: OutputPlace, output: unknown, workspaceId?: string,
): Promise<OutputRef & { first: boolean }> {
  const reference = referenceTo(ref, output);
  const rows = await sql`
    insert into task_outputs (workflow_id, ref, task_id, task_name, task_order, output, bytes, workspace_id)
    values (${workflowId}, ${ref}, ${place.taskId}, ${place.taskName}, ${place.order}, ${sql.json((output ?? null) as never)}, ${reference.bytes},
            ${workspaceId ? sql`${workspaceId}::uuid` : sql`mc_default_workspace()`})
    on conflict (workflow_id, ref) do nothing
    returning 1`;
  return { ...reference, first: rows.length > 0 };
}

/**
 * What a task sees as ctx.previous: the latest output (an edit over its task's own, a re-run over the run
 * before) of every task of an earlier order, except those that did not complete. The run passes only the
 * order and the exceptions, so a task's input stays the same size however many tasks came before it.
 */
export async function earlierOutputs(sql: TxSql, workflowId: string, before: number, excluded: string[]): Promise<Record<string, unknown>> {
  const rows = await sql<{ taskName: string; output: unknown }[]>`
    select distinct on (task_id) task_name as "taskName", output
    from task_outputs
    where workflow_id = ${workflowId} and task_order < ${before}
      ${excluded.length ? sql`and task_id not in ${sql(excluded)}` : sql``}
    order by task_id, created_at desc, ref desc`;
  return Object.fromEntries(rows.map((r) => [r.taskName, r.output]));
}

/** The outputs behind references (what a pattern gets as ctx.previous), by task name. */
export async function resolveOutputs(sql: TxSql, workflowId: string, previous: Record<string, OutputRef | { value: unknown }>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const wanted = new Map<string, string[]>();
  for (const [name, p] of Object.entries(previous)) {
    if ('ref' in p && p.ref) wanted.set(p.ref, [...(wanted.get(p.ref) ?? []), name]);
    else out[name] = (p as { value: unknown }).value;
  }
  if (!wanted.size) return out;
  const rows = await sql<{ ref: string; output: unknown }[]>`select ref, output from task_outputs where workflow_id = ${workflowId} and ref in ${sql([...wanted.keys()])}`;
  for (const row of rows) for (const name of wanted.get(row.ref) ?? []) out[name] = row.output;
  const missing = [...wanted.keys()].filter((r) => !rows.some((row) => row.ref === r));
  if (missing.length) throw new Error(`Outputs of earlier tasks are missing from the database (${missing.join(', ')}).`);
  return out;
}

/** One stored output, for the API and the run page ("show all"). */
export async function loadOutput(sql: Sql, workflowId: string, ref: string): Promise<unknown> {
  const [row] = await sql<{ output: unknown }[]>`select output from task_outputs where ref = ${ref} and workflow_id = ${workflowId}`;
  if (!row) throw new NotFoundError('Output');
  return row.output;
}

/** A task's whole output (or the original one a reviewer replaced), as the run's state refers to it. */
export async function taskOutput(
  sql: Sql, progress: Progress | null, workflowId: string, taskId: string, which: 'output' | 'original' = 'output',
): Promise<{ output: unknown; bytes: number | null }> {
  if (!progress) throw new UnavailableError('The run cannot be read right now (is a worker running?); try again shortly.');
  const task = progress.tasks.find((t) => t.id === taskId);
  if (!task) throw new NotFoundError('Task in this run');
  const ref = which === 'output' ? task.outputRef : task.originalOutputRef;
  const inline = which === 'output' ? task.output : task.originalOutput;
  if (ref) return { output: await loadOutput(sql, workflowId, ref.ref), bytes: ref.bytes };
  if (inline === undefined) throw new NotFoundError(which === 'output' ? 'Output of this task' : 'Original output of this task');
  return { output: inline, bytes: null };
}

/** Outputs too big for the run's state, loaded for those who must read them whole (reviewers), up to a size. */
export async function hydrateOutputs<T extends { output: unknown; outputRef?: { ref: string; bytes: number } }>(
  sql: Sql, workflowId: string, items: T[], maxBytes = REVIEW_MAX_BYTES,
): Promise<T[]> {
  const wanted = items.filter((i) => i.output === undefined && i.outputRef && i.outputRef.bytes <= maxBytes);
  if (!wanted.length) return items;
  const rows = await sql<{ ref: string; output: unknown }[]>`
    select ref, output from task_outputs where workflow_id = ${workflowId} and ref in ${sql(wanted.map((i) => i.outputRef!.ref))}`;
  const byRef = new Map(rows.map((r) => [r.ref, r.output]));
  return items.map((i) => (i.output === undefined && i.outputRef && byRef.has(i.outputRef.ref) ? { ...i, output: byRef.get(i.outputRef.ref) } : i));
}

/** A reviewer sees (and may edit) an output whole up to this size; beyond it, its start and a download. */
export const REVIEW_MAX_BYTES = 256 * 1024;

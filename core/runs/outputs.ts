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

/** Stores an output under its reference; a retry storing it again keeps the first. */
export async function storeOutput(sql: TxSql, ref: string, workflowId: string, output: unknown): Promise<OutputRef> {
  const reference = referenceTo(ref, output);
  await sql`
    insert into task_outputs (ref, workflow_id, output, bytes)
    values (${ref}, ${workflowId}, ${sql.json((output ?? null) as never)}, ${reference.bytes})
    on conflict (workflow_id, ref) do nothing`;
  return reference;
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

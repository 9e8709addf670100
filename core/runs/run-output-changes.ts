// How a task's output changed under review: the output of each run of the task
// against the next one (a reviewer requested changes, or rejected it for a
// retry) and the task's own output against a reviewer's edit. Every output is
// stored once in task_outputs under <run id>/<task id>/<execution>[/edited]; the
// run keeps only references, so the earlier ones are read here.
import type { TxSql } from '../../db/sql';
import type { DecisionRecord, Progress, TaskProgress } from '../../workflows/messages';

/** Outputs over this size are not compared on the page (their sizes are shown instead). */
export const DIFF_MAX_BYTES = 64 * 1024;

interface Side {
  label: string;
  /** undefined when the output is too big to compare here (or missing). */
  value?: unknown;
  bytes: number | null;
}

export interface OutputChange {
  taskId: string;
  kind: 'rerun' | 'edit';
  from: Side;
  to: Side;
  /** The decision that led from one to the other, when the run recorded it. */
  decision: DecisionRecord | null;
}

interface StoredRef {
  ref: string;
  taskId: string;
  bytes: number;
  execSeq: number;
  edited: boolean;
}

/** <run id>/<task id>/<execution>[/edited] */
function parseRef(ref: string, taskId: string, bytes: number): StoredRef | null {
  const parts = ref.split('/');
  const edited = parts[parts.length - 1] === 'edited';
  const execSeq = Number(parts[parts.length - (edited ? 2 : 1)]);
  return Number.isInteger(execSeq) && execSeq > 0 ? { ref, taskId, bytes, execSeq, edited } : null;
}

const changed = (t: TaskProgress) => t.runs > 1 || t.originalOutput !== undefined || t.originalOutputRef !== undefined;

/** Every change of output of the run's reviewed tasks, by task id, oldest first. */
export async function outputChanges(sql: TxSql, workflowId: string, progress: Progress | null): Promise<Record<string, OutputChange[]>> {
  const tasks = (progress?.tasks ?? []).filter(changed);
  if (!tasks.length) return {};
  const rows = await sql<{ ref: string; taskId: string; bytes: number }[]>`
    select ref, task_id as "taskId", bytes from task_outputs
    where workflow_id = ${workflowId} and task_id in ${sql(tasks.map((t) => t.id))}
    order by created_at, ref`;
  const refs = rows.map((r) => parseRef(r.ref, r.taskId, r.bytes)).filter((r): r is StoredRef => r !== null);
  const wanted = refs.filter((r) => r.bytes <= DIFF_MAX_BYTES).map((r) => r.ref);
  const values = new Map<string, unknown>();
  if (wanted.length) {
    for (const r of await sql<{ ref: string; output: unknown }[]>`select ref, output from task_outputs where workflow_id = ${workflowId} and ref in ${sql(wanted)}`) {
      values.set(r.ref, r.output);
    }
  }
  const side = (r: StoredRef, label: string): Side => ({ label, bytes: r.bytes, ...(values.has(r.ref) ? { value: values.get(r.ref) } : {}) });
  const out: Record<string, OutputChange[]> = {};
  for (const t of tasks) {
    const mine = refs.filter((r) => r.taskId === t.id);
    const runs = [...new Map(mine.filter((r) => !r.edited).map((r) => [r.execSeq, r])).values()].sort((a, b) => a.execSeq - b.execSeq);
    const changes: OutputChange[] = [];
    // The n-th decision settled the n-th run's gate; the runs between two outputs are consecutive.
    for (let i = 1; i < runs.length; i++) {
      const [a, b] = [runs[i - 1]!, runs[i]!];
      changes.push({ taskId: t.id, kind: 'rerun', from: side(a, `run ${a.execSeq}`), to: side(b, `run ${b.execSeq}`), decision: t.decisions[a.execSeq - 1] ?? null });
    }
    const edit = mine.find((r) => r.edited);
    const last = runs[runs.length - 1];
    const editDecision = [...t.decisions].reverse().find((d) => d.action === 'edit_inline_approve') ?? null;
    if (edit && last) {
      changes.push({ taskId: t.id, kind: 'edit', from: side(last, 'the task’s output'), to: side(edit, 'the reviewer’s edit'), decision: editDecision });
    } else if (t.originalOutput !== undefined && t.output !== undefined) {
      // Runs of the first release kept their outputs in the run itself.
      changes.push({
        taskId: t.id, kind: 'edit', decision: editDecision,
        from: { label: 'the task’s output', value: t.originalOutput, bytes: null }, to: { label: 'the reviewer’s edit', value: t.output, bytes: null },
      });
    }
    if (changes.length) out[t.id] = changes;
  }
  return out;
}

// A task's replay: its whole story in time order, from Temporal's history
// (every run of the chain) joined with what PostgreSQL recorded for it (each
// attempt's start and failure, its outbound sends, decisions refused before
// they reached the run). Values go by reference: sizes, the start of their
// JSON and a link to the whole output, never the payloads themselves.
import type { Sql } from '../../db/sql';
import { NotFoundError } from '../../lib/errors';
import type { TemporalHandle } from '../../lib/temporal';
import type { Progress, TaskStatus } from '../../workflows/messages';
import { workspaceIdOf } from '../access/users';
import { describeRun } from './detail';
import { readTaskHistory, type OutputReference, type ReplayStep, type TaskHistory, type TimedStep } from './replay-history';
import { PREVIEW_CHARS } from './timeline';
import { isWorkflowNotFound, unavailable } from './temporal-errors';
import type { RunWorkspace } from './visibility';

export type { ReplayStep } from './replay-history';

/** What PostgreSQL recorded for the task (core/runs/replay.ts reads it; tellStory() joins it). */
export interface TaskRecords {
  /** task.started / task.attempt_failed / task.failed / task.completed events, one per attempt. */
  attempts: { type: string; at: Date; runId: string; execSeq: number; attempt: number; error?: string; kind?: string; agent?: { id?: string; name?: string } }[];
  outbound: { channel: string; status: string; attempts: number; error: string | null; createdAt: Date; runId: string; execSeq: number; attempt: number; bytes: number; head: string }[];
  /** Decisions refused before they entered the run's history (the Update's validator, a run that had ended). */
  refusals: { at: Date; actor: string; action?: string; reason?: string; notes?: string }[];
}

export interface ReplayTask {
  id: string;
  name: string;
  order: number | null;
  workflowId: string;
  status: TaskStatus | null;
  runner: 'pattern' | 'agent';
  pattern: { id: string; name: string; version: number } | null;
  agent: { definition: string; selection: string; agentId?: string; capability?: string } | null;
  requiresApproval: boolean;
  executions: number;
  attempts: number;
  /** The task's current output, by reference (GET `output.url` gives it whole). */
  output: OutputReference | null;
}

export interface TaskReplay { task: ReplayTask; steps: ReplayStep[] }

/** How many runs of a continue-as-new chain are read back, at most. */
const MAX_RUNS = 50;
const ENDED: TaskStatus[] = ['completed', 'failed', 'skipped', 'rejected'];
const DB_KINDS: Record<string, string> = { 'task.started': 'attempt.started', 'task.attempt_failed': 'attempt.failed', 'task.failed': 'attempt.failed', 'task.completed': 'attempt.completed' };

export const outputUrl = (workflowId: string, taskId: string) => `/api/runs/${encodeURIComponent(workflowId)}/tasks/${encodeURIComponent(taskId)}/output`;
const cut = (text: string) => (text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text);

/**
 * Joins the histories (oldest run first) with the records, in time order. A record's time is the database's:
 * it is kept inside its execution's span in the history, so two clocks never put an attempt out of its place.
 */
export function tellStory(
  histories: TaskHistory[], records: TaskRecords,
  opts: { workflowId: string; taskId: string; open: boolean; currentRef?: string; originalRef?: string },
): ReplayStep[] {
  const steps: TimedStep[] = histories.flatMap((h) => h.steps);
  const execOf = (runId: string, execSeq: number) => histories.find((h) => h.runId === runId)?.executions.find((x) => x.execSeq === execSeq);
  const within = (ms: number, lo: number, hi: number | undefined) => Math.min(Math.max(ms, lo), hi ?? Infinity);
  const dbTimes = new Map<string, number>(); // `${runId}/${execSeq}/${attempt}/${started|failed}` → ms, for retry delays

  records.attempts.forEach((r, i) => {
    const kind = DB_KINDS[r.type];
    if (!kind) return;
    const exec = execOf(r.runId, r.execSeq);
    const key = `${r.runId}/${r.execSeq}/${r.attempt}/${kind === 'attempt.started' ? 'started' : 'failed'}`;
    dbTimes.set(key, r.at.getTime());
    if (exec?.finalAttempt !== undefined && r.attempt >= exec.finalAttempt) {
      // The history tells this attempt itself; the database adds the agent that took it.
      const told = steps.find((s) => s.kind === 'attempt.started' && s.runId === r.runId && s.execSeq === r.execSeq && s.attempt === r.attempt);
      if (told && r.agent) told.agent = { ...told.agent, ...r.agent };
      return;
    }
    const ms = exec ? within(r.at.getTime(), exec.scheduledMs, exec.startedMs ?? exec.endMs) : r.at.getTime();
    steps.push({
      at: new Date(ms).toISOString(), eventId: null, runId: r.runId, source: 'events', kind, execSeq: r.execSeq, attempt: r.attempt,
      ...(r.error ? { message: r.error } : {}), ...(r.kind ? { failureType: r.kind } : {}), ...(kind === 'attempt.failed' ? { final: r.type === 'task.failed' } : {}),
      ...(r.agent ? { agent: r.agent } : {}), ms, seq: (exec?.scheduledEventId ?? 0) + 0.5 + i * 1e-6,
    });
  });

  // An attempt before the last that left no record (an outage, not the pattern) is still named by the history.
  for (const h of histories) {
    for (const x of h.executions) {
      if (!x.finalAttempt || x.finalAttempt < 2 || !x.lastFailure || dbTimes.has(`${h.runId}/${x.execSeq}/${x.finalAttempt - 1}/failed`)) continue;
      const started = steps.find((s) => s.kind === 'attempt.started' && s.runId === h.runId && s.execSeq === x.execSeq && s.eventId !== null)!;
      steps.push({ ...started, kind: 'attempt.failed', attempt: x.finalAttempt - 1, message: x.lastFailure, identity: undefined, agent: undefined, final: false, seq: started.seq - 0.25 });
    }
  }

  // A retry's delay: from the failure of the attempt before to its own start, both by the database's clock.
  for (const s of steps) {
    if (s.kind !== 'attempt.started' || !s.attempt || s.attempt < 2) continue;
    const failed = dbTimes.get(`${s.runId}/${s.execSeq}/${s.attempt - 1}/failed`);
    const started = dbTimes.get(`${s.runId}/${s.execSeq}/${s.attempt}/started`);
    if (failed !== undefined && started !== undefined && started >= failed) s.retryDelayMs = started - failed;
  }

  records.outbound.forEach((o, i) => {
    const exec = execOf(o.runId, o.execSeq);
    const ms = exec ? within(o.createdAt.getTime(), exec.scheduledMs, exec.endMs) : o.createdAt.getTime();
    steps.push({
      at: new Date(ms).toISOString(), eventId: null, runId: o.runId, source: 'outbound', kind: 'outbound', execSeq: o.execSeq, attempt: o.attempt,
      outbound: { channel: o.channel, status: o.status, attempts: o.attempts, error: o.error, payload: { bytes: o.bytes, preview: cut(o.head) } },
      ms, seq: (exec?.scheduledEventId ?? 0) + 0.75 + i * 1e-6,
    });
  });

  // The run's pauses, resumes and cancellation while the task was in flight (from its first step to its end;
  // a refusal after it has no say in that).
  if (steps.length) {
    const first = steps.reduce((m, s) => Math.min(m, s.ms), Infinity);
    const last = opts.open ? Infinity : steps.reduce((m, s) => Math.max(m, s.ms), -Infinity);
    for (const s of histories.flatMap((h) => h.runSteps)) if (s.ms >= first && s.ms <= last) steps.push(s);
  }

  const lastRun = histories.at(-1)?.runId ?? '';
  for (const r of records.refusals) {
    steps.push({
      at: r.at.toISOString(), eventId: null, runId: lastRun, source: 'audit', kind: 'decision.refused', actor: r.actor,
      ...(r.action ? { action: r.action } : {}), reason: r.reason ?? 'refused', ...(r.notes ? { notes: r.notes } : {}), ms: r.at.getTime(), seq: 0,
    });
  }

  // Links to the whole output: the task's current one and the original a reviewer replaced.
  const url = outputUrl(opts.workflowId, opts.taskId);
  const outputs = steps.filter((s) => s.output?.ref);
  for (const s of outputs) {
    if (s.output!.ref === opts.currentRef) s.output!.url = url;
    else if (s.output!.ref === opts.originalRef) s.output!.url = `${url}?original=true`;
  }
  steps.sort((a, b) => a.ms - b.ms || a.seq - b.seq);
  if (opts.currentRef === undefined) {
    const latest = steps.filter((s) => s.output?.ref).at(-1);
    if (latest) latest.output!.url = url;
  }
  return steps.map(({ ms: _ms, seq: _seq, ...step }) => step);
}

/** The task as its run knows it: the plan, its progress, and what the steps counted. */
export function describeTask(
  histories: TaskHistory[], steps: ReplayStep[], opts: { workflowId: string; taskId: string; progress: Progress | null },
): ReplayTask | null {
  const plan = [...histories].reverse().find((h) => h.planTask)?.planTask ?? null;
  const p = opts.progress?.tasks.find((t) => t.id === opts.taskId);
  if (!plan && !p && !steps.length) return null;
  const ref = p?.outputRef;
  const attempts = new Set(steps.filter((s) => s.attempt !== undefined && s.kind.startsWith('attempt.')).map((s) => `${s.runId}/${s.execSeq}/${s.attempt}`));
  const pinned = plan?.pattern;
  return {
    id: opts.taskId, name: p?.name ?? plan?.name ?? '', order: p?.order ?? plan?.order ?? null, workflowId: opts.workflowId,
    status: p?.status ?? null, runner: plan?.agent ? 'agent' : 'pattern',
    pattern: p?.pattern ?? (pinned ? { id: pinned.patternId, name: pinned.patternName, version: pinned.version } : null),
    agent: plan?.agent ? { definition: `${plan.agent.definitionName} v${plan.agent.definitionVersion}`, selection: plan.agent.selection, agentId: plan.agent.agentId, capability: plan.agent.capability } : null,
    requiresApproval: p?.requiresApproval ?? plan?.requiresApproval ?? false,
    executions: steps.filter((s) => s.kind === 'attempt.scheduled').length, attempts: attempts.size,
    output: ref ? { ref: ref.ref, bytes: ref.bytes, url: outputUrl(opts.workflowId, opts.taskId) } : null,
  };
}

/** Every run of the chain that may hold the task, oldest first: back while the run before had started it. */
async function readChain(temporal: TemporalHandle, workflowId: string, runId: string, taskId: string): Promise<TaskHistory[]> {
  const chain: TaskHistory[] = [];
  for (let id: string | null = runId; id && chain.length < MAX_RUNS;) {
    let events;
    try {
      events = (await temporal.client.workflow.getHandle(workflowId, id).fetchHistory()).events ?? [];
    } catch (err) {
      if (isWorkflowNotFound(err)) break; // an earlier run past the namespace's retention
      throw unavailable(err);
    }
    const h = readTaskHistory(events, taskId, id);
    chain.unshift(h);
    id = h.startedBefore ? h.continuedFrom : null;
  }
  return chain;
}

/** What PostgreSQL recorded for one task of one run, in the run's workspace. */
export async function taskRecords(sql: Sql, workflowId: string, taskId: string, workspaceId: string | null): Promise<TaskRecords> {
  const ws = () => workspaceIdOf(sql, workspaceId ? { id: workspaceId } : undefined);
  const keyPart = (key: string | null, n: number) => (key ?? '').slice(workflowId.length + 1).split('/')[n] ?? '';
  const [events, outbound, refusals] = await Promise.all([
    sql<{ type: string; at: Date; key: string | null; payload: Record<string, unknown> }[]>`
      select type, at, idempotency_key as key, payload from events
      where run_id = ${workflowId} and task_id = ${taskId} and workspace_id = ${ws()}
        and type in ('task.started', 'task.attempt_failed', 'task.failed', 'task.completed')
      order by id`,
    sql<{ channel: string; status: string; attempts: number; error: string | null; createdAt: Date; key: string; bytes: number; head: string }[]>`
      select channel, status, attempts, error, created_at as "createdAt", execution_key as key,
             octet_length(payload::text) as bytes, left(payload::text, 200) as head
      from outbound_messages
      where starts_with(execution_key, ${`${workflowId}/`}) and split_part(execution_key, '/', 3) = ${taskId} and workspace_id = ${ws()}
      order by created_at, id`,
    sql<{ at: Date; actor: string; details: Record<string, unknown> }[]>`
      select at, actor, details from audit_log
      where entity_type = 'run' and entity_id = ${workflowId} and action = 'approval.refused' and idempotency_key is null
        and details->>'taskId' = ${taskId} and workspace_id = ${ws()}
      order by id`,
  ]);
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return {
    attempts: events.map((e) => ({
      type: e.type, at: e.at, runId: keyPart(e.key, 0), execSeq: Number(e.payload.execSeq ?? keyPart(e.key, 2)) || 1, attempt: Number(e.payload.attempt) || 1,
      error: str(e.payload.error), kind: str(e.payload.kind),
      ...(e.payload.agent && typeof e.payload.agent === 'object' ? { agent: e.payload.agent as { id?: string; name?: string } } : {}),
    })),
    outbound: outbound.map((o) => ({ ...o, runId: keyPart(o.key, 0), execSeq: Number(keyPart(o.key, 2)) || 1, attempt: Number(keyPart(o.key, 3)) || 1 })),
    refusals: refusals.map((r) => ({ at: r.at, actor: r.actor, action: str(r.details.action), reason: str(r.details.reason), notes: str(r.details.notes) })),
  };
}

/** GET /api/runs/:workflowId/tasks/:taskId/replay: another workspace's run is an unknown run. */
export async function taskReplay(sql: Sql, temporal: TemporalHandle, workflowId: string, taskId: string, ws?: RunWorkspace): Promise<TaskReplay> {
  const detail = await describeRun(temporal, workflowId, {}, ws);
  const [histories, records] = await Promise.all([
    readChain(temporal, workflowId, detail.summary.runId, taskId),
    taskRecords(sql, workflowId, taskId, detail.summary.workspaceId),
  ]);
  const p = detail.progress?.tasks.find((t) => t.id === taskId);
  const steps = tellStory(histories, records, {
    workflowId, taskId, open: p ? !ENDED.includes(p.status) : !detail.summary.closeTime,
    currentRef: detail.progress ? (p?.outputRef?.ref ?? '') : undefined, originalRef: p?.originalOutputRef?.ref,
  });
  const task = describeTask(histories, steps, { workflowId, taskId, progress: detail.progress });
  if (!task) throw new NotFoundError('Task in this run');
  return { task, steps };
}

// A run's logs: its timeline read from the Temporal history (tasks
// scheduled, started, completed, failed, retried; signals and updates with who
// sent them; timers), each entry with a short preview of its payload and how
// long it took, joined with each task's pattern log from PostgreSQL.
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal as proto } from '@temporalio/proto';
import type { TxSql } from '../../db/sql';
import { NotFoundError } from '../../lib/errors';
import type { TemporalHandle } from '../../lib/temporal';
import { runsOfWorkflow, type RecordedRun } from '../patterns/pattern-runs';
import { assertRunInWorkspace } from './detail';
import { isWorkflowNotFound, unavailable } from './temporal-errors';
import type { RunWorkspace } from './visibility';

type HistoryEvent = proto.api.history.v1.IHistoryEvent;
type Payloads = proto.api.common.v1.IPayloads | null | undefined;

export interface TimelineEntry {
  at: string;
  kind: string;
  text: string;
  taskId?: string;
  taskName?: string;
  attempt?: number;
  actor?: string;
  /** The start of the event's payload (an input, a result, a message's arguments) as JSON. */
  preview?: string;
  /** Time since the entry before it. */
  sinceMs?: number;
  /** How long the step took: an activity scheduled → started → ended, an update or a timer. */
  durations?: { label: string; ms: number }[];
}

/** Previews stop here: the history is for seeing what happened, the output routes give payloads whole. */
export const PREVIEW_CHARS = 160;

function decode(payloads: Payloads): unknown[] {
  return (payloads?.payloads ?? []).map((p) => {
    try {
      return defaultPayloadConverter.fromPayload(p);
    } catch {
      return undefined; // kept outside the history (external storage) or not JSON
    }
  });
}

/** A value's JSON, cut to PREVIEW_CHARS; a text that is already a JSON preview is kept as it is. */
export function previewOf(value: unknown, alreadyJson = false): string | undefined {
  if (value === undefined) return undefined;
  let json: string;
  try {
    json = alreadyJson && typeof value === 'string' ? `${value}…` : (JSON.stringify(value) ?? String(value));
  } catch {
    json = String(value);
  }
  return json.length > PREVIEW_CHARS ? `${json.slice(0, PREVIEW_CHARS - 1)}…` : json;
}

function timeMs(e: HistoryEvent): number {
  const t = e.eventTime;
  return Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
}

const ACTIVITY_TEXT: Record<string, string> = {
  loadPlan: 'plan loaded',
  selectPattern: 'pattern selection',
  authorizeDecision: 'decision checked',
  recordRunEvent: 'event recorded',
  raiseAlert: 'alert raised',
  storeOutput: 'edited output stored',
};

interface Scheduled { type: string; taskId?: string; taskName?: string; at: number; startedAt?: number }
type TaskResult = { outputRef?: { value?: unknown; preview?: string }; output?: unknown };
type MessageArg = { actor?: string; action?: string; taskId?: string; reason?: string; notes?: string } & Record<string, unknown>;

/** A message's arguments without the actor (shown beside it). */
const argsPreview = (arg: MessageArg | undefined) => {
  if (!arg || typeof arg !== 'object') return previewOf(arg);
  const { actor: _actor, ...rest } = arg;
  return Object.keys(rest).length ? previewOf(rest) : undefined;
};
const what = (name: string, arg: MessageArg | undefined) =>
  name === 'decision' ? `decision "${arg?.action}"${arg?.notes ? `: ${arg.notes}` : ''}` : `${name}${arg?.reason ? `: ${arg.reason}` : ''}`;

export async function runTimeline(
  sql: TxSql, temporal: TemporalHandle, workflowId: string, ws?: RunWorkspace,
): Promise<{ entries: TimelineEntry[]; patternRuns: (RecordedRun & { taskId: string | null })[] }> {
  // The gate before the history: another workspace's run is an unknown run.
  if (ws) await assertRunInWorkspace(temporal, workflowId, ws);
  let events: HistoryEvent[];
  try {
    const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
    events = history.events ?? [];
  } catch (err) {
    if (isWorkflowNotFound(err)) throw new NotFoundError('Run');
    throw unavailable(err);
  }
  const scheduled = new Map<string, Scheduled>();
  const accepted = new Map<string, { at: number; name: string }>();
  const timers = new Map<string, number>();
  const entries: (TimelineEntry & { ms: number })[] = [];
  const push = (e: HistoryEvent, entry: Omit<TimelineEntry, 'at'>) => entries.push({ at: new Date(timeMs(e)).toISOString(), ms: timeMs(e), ...entry });
  /** An activity's end: how long it waited to start and how long it ran. */
  const ended = (s: Scheduled | undefined, e: HistoryEvent, verb: string) =>
    !s ? undefined
    : s.startedAt === undefined ? [{ label: `scheduled → ${verb}`, ms: timeMs(e) - s.at }]
    : [{ label: 'scheduled → started', ms: s.startedAt - s.at }, { label: `started → ${verb}`, ms: timeMs(e) - s.startedAt }];
  for (const e of events) {
    const id = String(e.eventId);
    if (e.workflowExecutionStartedEventAttributes) {
      const [input] = decode(e.workflowExecutionStartedEventAttributes.input) as [{ trigger?: string; startedBy?: { name: string }; input?: unknown }?];
      push(e, { kind: 'run.started', text: `run started (${input?.trigger ?? 'manual'})`, actor: input?.startedBy?.name, preview: previewOf(input?.input) });
    } else if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      const type = a.activityType?.name ?? 'activity';
      const [input] = decode(a.input) as [{ taskId?: string; taskName?: string; execSeq?: number; input?: unknown; notes?: string[] }?];
      scheduled.set(id, { type, taskId: input?.taskId, taskName: input?.taskName, at: timeMs(e) });
      if (type === 'runMissionTask') {
        push(e, {
          kind: 'task.scheduled', text: `task scheduled${input?.execSeq && input.execSeq > 1 ? ` (run ${input.execSeq})` : ''}`, taskId: input?.taskId, taskName: input?.taskName,
          preview: previewOf({ input: input?.input ?? null, ...(input?.notes?.length ? { notes: input.notes } : {}) }),
        });
      }
    } else if (e.activityTaskStartedEventAttributes) {
      const a = e.activityTaskStartedEventAttributes;
      const s = scheduled.get(String(a.scheduledEventId));
      if (s) s.startedAt = timeMs(e);
      if (s?.type !== 'runMissionTask') continue;
      const attempt = a.attempt ?? 1;
      if (attempt > 1) push(e, { kind: 'task.retried', text: `retried: attempt ${attempt}${a.lastFailure?.message ? ` after "${a.lastFailure.message}"` : ''}`, taskId: s.taskId, taskName: s.taskName, attempt });
      push(e, { kind: 'task.started', text: 'task started', taskId: s.taskId, taskName: s.taskName, attempt, durations: [{ label: 'scheduled → started', ms: timeMs(e) - s.at }] });
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      const s = scheduled.get(String(a.scheduledEventId));
      const [result] = decode(a.result) as [unknown];
      if (s?.type === 'runMissionTask') {
        const r = (result ?? {}) as TaskResult;
        const preview = r.outputRef ? (r.outputRef.value !== undefined ? previewOf(r.outputRef.value) : previewOf(r.outputRef.preview, true)) : previewOf(r.output);
        push(e, { kind: 'task.completed', text: 'task completed', taskId: s.taskId, taskName: s.taskName, preview, durations: ended(s, e, 'completed') });
      } else if (s && ACTIVITY_TEXT[s.type]) push(e, { kind: `system.${s.type}`, text: ACTIVITY_TEXT[s.type]!, preview: previewOf(result), durations: ended(s, e, 'completed') });
    } else if (e.activityTaskFailedEventAttributes) {
      const a = e.activityTaskFailedEventAttributes;
      const s = scheduled.get(String(a.scheduledEventId));
      push(e, { kind: s?.type === 'runMissionTask' ? 'task.failed' : 'system.failed', text: `failed: ${a.failure?.message ?? 'unknown error'}`, taskId: s?.taskId, taskName: s?.taskName ?? s?.type, durations: ended(s, e, 'failed') });
    } else if (e.activityTaskTimedOutEventAttributes) {
      const s = scheduled.get(String(e.activityTaskTimedOutEventAttributes.scheduledEventId));
      push(e, { kind: 'task.timed_out', text: 'timed out', taskId: s?.taskId, taskName: s?.taskName ?? s?.type, durations: ended(s, e, 'timed out') });
    } else if (e.activityTaskCanceledEventAttributes) {
      const s = scheduled.get(String(e.activityTaskCanceledEventAttributes.scheduledEventId));
      push(e, { kind: 'task.cancelled', text: 'task cancelled', taskId: s?.taskId, taskName: s?.taskName ?? s?.type, durations: ended(s, e, 'cancelled') });
    } else if (e.workflowExecutionSignaledEventAttributes) {
      const a = e.workflowExecutionSignaledEventAttributes;
      const [arg] = decode(a.input) as [MessageArg?];
      push(e, { kind: `signal.${a.signalName}`, text: `signal ${what(a.signalName ?? '', arg)}`, actor: arg?.actor ?? a.identity ?? undefined, taskId: arg?.taskId, preview: argsPreview(arg) });
    } else if (e.workflowExecutionUpdateAcceptedEventAttributes) {
      const req = e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest;
      const name = req?.input?.name ?? 'update';
      const [arg] = decode(req?.input?.args) as [MessageArg?];
      accepted.set(id, { at: timeMs(e), name });
      push(e, { kind: `update.${name}`, text: `update ${what(name, arg)}`, actor: arg?.actor ?? req?.meta?.identity ?? undefined, taskId: arg?.taskId, preview: argsPreview(arg) });
    } else if (e.workflowExecutionUpdateCompletedEventAttributes) {
      const a = e.workflowExecutionUpdateCompletedEventAttributes;
      const acc = accepted.get(String(a.acceptedEventId));
      const failure = a.outcome?.failure?.message;
      const [result] = decode(a.outcome?.success);
      push(e, {
        kind: `update.${acc?.name ?? 'update'}.completed`, text: `update ${acc?.name ?? ''} ${failure ? `refused: ${failure}` : 'applied'}`, preview: failure ? undefined : previewOf(result),
        durations: acc ? [{ label: 'accepted → applied', ms: timeMs(e) - acc.at }] : undefined,
      });
    } else if (e.timerStartedEventAttributes) {
      const a = e.timerStartedEventAttributes;
      timers.set(String(a.timerId), timeMs(e));
      const fireMs = Number(a.startToFireTimeout?.seconds ?? 0) * 1000 + Math.floor((a.startToFireTimeout?.nanos ?? 0) / 1e6);
      push(e, { kind: 'timer.started', text: 'timer started', durations: [{ label: 'fires after', ms: fireMs }] });
    } else if (e.timerFiredEventAttributes) {
      const started = timers.get(String(e.timerFiredEventAttributes.timerId));
      push(e, { kind: 'timer.fired', text: 'timer fired', durations: started !== undefined ? [{ label: 'started → fired', ms: timeMs(e) - started }] : undefined });
    } else if (e.workflowExecutionCancelRequestedEventAttributes) {
      const a = e.workflowExecutionCancelRequestedEventAttributes;
      push(e, { kind: 'run.cancel_requested', text: `cancellation requested${a.cause ? `: ${a.cause}` : ''}`, actor: a.identity ?? undefined });
    } else if (e.workflowExecutionCompletedEventAttributes) push(e, { kind: 'run.completed', text: 'run completed', preview: previewOf(decode(e.workflowExecutionCompletedEventAttributes.result)[0]) });
    else if (e.workflowExecutionFailedEventAttributes) push(e, { kind: 'run.failed', text: `run failed: ${e.workflowExecutionFailedEventAttributes.failure?.message ?? ''}` });
    else if (e.workflowExecutionCanceledEventAttributes) push(e, { kind: 'run.cancelled', text: 'run cancelled' });
    else if (e.workflowExecutionTerminatedEventAttributes) push(e, { kind: 'run.terminated', text: `run terminated: ${e.workflowExecutionTerminatedEventAttributes.reason ?? ''}` });
  }
  const taskNames = new Map([...scheduled.values()].filter((s) => s.taskId).map((s) => [s.taskId!, s.taskName]));
  const first = entries[0]?.ms;
  const out = entries.map(({ ms, ...entry }, i): TimelineEntry => {
    if (entry.taskId && !entry.taskName) entry.taskName = taskNames.get(entry.taskId);
    // The run's own end says how long the whole run took.
    if (/^run\.(completed|failed|cancelled|terminated)$/.test(entry.kind) && first !== undefined) entry.durations = [{ label: 'run', ms: ms - first }];
    return i ? { ...entry, sinceMs: ms - entries[i - 1]!.ms } : entry;
  });
  return { entries: out, patternRuns: await runsOfWorkflow(sql, workflowId, ws) };
}

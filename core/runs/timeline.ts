// A run's logs: its timeline read from the Temporal history (tasks
// scheduled, started, completed, failed, retried; signals with who sent
// them), joined with each task's pattern log from PostgreSQL.
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal as proto } from '@temporalio/proto';
import type { TxSql } from '../../db/sql';
import { NotFoundError } from '../../lib/errors';
import type { TemporalHandle } from '../../lib/temporal';
import { runsOfWorkflow, type RecordedRun } from '../patterns/pattern-runs';
import { isWorkflowNotFound, unavailable } from './temporal-errors';

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
}

function decode(payloads: Payloads): unknown[] {
  return (payloads?.payloads ?? []).map((p) => {
    try {
      return defaultPayloadConverter.fromPayload(p);
    } catch {
      return undefined;
    }
  });
}

function time(e: HistoryEvent): string {
  const t = e.eventTime;
  return new Date(Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6)).toISOString();
}

const ACTIVITY_TEXT: Record<string, string> = {
  loadPlan: 'plan loaded',
  selectPattern: 'pattern selection',
  authorizeDecision: 'decision checked',
  recordRunEvent: 'event recorded',
  raiseAlert: 'alert raised',
};

export async function runTimeline(sql: TxSql, temporal: TemporalHandle, workflowId: string): Promise<{ entries: TimelineEntry[]; patternRuns: (RecordedRun & { taskId: string | null })[] }> {
  let events: HistoryEvent[];
  try {
    const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
    events = history.events ?? [];
  } catch (err) {
    if (isWorkflowNotFound(err)) throw new NotFoundError('Run');
    throw unavailable(err);
  }
  const scheduled = new Map<string, { type: string; taskId?: string; taskName?: string }>();
  const entries: TimelineEntry[] = [];
  const push = (e: HistoryEvent, entry: Omit<TimelineEntry, 'at'>) => entries.push({ at: time(e), ...entry });
  for (const e of events) {
    const id = String(e.eventId);
    if (e.workflowExecutionStartedEventAttributes) {
      const [input] = decode(e.workflowExecutionStartedEventAttributes.input) as [{ trigger?: string; startedBy?: { name: string } }?];
      push(e, { kind: 'run.started', text: `run started (${input?.trigger ?? 'manual'})`, actor: input?.startedBy?.name });
    } else if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      const type = a.activityType?.name ?? 'activity';
      const [input] = decode(a.input) as [{ taskId?: string; taskName?: string; execSeq?: number }?];
      scheduled.set(id, { type, taskId: input?.taskId, taskName: input?.taskName });
      if (type === 'runMissionTask') push(e, { kind: 'task.scheduled', text: `task scheduled${input?.execSeq && input.execSeq > 1 ? ` (run ${input.execSeq})` : ''}`, taskId: input?.taskId, taskName: input?.taskName });
    } else if (e.activityTaskStartedEventAttributes) {
      const a = e.activityTaskStartedEventAttributes;
      const s = scheduled.get(String(a.scheduledEventId));
      if (s?.type !== 'runMissionTask') continue;
      const attempt = a.attempt ?? 1;
      if (attempt > 1) push(e, { kind: 'task.retried', text: `retried: attempt ${attempt}${a.lastFailure?.message ? ` after "${a.lastFailure.message}"` : ''}`, taskId: s.taskId, taskName: s.taskName, attempt });
      push(e, { kind: 'task.started', text: 'task started', taskId: s.taskId, taskName: s.taskName, attempt });
    } else if (e.activityTaskCompletedEventAttributes) {
      const s = scheduled.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId));
      if (s?.type === 'runMissionTask') push(e, { kind: 'task.completed', text: 'task completed', taskId: s.taskId, taskName: s.taskName });
      else if (s && ACTIVITY_TEXT[s.type]) push(e, { kind: `system.${s.type}`, text: ACTIVITY_TEXT[s.type]! });
    } else if (e.activityTaskFailedEventAttributes) {
      const a = e.activityTaskFailedEventAttributes;
      const s = scheduled.get(String(a.scheduledEventId));
      push(e, { kind: s?.type === 'runMissionTask' ? 'task.failed' : 'system.failed', text: `failed: ${a.failure?.message ?? 'unknown error'}`, taskId: s?.taskId, taskName: s?.taskName ?? s?.type });
    } else if (e.activityTaskTimedOutEventAttributes) {
      const s = scheduled.get(String(e.activityTaskTimedOutEventAttributes.scheduledEventId));
      push(e, { kind: 'task.timed_out', text: 'timed out', taskId: s?.taskId, taskName: s?.taskName ?? s?.type });
    } else if (e.activityTaskCanceledEventAttributes) {
      const s = scheduled.get(String(e.activityTaskCanceledEventAttributes.scheduledEventId));
      push(e, { kind: 'task.cancelled', text: 'task cancelled', taskId: s?.taskId, taskName: s?.taskName ?? s?.type });
    } else if (e.workflowExecutionSignaledEventAttributes) {
      const a = e.workflowExecutionSignaledEventAttributes;
      const [arg] = decode(a.input) as [{ actor?: string; action?: string; taskId?: string; reason?: string; notes?: string }?];
      const what = a.signalName === 'decision' ? `decision "${arg?.action}"${arg?.notes ? `: ${arg.notes}` : ''}` : `${a.signalName}${arg?.reason ? `: ${arg.reason}` : ''}`;
      push(e, { kind: `signal.${a.signalName}`, text: `signal ${what}`, actor: arg?.actor ?? a.identity ?? undefined, taskId: arg?.taskId });
    } else if (e.workflowExecutionCancelRequestedEventAttributes) {
      push(e, { kind: 'run.cancel_requested', text: 'cancellation requested', actor: e.workflowExecutionCancelRequestedEventAttributes.identity ?? undefined });
    } else if (e.workflowExecutionCompletedEventAttributes) push(e, { kind: 'run.completed', text: 'run completed' });
    else if (e.workflowExecutionFailedEventAttributes) push(e, { kind: 'run.failed', text: `run failed: ${e.workflowExecutionFailedEventAttributes.failure?.message ?? ''}` });
    else if (e.workflowExecutionCanceledEventAttributes) push(e, { kind: 'run.cancelled', text: 'run cancelled' });
    else if (e.workflowExecutionTerminatedEventAttributes) push(e, { kind: 'run.terminated', text: `run terminated: ${e.workflowExecutionTerminatedEventAttributes.reason ?? ''}` });
  }
  const taskNames = new Map([...scheduled.values()].filter((s) => s.taskId).map((s) => [s.taskId!, s.taskName]));
  for (const entry of entries) if (entry.taskId && !entry.taskName) entry.taskName = taskNames.get(entry.taskId);
  return { entries, patternRuns: await runsOfWorkflow(sql, workflowId) };
}

// A run's tasks on one time axis, as numbers for the run view's server-drawn
// SVG: a bar per attempt (the pattern runs recorded in PostgreSQL), the time
// each execution waited for a human (from the progress query's decisions), and
// the attempt in flight. Built from what the run view has already read: no
// Temporal call of its own.
import type { Progress, TaskProgress } from '../../workflows/messages';

/** One recorded attempt of a task (a pattern_runs row, as runsOfWorkflow reads it). */
export interface AttemptRecord {
  taskId: string | null;
  executionKey: string;
  attempt: number;
  status: 'succeeded' | 'failed';
  durationMs: number;
  finishedAt: Date;
  errorMessage: string | null;
}

export type BarKind = 'succeeded' | 'failed' | 'running' | 'waiting' | 'cancelled';

export interface GanttBar {
  kind: BarKind;
  x: number;
  width: number;
  /** Which run of the task (request changes runs it again) and which attempt of that run (none for a wait). */
  execSeq: number;
  attempt: number | null;
  /** From the run's start. */
  offsetMs: number;
  durationMs: number;
  /** What the bar stands for, without its duration (the view adds it, formatted). */
  title: string;
  /** Still going: its end is now. */
  ongoing: boolean;
}

export interface GanttRow {
  taskId: string;
  name: string;
  y: number;
  bars: GanttBar[];
  /** What the task's attempts amount to, in words ('' for a task that never started). */
  attemptsText: string;
}

export interface Gantt {
  width: number;
  height: number;
  barHeight: number;
  startedAt: string;
  endedAt: string | null;
  totalMs: number;
  waitingMs: number;
  ticks: { x: number; ms: number; anchor: 'start' | 'middle' | 'end' }[];
  rows: GanttRow[];
  byTask: Record<string, GanttRow>;
}

// User units: the chart scales to its box (the stylesheet draws its words larger on a phone, the rows leave room).
const WIDTH = 720;
const PAD = 8;
const AXIS = 26;
const ROW = 42;
const BAR = 14;
const MIN_BAR = 3;

/** The run of the task an attempt belongs to: its execution key ends in /<execSeq>/<attempt>. */
export function execSeqOf(executionKey: string): number {
  const parts = executionKey.split('/');
  const n = Number(parts[parts.length - 2]);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

const ms = (v: string | Date | null | undefined): number | null => (v ? new Date(v).getTime() : null);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

interface Span {
  kind: BarKind;
  start: number;
  end: number;
  execSeq: number;
  attempt: number | null;
  title: string;
  ongoing: boolean;
}

/** The spans of one task and what its attempts amount to. */
function taskSpans(t: TaskProgress, records: AttemptRecord[], runEnd: number, now: number): { spans: Span[]; attemptsText: string } {
  const spans: Span[] = [];
  const many = t.runs > 1;
  const which = (execSeq: number, attempt: number) => (many ? `run ${execSeq}, attempt ${attempt}` : `attempt ${attempt}`);
  for (const r of records) {
    const end = r.finishedAt.getTime();
    const execSeq = execSeqOf(r.executionKey);
    spans.push({
      kind: r.status, start: end - r.durationMs, end, execSeq, attempt: r.attempt, ongoing: false,
      title: `${which(execSeq, r.attempt)}: ${r.status === 'succeeded' ? 'succeeded' : `failed${r.errorMessage ? ` (${r.errorMessage})` : ''}`}`,
    });
  }
  // Each gate follows a run that succeeded, and the n-th decision settled the n-th gate.
  if (t.requiresApproval) {
    const succeeded = [...new Map(records.filter((r) => r.status === 'succeeded').map((r) => [execSeqOf(r.executionKey), r])).entries()].sort((a, b) => a[0] - b[0]);
    succeeded.forEach(([execSeq, r], i) => {
      const decision = t.decisions[i];
      const waiting = !decision && t.status === 'awaiting_approval' && i === succeeded.length - 1;
      const start = waiting ? (ms(t.approval?.requestedAt) ?? r.finishedAt.getTime()) : r.finishedAt.getTime();
      const end = decision ? new Date(decision.at).getTime() : waiting ? now : (ms(t.finishedAt) ?? runEnd);
      const outcome = decision ? `${decision.action === 'timeout' ? 'timed out' : decision.action.replace(/_/g, ' ')}${decision.actor && decision.action !== 'timeout' ? ` by ${decision.actor}` : ''}` : waiting ? 'still waiting' : 'no decision';
      spans.push({ kind: 'waiting', start, end, execSeq, attempt: null, ongoing: waiting, title: `${many ? `run ${execSeq}: ` : ''}waiting for a decision (${outcome})` });
    });
  }
  // The attempt in flight (running), or the one a cancellation stopped, has no record yet.
  const current = records.filter((r) => execSeqOf(r.executionKey) === t.runs);
  const inFlight = t.runs > 0 && !current.some((r) => r.status === 'succeeded') && (t.status === 'running' || (t.status === 'cancelled' && t.startedAt !== null));
  const attempt = Math.max(0, ...current.map((r) => r.attempt)) + 1;
  if (inFlight) {
    const start = Math.max(ms(t.startedAt) ?? 0, ...current.map((r) => r.finishedAt.getTime()));
    const running = t.status === 'running';
    spans.push({
      kind: running ? 'running' : 'cancelled', start, end: running ? now : (ms(t.finishedAt) ?? runEnd), execSeq: t.runs, attempt, ongoing: running,
      title: `${which(t.runs, attempt)}: ${running ? 'running' : 'stopped by the cancellation'}`,
    });
  }
  const finished = t.attempts || records.length;
  const attemptsText =
    t.status === 'running' && inFlight ? `attempt ${attempt} running`
    : inFlight ? `${finished ? `${plural(finished, 'attempt')}, ` : ''}stopped during attempt ${attempt}`
    : finished ? plural(finished, 'attempt')
    : '';
  return { spans, attemptsText };
}

/** The run's Gantt chart. `now` ends what is still going (an open run, a running attempt, a wait). */
export function runGantt(input: { progress: Progress; startTime: Date; closeTime: Date | null; attempts: AttemptRecord[]; now?: number }): Gantt {
  const { progress } = input;
  const now = input.now ?? Date.now();
  // A run that continued as new keeps its first start in its progress.
  const start = Math.min(ms(progress.startedAt) ?? input.startTime.getTime(), input.startTime.getTime());
  const closed = input.closeTime?.getTime() ?? ms(progress.finishedAt);
  const end = Math.max(closed ?? now, start);
  const span = Math.max(end - start, 1);
  const inner = WIDTH - 2 * PAD;
  const x = (t: number) => PAD + (Math.min(Math.max(t, start), end) - start) / span * inner;
  const byTaskRecords = new Map<string, AttemptRecord[]>();
  for (const r of [...input.attempts].sort((a, b) => a.finishedAt.getTime() - b.finishedAt.getTime())) {
    if (r.taskId) byTaskRecords.set(r.taskId, [...(byTaskRecords.get(r.taskId) ?? []), r]);
  }
  let waitingMs = 0;
  const rows = progress.tasks.map((t, i): GanttRow => {
    const { spans, attemptsText } = taskSpans(t, byTaskRecords.get(t.id) ?? [], end, now);
    const bars = spans.map((s): GanttBar => {
      const from = Math.min(Math.max(s.start, start), end);
      const to = Math.min(Math.max(s.end, from), end);
      if (s.kind === 'waiting') waitingMs += to - from;
      const left = x(from);
      const width = Math.max(x(to) - left, MIN_BAR);
      return {
        kind: s.kind, x: round(Math.min(left, WIDTH - PAD - width)), width: round(width), execSeq: s.execSeq, attempt: s.attempt,
        offsetMs: from - start, durationMs: s.kind === 'waiting' || s.ongoing ? to - from : s.end - s.start, title: s.title, ongoing: s.ongoing,
      };
    });
    return { taskId: t.id, name: t.name, y: AXIS + i * ROW, bars, attemptsText };
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f, i, all) => ({
    x: round(PAD + f * inner), ms: Math.round(f * span), anchor: (i === 0 ? 'start' : i === all.length - 1 ? 'end' : 'middle') as 'start' | 'middle' | 'end',
  }));
  return {
    width: WIDTH, height: AXIS + rows.length * ROW + 2, barHeight: BAR,
    startedAt: new Date(start).toISOString(), endedAt: closed !== null ? new Date(end).toISOString() : null,
    totalMs: end - start, waitingMs, ticks, rows, byTask: Object.fromEntries(rows.map((r) => [r.taskId, r])),
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

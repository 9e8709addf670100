// Push latency and fan-out of the live run view, for bench/ui.ts.
//
// One run waiting at its approval gate is paused and resumed in turn (the
// pause and resume Updates, through core/runs/control.ts on the bench's own
// client, as the UI's buttons call them), a change every GAP_MS or so, while
// browser-like viewers (bench/ui-viewers.ts) watch its page: one viewer for
// CHANGES changes, then VIEWERS viewers for FAN_CHANGES (fewer, which keeps
// the bench short). For every change and viewer:
//   event    when the run's SSE event reached the viewer;
//   shown    when a refetch of the run's live element, made on the browser's
//            schedule (60 ms after the event, again 1.2 s later), first
//            returned with the change (the pause reason, or the Pause button
//            back after a resume): what the reader sees.
// Both are timed from when Temporal recorded the change (the Update's
// WorkflowExecutionUpdateAccepted event time in the run's history), and from
// the change call's return and start (an operator's click, end to end).
// Fan-out: every Temporal call the web server's client made while a phase's
// changes went on (counted per method by bench/ui-servers.ts), per change, one
// viewer against VIEWERS viewers.
import { tsToMs } from '@temporalio/common/lib/time';
import { SYSTEM_ACTOR } from '../core/audit/audit-log';
import { controlRun } from '../core/runs/control';
import { fmt, log, stats, table, type Cleanup } from './lib';
import type { BenchClient, Stack } from './stack';
import { callsSince, type Counters } from './ui-servers';
import { Viewers, type ViewerTotals } from './ui-viewers';

const CHANGES = 30;
const VIEWERS = 200;
const FAN_CHANGES = 20;
/** From one change being seen to the next change: past the viewers' 1.2 s settling refetch. */
const GAP_MS = 1500;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wall = () => performance.timeOrigin + performance.now();

interface Change {
  startAt: number;
  returnAt: number;
  recordedAt: number;
  eventAt: (number | null)[];
  shownAt: (number | null)[];
}

interface Phase {
  viewers: number;
  changes: Change[];
  calls: { total: number; byMethod: Record<string, number> };
  refetches: ViewerTotals;
  seconds: number;
}

export interface PushOptions {
  stack: Stack;
  cleanup: Cleanup;
  counters: Counters;
  bench: BenchClient;
  webUrl: string;
  cookie: string;
  /** A run waiting at its approval gate, and its page's data-live URL. */
  runId: string;
  liveUrl: string;
}

/** When the run's history recorded its latest Update (accepted). */
async function updateRecordedAt(bench: BenchClient, namespace: string, workflowId: string): Promise<number> {
  const { history } = await bench.client.workflowService.getWorkflowExecutionHistoryReverse({ namespace, execution: { workflowId }, maximumPageSize: 50 });
  const accepted = history?.events?.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
  if (!accepted?.eventTime) throw new Error(`no accepted Update in the latest events of ${workflowId}`);
  return tsToMs(accepted.eventTime);
}

async function phase(o: PushOptions, viewers: Viewers, count: number, changeCount: number, firstSeq: number): Promise<Phase> {
  const { stack, bench, runId } = o;
  await viewers.open({ base: o.webUrl, cookie: o.cookie, runId, liveUrl: o.liveUrl, count });
  await pause(GAP_MS); // the refetches every page makes when its stream is ready, done
  await viewers.reset();
  const before = { ...o.counters.calls };
  const since = performance.now();
  const changes: Change[] = [];
  const wf = encodeURIComponent(runId);
  for (let i = 0; i < changeCount; i++) {
    const seq = firstSeq + i;
    const pausing = i % 2 === 0;
    const reason = `change ${seq} of the push bench`;
    // What the run's fragment shows once it has the change: the reason while paused, the Pause button again once resumed.
    const marker = pausing ? `<dd>${reason}</dd>` : `action="/runs/${wf}/pause"`;
    let startAt = 0;
    let returnAt = 0;
    const seen = await viewers.watch(seq, marker, async () => {
      startAt = wall();
      await bench.call(() => controlRun(stack.sql, bench.handle, runId, pausing ? 'pause' : 'resume', SYSTEM_ACTOR, pausing ? reason : undefined));
      returnAt = wall();
    });
    const recordedAt = await updateRecordedAt(bench, stack.config.TEMPORAL_NAMESPACE, runId);
    changes.push({ startAt, returnAt, recordedAt, ...seen });
    await pause(GAP_MS);
  }
  const calls = callsSince(o.counters, before);
  const seconds = (performance.now() - since) / 1000;
  const refetches = await viewers.close();
  return { viewers: count, changes, calls, refetches, seconds };
}

export async function pushAndFanOut(o: PushOptions): Promise<void> {
  const viewers = new Viewers();
  o.cleanup.add('stop the viewers\' thread', () => viewers.terminate());
  log(
    `\nLive run view: changes (pause, resume, ... of a run waiting at approval), one about every ${fmt((GAP_MS + 150) / 1000, 1)} s: ` +
      `${CHANGES} watched by 1 viewer, then ${FAN_CHANGES} watched by ${VIEWERS}`,
  );
  const phases = [await phase(o, viewers, 1, CHANGES, 0), await phase(o, viewers, VIEWERS, FAN_CHANGES, CHANGES)];

  const rows: string[][] = [];
  for (const p of phases) {
    for (const what of ['event', 'shown'] as const) {
      const times = (c: Change) => (what === 'event' ? c.eventAt : c.shownAt);
      const missed = p.changes.reduce((a, c) => a + times(c).filter((t) => t === null).length, 0);
      const cells = (['recordedAt', 'returnAt', 'startAt'] as const).flatMap((from) => {
        const s = stats(p.changes.flatMap((c) => times(c).flatMap((t) => (t === null ? [] : [t - c[from]]))));
        return [fmt(s.p50, 0), fmt(s.p99, 0)];
      });
      rows.push([`${p.viewers} viewer${p.viewers > 1 ? 's' : ''}`, what === 'event' ? 'SSE event arrives' : 'refetch shows it', String(p.changes.length * p.viewers), String(missed), ...cells]);
    }
  }
  log('ms from: Temporal recording the change (its history\'s UpdateAccepted event) / the Update call returning / the call starting (a click)');
  log(table(['viewers', 'a change...', 'samples', 'missed', 'recorded p50', 'p99', 'returned p50', 'p99', 'clicked p50', 'p99'], rows));
  log('shown = the refetch public/app.js makes (60 ms after the event, HX-Request, X-Live-Refresh: 1) returned with the change; missed = not shown within 5 s');
  const last = stats(phases[1]!.changes.map((c) => Math.max(...c.shownAt.map((t) => t ?? Infinity)) - c.recordedAt).filter(Number.isFinite));
  log(`${VIEWERS} viewers: the last viewer of a change had it ${fmt(last.p50, 0)} ms p50 (${fmt(last.max, 0)} ms at most) after Temporal recorded it: the refetch wave's length (the shared run detail is kept 1 s)`);

  const methods = [...new Set(phases.flatMap((p) => Object.keys(p.calls.byMethod)))].sort();
  const fan = phases.map((p) => [
    String(p.viewers), String(p.changes.length), fmt(p.seconds, 1), String(p.calls.total), fmt(p.calls.total / p.changes.length, 2),
    methods.map((m) => `${m.replace(/WorkflowExecution(s?)$/, '$1')} ${p.calls.byMethod[m] ?? 0}`).join(', '),
    Object.entries(p.refetches.byStatus).map(([s, n]) => `${s}: ${n}`).join(', '), String(p.refetches.failures),
  ]);
  log(`\nFan-out: Temporal calls by the web server's client while the run changed (the bench's own Update calls not included)`);
  log(table(['viewers', 'changes', 's', 'Temporal calls', 'per change', 'by method', 'refetches answered', 'failures'], fan));
  const [one, many] = phases as [Phase, Phase];
  const perChange = (p: Phase) => p.calls.total / p.changes.length;
  log(`${VIEWERS} viewers / 1 viewer: ${fmt(perChange(many) / perChange(one), 2)}x the Temporal calls per change (goal <= 1.1x)`);
  for (const p of phases) if (p.refetches.firstFailure) log(`  ${p.viewers} viewers, first failure: ${p.refetches.firstFailure}`);
}

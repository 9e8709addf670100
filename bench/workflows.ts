// Workflows of the bench worker (bench/missions.ts, bench/mission-costs.ts):
// the real missionWorkflow, re-exported so ONE worker serves it, next to bare
// workflows that run N trivial activities with nothing else around them (the
// baseline a mission's per-task overhead is measured against), and one that
// adds the mission's costs one at a time. Deterministic code only (this file
// is bundled like workflows/index.ts).
import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { missionStatusKey } from '../workflows/messages';

export { missionWorkflow } from '../workflows/mission-workflow';

/** What bench/mission-costs.ts adds to a bare run, one cost at a time. */
export interface CostVariant {
  /** The task activity's heartbeatTimeout (5 s, as task-runner.ts sets it). */
  heartbeatTimeout: boolean;
  /** The activity heartbeats once as it starts. */
  heartbeatAtStart: boolean;
  /** Search attributes, memo and summary at start (the runner sets them, as core/runs/start.ts does). */
  searchAttributes: boolean;
  /** One MissionStatus upsert at the end, as a mission's run makes when it completes. */
  upsertStatus: boolean;
  /** Extra bytes in the workflow's input (a mission carries its plan) and in its result (its progress). */
  startBytes: number;
  resultBytes: number;
  /** Extra bytes in each activity's input. */
  padBytes: number;
  /** The activity runs a trivial pattern in the sandbox. */
  sandbox: boolean;
  /** The activity records the run: one statement, one statement that also keeps the output, or a transaction. */
  db: 'none' | 'statement' | 'kept' | 'transaction';
}

/** The bare activities, registered on the bench worker next to the mission activities. */
export interface BenchActivities {
  benchNoop(): Promise<{ ok: true }>;
  benchTask(args: { heartbeat: boolean; pad: string; sandbox: boolean; db: CostVariant['db'] }): Promise<{ ok: true }>;
}

// The same start-to-close timeout a 5 s pattern's task gets (pattern timeout + 60 s), and the default retry policy.
const { benchNoop, benchTask } = proxyActivities<BenchActivities>({ startToCloseTimeout: '65s' });
const withHeartbeatTimeout = proxyActivities<BenchActivities>({ startToCloseTimeout: '65s', heartbeatTimeout: '5s' });

/** N trivial activities, one after another (the counterpart of N tasks in orders 0..N-1). */
export async function bareSequentialWorkflow(n: number): Promise<{ ok: true; n: number }> {
  for (let i = 0; i < n; i++) await benchNoop();
  return { ok: true, n };
}

/** N trivial activities at once (the counterpart of N tasks in one order with maxConcurrency = N). */
export async function bareParallelWorkflow(n: number): Promise<{ ok: true; n: number }> {
  await Promise.all(Array.from({ length: n }, () => benchNoop()));
  return { ok: true, n };
}

/** N activities at once, with the costs the variant adds. */
export async function costParallelWorkflow(n: number, v: CostVariant, _start?: string): Promise<{ ok: true; n: number; pad?: string }> {
  const run = v.heartbeatTimeout ? withHeartbeatTimeout.benchTask : benchTask;
  const pad = 'x'.repeat(v.padBytes);
  await Promise.all(Array.from({ length: n }, () => run({ heartbeat: v.heartbeatAtStart, pad, sandbox: v.sandbox, db: v.db })));
  if (v.upsertStatus) upsertSearchAttributes([{ key: missionStatusKey, value: 'Completed' }]);
  return { ok: true, n, ...(v.resultBytes ? { pad: 'x'.repeat(v.resultBytes) } : {}) };
}

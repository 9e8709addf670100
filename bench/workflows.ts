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
  /** Search attributes at start (the runner sets them) and one MissionStatus upsert at the end. */
  upsertStatus: boolean;
  /** Extra bytes in each activity's input. */
  padBytes: number;
  /** The activity records the run: one statement, or a transaction (begin, a statement, recordRun, commit). */
  db: 'none' | 'statement' | 'transaction';
}

/** The bare activities, registered on the bench worker next to the mission activities. */
export interface BenchActivities {
  benchNoop(): Promise<{ ok: true }>;
  benchTask(args: { heartbeat: boolean; pad: string; db: CostVariant['db'] }): Promise<{ ok: true }>;
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
export async function costParallelWorkflow(n: number, v: CostVariant): Promise<{ ok: true; n: number }> {
  const run = v.heartbeatTimeout ? withHeartbeatTimeout.benchTask : benchTask;
  const pad = 'x'.repeat(v.padBytes);
  await Promise.all(Array.from({ length: n }, () => run({ heartbeat: v.heartbeatAtStart, pad, db: v.db })));
  if (v.upsertStatus) upsertSearchAttributes([{ key: missionStatusKey, value: 'Completed' }]);
  return { ok: true, n };
}

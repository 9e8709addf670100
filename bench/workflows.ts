// Workflows of the bench worker (bench/missions.ts): the real missionWorkflow,
// re-exported so ONE worker serves it, next to bare workflows that run N
// trivial activities with nothing else around them: the baseline a mission's
// per-task overhead is measured against. Deterministic code only (this file
// is bundled like workflows/index.ts).
import { proxyActivities } from '@temporalio/workflow';

export { missionWorkflow } from '../workflows/mission-workflow';

/** The bare activity, registered on the bench worker next to the mission activities. */
export interface BenchActivities {
  benchNoop(): Promise<{ ok: true }>;
}

// The same start-to-close timeout a 5 s pattern's task gets (pattern timeout + 60 s), and the default retry policy.
const { benchNoop } = proxyActivities<BenchActivities>({ startToCloseTimeout: '65s' });

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

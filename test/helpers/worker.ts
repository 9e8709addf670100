// A real worker for a test file: the shared workflow bundle, the test app's
// database and sandbox, polling the test's own task queue.
import { inject } from 'vitest';
import { startMissionWorker, type RunningWorker } from '../../worker';
import type { TestApp } from './app';

export async function startTestWorker(t: TestApp): Promise<RunningWorker> {
  return startMissionWorker({
    config: t.config,
    sql: t.db.sql,
    logger: t.deps.logger,
    address: t.config.TEMPORAL_ADDRESS!, // the test app's server (a test may run its own)
    sandbox: t.deps.sandbox,
    adapters: t.deps.adapters,
    workflowBundle: { codePath: inject('workflowBundlePath') },
  });
}

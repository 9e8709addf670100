// One real PostgreSQL and one real Temporal dev server for the whole run, on
// free ports with throwaway data; the workflow bundle is built once. Each
// test file then makes its own database and task queue (test/helpers).
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { freePort } from '../../lib/ports';
import { startEmbeddedPostgres } from '../../scripts/embedded-postgres';
import { ensureTemporalCli } from '../../scripts/temporal-cli';
import { startTemporalDevServer } from '../../scripts/temporal-dev-server';
import { WORKFLOWS_PATH } from '../../worker';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    temporalAddress: string;
    temporalCli: string;
    workflowBundlePath: string;
    tmpDir: string;
  }
}

export default async function setup(project: TestProject) {
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'mc-test-'));
  // As root, PostgreSQL runs as the postgres user: 0755 lets it keep the throwaway
  // cluster in here (os.tmpdir() is /tmp, which everyone can enter). From a clone
  // in a private folder (the binaries) or with a private TMPDIR (the cluster),
  // startEmbeddedPostgres puts what that user cannot reach under
  // /var/lib/mission-control instead (scripts/embedded-postgres.ts).
  await chmod(tmpDir, 0o755);
  const cli = await ensureTemporalCli({ explicit: process.env.TEMPORAL_CLI || undefined });
  const started = await Promise.allSettled([
    startTestPostgres(path.join(tmpDir, 'pg')),
    freePort().then((port) => startTemporalDevServer({ cli, port })),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger }),
  ] as const);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    // Stop whatever did start, so a failed setup leaves nothing running.
    if (started[0].status === 'fulfilled') await started[0].value.stop();
    if (started[1].status === 'fulfilled') await started[1].value.stop();
    await rm(tmpDir, { recursive: true, force: true });
    throw (failed as PromiseRejectedResult).reason;
  }
  const db = (started[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof startEmbeddedPostgres>>>).value;
  const temporal = (started[1] as PromiseFulfilledResult<Awaited<ReturnType<typeof startTemporalDevServer>>>).value;
  const bundle = (started[2] as PromiseFulfilledResult<Awaited<ReturnType<typeof bundleWorkflowCode>>>).value;
  const workflowBundlePath = path.join(tmpDir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, bundle.code);

  project.provide('pgUrl', db.url);
  project.provide('temporalAddress', temporal.address);
  project.provide('temporalCli', cli);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('tmpDir', tmpDir);

  return async () => {
    await temporal.stop();
    await db.stop();
    await rm(tmpDir, { recursive: true, force: true });
  };
}

/** A free port can be taken by another process before PostgreSQL binds it: try a few. */
async function startTestPostgres(dir: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEmbeddedPostgres({ dir, port: await freePort(), database: 'postgres_tests', persistent: false });
    } catch (err) {
      if (attempt >= 3) throw err;
      console.warn(`embedded PostgreSQL did not start (attempt ${attempt}): ${(err as Error).message.split('\n').slice(0, 3).join(' | ')}`);
    }
  }
}

const noop = () => {};
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m) };

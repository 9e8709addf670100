// The throwaway stack a bench runs against, shared by bench/missions.ts and
// bench/ui.ts: an embedded PostgreSQL (fsync off, as in the tests) and an
// in-memory `temporal server start-dev` on free ports, a workflow bundle, the
// application's database, sandbox and worker, a bench client, and the
// fixtures both benches start from (a container and its patterns).
// Everything started is registered on the caller's Cleanup, in order, so it is
// undone in reverse even when a later step fails.
import { randomBytes, randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, bundleWorkflowCode } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createAdapters } from '../activities/adapters';
import { createSandbox, type SandboxPool } from '../activities/sandbox';
import { SYSTEM_ACTOR } from '../core/audit/audit-log';
import { createContainer } from '../core/patterns/containers';
import { createPattern } from '../core/patterns/patterns';
import { containerInput, patternInput } from '../core/patterns/schemas';
import { prepareDatabase } from '../core/system/setup';
import type { Sql } from '../db/sql';
import { loadConfig, type Config } from '../lib/config';
import { createLogger, type Logger } from '../lib/logger';
import { payloadStorage } from '../lib/payload-storage';
import { freePort } from '../lib/ports';
import { ensureSearchAttributes, type TemporalHandle } from '../lib/temporal';
import { startEmbeddedPostgres } from '../scripts/embedded-postgres';
import { ensureTemporalCli } from '../scripts/temporal-cli';
import { startTemporalDevServer } from '../scripts/temporal-dev-server';
import { createMissionWorker, installTemporalLogging } from '../worker';
import { MAX_ACTIVITY_SLOTS, SHORT_ACTIVITY_SLOTS } from '../lib/activity-slots';
import { log, type Cleanup } from './lib';

export interface Stack {
  cli: string;
  /** The Temporal dev server's address and process id (its CPU is counted by bench/cpu.ts). */
  address: string;
  temporalPid: number | undefined;
  /** The dev server's Web UI (its HTTP API under /api/v1), when startStack was asked for one. */
  uiUrl?: string;
  bundlePath: string;
  config: Config;
  adminPassword: string;
  logger: Logger;
  sql: Sql;
  sessionSecret: string;
  sandbox: SandboxPool;
}

const quiet = () => {};

/** Starts the servers (in parallel), bundles `workflowsPath`, prepares the database and the sandbox. */
export async function startStack(
  cleanup: Cleanup,
  opts: {
    tmpPrefix: string;
    workflowsPath: string;
    env?: Record<string, string>;
    /** Also serve Temporal's Web UI (on a free port of 127.0.0.1). */
    ui?: boolean;
    /** Dynamic config values for the dev server (`key=value`). */
    dynamicConfig?: string[];
  },
): Promise<Stack> {
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), opts.tmpPrefix));
  cleanup.add('remove the temp dir', () => rm(tmpDir, { recursive: true, force: true }));
  await chmod(tmpDir, 0o755); // PostgreSQL runs as its own user when we are root

  const cli = await ensureTemporalCli({ explicit: process.env.TEMPORAL_CLI || undefined, log });
  const [db, temporal, bundle] = await Promise.allSettled([
    freePort().then((port) => startEmbeddedPostgres({ dir: path.join(tmpDir, 'pg'), port, database: 'bench', persistent: false })),
    Promise.all([freePort(), opts.ui ? freePort() : undefined]).then(([port, uiPort]) => startTemporalDevServer({ cli, port, uiPort, dynamicConfig: opts.dynamicConfig })),
    bundleWorkflowCode({ workflowsPath: opts.workflowsPath, logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: (m) => console.error(m) } }),
  ] as const);
  if (db.status === 'fulfilled') cleanup.add('stop PostgreSQL', () => db.value.stop());
  if (temporal.status === 'fulfilled') cleanup.add('stop the Temporal dev server', () => temporal.value.stop());
  for (const r of [db, temporal, bundle]) if (r.status === 'rejected') throw r.reason;
  if (db.status !== 'fulfilled' || temporal.status !== 'fulfilled' || bundle.status !== 'fulfilled') throw new Error('unreachable');
  const bundlePath = path.join(tmpDir, 'workflow-bundle.js');
  await writeFile(bundlePath, bundle.value.code);

  const adminPassword = randomBytes(16).toString('hex');
  const config = loadConfig({
    MC_ADMIN_PASSWORD: adminPassword,
    LOG_LEVEL: 'error',
    LOG_FORMAT: 'json',
    TEMPORAL_ADDRESS: temporal.value.address,
    TEMPORAL_TASK_QUEUE: `bench-${randomUUID().slice(0, 8)}`,
    ...opts.env,
  });
  const logger = createLogger({ level: 'error', format: 'json', name: 'bench' });
  installTemporalLogging(logger);
  const { sql, sessionSecret } = await prepareDatabase({ url: db.value.url, config, logger, announce: quiet, applicationName: 'mission-control-bench' });
  cleanup.add('close the database pool', () => sql.end({ timeout: 5 }));
  const sandbox = createSandbox(config);
  cleanup.add('close the sandbox', () => sandbox.close());
  return {
    cli, address: temporal.value.address, temporalPid: temporal.value.child.pid, uiUrl: temporal.value.uiUrl, bundlePath,
    config, adminPassword, logger, sql, sessionSecret, sandbox,
  };
}

/** The first line of a bench's output: what it runs on. */
export function describeStack(stack: Stack): string {
  const threads = stack.config.MC_SANDBOX_THREADS || os.availableParallelism();
  return `node ${process.version}, ${os.availableParallelism()} CPU(s), Temporal CLI ${path.basename(path.dirname(stack.cli))}, sandbox threads ${threads}, activity slots ${stack.sandbox.capacity + SHORT_ACTIVITY_SLOTS} always, up to ${MAX_ACTIVITY_SLOTS} while a thread is free`;
}

export type BuiltActivities = ReturnType<typeof createActivities>['activities'];

/**
 * The worker, as worker.ts startMissionWorker builds it (createActivities, createMissionWorker,
 * the bundle), plus `extra` activities beside the real ones. `done` settles when it stops.
 */
export async function startWorker(stack: Stack, cleanup: Cleanup, extra: object = {}): Promise<{ activities: BuiltActivities; done: Promise<void> }> {
  const { config } = stack;
  const connection = await NativeConnection.connect({ address: stack.address });
  cleanup.add('close the worker connection', () => connection.close());
  await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE);
  const built = createActivities({
    sql: stack.sql, logger: stack.logger, config, sandbox: stack.sandbox, adapters: createAdapters(config),
    history: { workflowService: connection.workflowService, namespace: config.TEMPORAL_NAMESPACE },
  });
  const worker = await createMissionWorker({
    connection, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities: { ...built.activities, ...extra }, workflowBundle: { codePath: stack.bundlePath }, sandbox: stack.sandbox,
    dataConverter: payloadStorage(stack.sql),
  });
  const done = worker.run();
  cleanup.add('stop the worker', async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await done;
    await built.close();
  });
  return { activities: built.activities, done };
}

export interface BenchClient {
  client: Client;
  /** The bench's own client as a TemporalHandle, for the core functions. */
  handle: TemporalHandle;
  /** Runs `fn` with the client's calls cancelled at cleanup (a failure, Ctrl-C). */
  call<T>(fn: () => Promise<T>): Promise<T>;
}

/** The bench's own Temporal client. Calls in flight at cleanup are cancelled first: a call left to
 * retry on a closed connection would throw from a timer, past any catch. */
export async function connectClient(stack: Stack, cleanup: Cleanup): Promise<BenchClient> {
  const connection = await Connection.connect({ address: stack.address });
  cleanup.add('close the client connection', () => connection.close());
  const { TEMPORAL_NAMESPACE: namespace, TEMPORAL_TASK_QUEUE: taskQueue } = stack.config;
  const client = new Client({ connection, namespace, dataConverter: payloadStorage(stack.sql) });
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // one listener per run in flight
  cleanup.add('cancel the client calls in flight', () => abort.abort());
  return {
    client,
    handle: { connection, client, namespace, taskQueue },
    call: (fn) => connection.withAbortSignal(abort.signal, fn),
  };
}

/** A container and a way to add patterns to it (timeout 5 s, no retries), names made unique. */
export async function benchContainer(stack: Stack): Promise<{ id: string; suffix: string; pattern(name: string, code: string, failureAction?: 'retry' | 'abort'): Promise<{ id: string }> }> {
  const { sql, sandbox } = stack;
  const suffix = randomUUID().slice(0, 8);
  const container = await createContainer(sql, containerInput.parse({ name: `bench-${suffix}`, category: 'automation' }), SYSTEM_ACTOR);
  return {
    id: container.id,
    suffix,
    pattern: (name, code, failureAction = 'retry') =>
      createPattern(
        sql,
        patternInput.parse({ containerId: container.id, name: `${name}-${suffix}`, code, config: { timeout: 5000, retryCount: 0, failureAction } }),
        SYSTEM_ACTOR,
        (c) => sandbox.check(c),
      ),
  };
}

/**
 * Waits for `work`, giving up if the worker stops first or `deadlineMs` passes: a run waits for
 * its result forever otherwise. Late failures of runs still in flight then are not the news.
 */
export async function untilDone(cleanup: Cleanup, work: Promise<void>, workerDone: Promise<void>, deadlineMs: number): Promise<void> {
  let deadline: NodeJS.Timeout | undefined;
  const stopped = Promise.race([
    workerDone.then(() => {
      throw new Error('the worker stopped during the measurement');
    }),
    new Promise<never>((_, reject) => {
      deadline = setTimeout(() => reject(new Error(`the bench took longer than ${deadlineMs / 60_000} minutes`)), deadlineMs);
    }),
  ]);
  stopped.catch(() => {}); // settles (and is ignored) once the worker shuts down at cleanup
  cleanup.add('clear the deadline', () => clearTimeout(deadline));
  work.catch(() => {}); // if `stopped` wins, late failures of in-flight runs are not the news
  await Promise.race([work, stopped]);
}

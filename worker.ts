// The Temporal worker: connects, builds activities with real dependencies,
// runs missionWorkflow on the task queue. `npm start` runs it in-process;
// `node --import tsx worker.ts` runs it alone (docker-compose's worker service).
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker';
import { createActivities } from './activities';
import { createAdapters } from './activities/adapters';
import type { Adapters } from './core/safety/outbound';
import { createSandbox, type SandboxPool } from './activities/sandbox';
import { prepareDatabase } from './core/system/setup';
import type { Sql } from './db/sql';
import { loadConfig, type Config } from './lib/config';
import { createLogger, type Logger } from './lib/logger';
import { MAX_ACTIVITY_SLOTS, sandboxSlotSupplier, type SandboxLoad } from './lib/activity-slots';
import { payloadStorage } from './lib/payload-storage';
import { ensureSearchAttributes } from './lib/temporal';
import { isMain } from './lib/is-main';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

let runtimeInstalled = false;

/** Routes the SDK's own log lines into our logger (once per process). */
export function installTemporalLogging(logger: Logger, level: LogLevel = 'WARN'): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      const fn = entry.level === 'ERROR' ? 'error' : entry.level === 'WARN' ? 'warn' : entry.level === 'INFO' ? 'info' : 'debug';
      logger[fn]({ ...entry.meta, source: 'temporal-sdk' }, entry.message);
    }),
  });
}

export interface MissionWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: object;
  /** A prebuilt bundle (tests, production images); otherwise workflows are bundled from source. */
  workflowBundle?: { codePath: string };
  /** The sandbox the activities run patterns in: its free threads size the activity slots (lib/activity-slots.ts). */
  sandbox?: SandboxLoad;
  /** A fixed number of activity slots instead. */
  maxConcurrentActivityTaskExecutions?: number;
  identity?: string;
  /** External payload storage (lib/payload-storage.ts), the same as the clients'. */
  dataConverter?: DataConverter;
}

/** Activity slots that follow the sandbox's free threads, or a fixed number; other slots at the SDK's defaults. */
function slotOptions(opts: MissionWorkerOptions) {
  if (!opts.sandbox || opts.maxConcurrentActivityTaskExecutions) {
    return { maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivityTaskExecutions ?? MAX_ACTIVITY_SLOTS };
  }
  const fixed = (numSlots: number) => ({ type: 'fixed-size' as const, numSlots });
  return {
    tuner: {
      activityTaskSlotSupplier: sandboxSlotSupplier(opts.sandbox),
      workflowTaskSlotSupplier: fixed(40), localActivityTaskSlotSupplier: fixed(100), nexusTaskSlotSupplier: fixed(100),
    },
  };
}

export async function createMissionWorker(opts: MissionWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    ...slotOptions(opts),
    // Heartbeats carry cancellation to a running sandbox: send them often.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
    shutdownGraceTime: '10s',
    // A worker that dies holds its runs' sticky queue only this long before another worker takes them over.
    stickyQueueScheduleToStartTimeout: '1s',
    ...(opts.dataConverter ? { dataConverter: opts.dataConverter } : {}),
    ...(opts.identity ? { identity: opts.identity } : {}),
  });
}

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Connects to Temporal, registers search attributes, builds activities and starts polling. */
export async function startMissionWorker(opts: {
  config: Config;
  sql: Sql;
  logger: Logger;
  address: string;
  sandbox: SandboxPool;
  adapters: Adapters;
  workflowBundle?: { codePath: string };
  identity?: string;
}): Promise<RunningWorker> {
  const { config, sql, logger } = opts;
  installTemporalLogging(logger);
  const connection = await NativeConnection.connect({ address: opts.address });
  await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE);
  const built = createActivities({
    sql, logger, config, sandbox: opts.sandbox, adapters: opts.adapters,
    history: { workflowService: connection.workflowService, namespace: config.TEMPORAL_NAMESPACE },
  });
  const worker = await createMissionWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    activities: built.activities,
    sandbox: opts.sandbox,
    workflowBundle: opts.workflowBundle,
    dataConverter: payloadStorage(sql),
    identity: opts.identity,
  });
  const done = worker.run().finally(async () => {
    await built.close();
    await connection.close();
  });
  return {
    worker,
    done,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, name: 'worker' });
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS) {
    throw new Error('Running the worker alone needs DATABASE_URL and TEMPORAL_ADDRESS; `npm start` runs everything together.');
  }
  const { sql } = await prepareDatabase({ url: config.DATABASE_URL, config, logger, applicationName: 'mission-control-worker' });
  const sandbox = createSandbox(config);
  const running = await startMissionWorker({ config, sql, logger, address: config.TEMPORAL_ADDRESS, sandbox, adapters: createAdapters(config) });
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, namespace: config.TEMPORAL_NAMESPACE }, 'worker polling');
  const stop = () => void running.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await running.done;
  await sandbox.close();
  await sql.end({ timeout: 5 });
}

if (isMain(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

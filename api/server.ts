// The web server: the Hono app on @hono/node-server. `npm start` runs it
// in-process; `node --import tsx api/server.ts` runs it alone (docker-compose's web service).
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createAdapters } from '../activities/adapters';
import { createSandbox } from '../activities/sandbox';
import { seedExamples } from '../core/missions/examples';
import { startReconciler } from '../core/schedules/reconcile';
import { startNotifier } from '../core/collab/notifier';
import { startPlaybookRunner } from '../core/collab/playbooks';
import { startPresenceSweeper } from '../core/agents/presence';
import { eventStreamOf } from '../core/events/stream';
import { prepareDatabase } from '../core/system/setup';
import { loadConfig } from '../lib/config';
import { createLogger, type Logger } from '../lib/logger';
import { createTemporalClient, ensureSearchAttributes, type TemporalHandle } from '../lib/temporal';
import { createApp } from './app';
import type { AppDeps } from './context';
import { isMain } from '../lib/is-main';

export interface RunningWeb {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startWebServer(deps: AppDeps, opts: { port: number; host: string }): Promise<RunningWeb> {
  const { app } = createApp(deps);
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: opts.port, hostname: opts.host }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const shown = opts.host === '0.0.0.0' || opts.host === '::' ? 'localhost' : opts.host;
  // What PostgreSQL committed and Temporal missed is applied here, on every web replica (safely).
  const reconciler = startReconciler(deps);
  // Agents that stopped heartbeating go OFFLINE (on every replica, safely).
  const sweeper = startPresenceSweeper({ sql: deps.sql, logger: deps.logger, metricsRetentionHours: deps.config.MC_AGENT_METRICS_RETENTION_HOURS });
  // Members' notifications from the event stream, once each (on every replica, safely).
  const notifier = startNotifier(deps);
  // Playbooks: events start their missions, once per event (on every replica, safely).
  const playbooks = startPlaybookRunner(deps);
  return {
    url: `http://${shown}:${port}`,
    port,
    close: async () => {
      // Refuse new connections first, then end the open ones (keep-alive and SSE would hold close() open),
      // and only then stop the background work: a client reconnecting in between would restart it.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await reconciler.stop();
      await sweeper.stop();
      await notifier.stop();
      await playbooks.stop();
      await eventStreamOf(deps.sql, deps.logger).stop(); // ends every live page's stream
      await closed;
    },
  };
}

/**
 * Alone (docker-compose), the web server may start runs before any worker has registered the search
 * attributes, and Temporal refuses a start that names an unknown one: register them here too. Best effort:
 * with Temporal down the server still starts (not ready), and the worker registers them when it connects.
 */
export async function registerSearchAttributes(temporal: TemporalHandle, logger: Logger): Promise<void> {
  try {
    const added = await ensureSearchAttributes(temporal.connection, temporal.namespace);
    if (added.length) logger.info({ added }, 'search attributes registered');
  } catch (err) {
    logger.warn({ err }, 'could not register the search attributes; the worker registers them when it connects');
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT, name: 'web' });
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS) {
    throw new Error('Running the web server alone needs DATABASE_URL and TEMPORAL_ADDRESS; `npm start` runs everything together.');
  }
  const { sql, sessionSecret } = await prepareDatabase({ url: config.DATABASE_URL, config, logger, applicationName: 'mission-control-web' });
  const temporal = createTemporalClient({ address: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE, sql });
  await registerSearchAttributes(temporal, logger);
  const sandbox = createSandbox(config);
  const deps = { sql, temporal, logger, config, sessionSecret, startedAt: new Date(), sandbox, adapters: createAdapters(config) };
  const web = await startWebServer(deps, { port: config.PORT, host: config.HOST });
  logger.info({ url: web.url }, 'web server listening');
  if (config.MC_SEED_EXAMPLES && (await seedExamples(sql, temporal, (code) => sandbox.check(code)))) logger.info('example missions created');
  const stop = async () => {
    await web.close();
    await sandbox.close();
    await temporal.connection.close();
    await sql.end({ timeout: 5 });
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

if (isMain(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

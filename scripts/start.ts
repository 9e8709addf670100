// `npm start`: the whole product on embedded defaults. PostgreSQL (embedded
// unless DATABASE_URL), a Temporal dev server (unless TEMPORAL_ADDRESS), the
// worker and the web server, in one process tree. One Ctrl-C stops it all,
// in reverse order.
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startWebServer } from '../api/server';
import { createAdapters } from '../core/safety/outbound';
import { createSandbox } from '../activities/sandbox';
import { seedExamples } from '../core/missions/examples';
import { prepareDatabase } from '../core/system/setup';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { assertPortFree, PortInUseError } from '../lib/ports';
import { createTemporalClient } from '../lib/temporal';
import { startMissionWorker } from '../worker';
import { startEmbeddedPostgres } from './embedded-postgres';
import { ensureTemporalCli, TemporalCliMissing } from './temporal-cli';
import { startTemporalDevServer } from './temporal-dev-server';

type Stopper = { name: string; stop: () => Promise<unknown> };

const started = Date.now();
const stoppers: Stopper[] = [];
const line = (component: string, text: string) => process.stdout.write(`  ${component.padEnd(11)} ${text}\n`);

/** A dev server left running by a run that was killed hard: stop it before starting anew. */
function reapStaleDevServer(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    if (pid > 0) {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes('start-dev')) process.kill(-pid, 'SIGTERM');
    }
  } catch {
    // not running any more
  }
  rmSync(pidFile, { force: true });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT === 'auto' ? 'pretty' : config.LOG_FORMAT });
  await mkdir(config.dataDir, { recursive: true });
  process.stdout.write(`Mission Control: starting (data in ${path.relative(process.cwd(), config.dataDir) || '.'})\n`);

  await assertPortFree(config.PORT, config.HOST, 'web server', 'PORT');
  if (!config.DATABASE_URL) await assertPortFree(config.MC_PG_PORT, '127.0.0.1', 'embedded PostgreSQL', 'MC_PG_PORT');
  if (!config.TEMPORAL_ADDRESS) {
    await assertPortFree(config.MC_TEMPORAL_PORT, '127.0.0.1', 'Temporal dev server', 'MC_TEMPORAL_PORT');
    await assertPortFree(config.MC_TEMPORAL_UI_PORT, '127.0.0.1', 'Temporal Web UI', 'MC_TEMPORAL_UI_PORT');
  }

  // PostgreSQL and Temporal start side by side: they do not depend on each other.
  const database = (async () => {
    if (config.DATABASE_URL) {
      line('PostgreSQL', `${redactUrl(config.DATABASE_URL)} (DATABASE_URL)`);
      return config.DATABASE_URL;
    }
    const dir = path.join(config.dataDir, 'postgres');
    const db = await startEmbeddedPostgres({ dir, port: config.MC_PG_PORT, onLog: (m) => logger.debug({ source: 'postgres' }, m.trim()) });
    stoppers.push({ name: 'PostgreSQL', stop: db.stop });
    line('PostgreSQL', `127.0.0.1:${config.MC_PG_PORT} (embedded, data in ${path.relative(process.cwd(), dir)})`);
    return db.url;
  })();
  const temporal = (async () => {
    if (config.TEMPORAL_ADDRESS) {
      line('Temporal', `${config.TEMPORAL_ADDRESS} (TEMPORAL_ADDRESS), namespace ${config.TEMPORAL_NAMESPACE}`);
      return config.TEMPORAL_ADDRESS;
    }
    const cli = await ensureTemporalCli({ explicit: config.TEMPORAL_CLI, log: (l) => process.stdout.write(l + '\n') });
    const pidFile = path.join(config.dataDir, 'temporal-dev-server.pid');
    reapStaleDevServer(pidFile);
    const server = await startTemporalDevServer({
      cli,
      port: config.MC_TEMPORAL_PORT,
      uiPort: config.MC_TEMPORAL_UI_PORT,
      dbFile: path.join(config.dataDir, 'temporal.db'),
      logFile: path.join(config.dataDir, 'temporal-server.log'),
      detached: true,
    });
    writeFileSync(pidFile, String(server.child.pid));
    stoppers.push({ name: 'Temporal', stop: async () => { await server.stop(); rmSync(pidFile, { force: true }); } });
    line('Temporal', `${server.address} (dev server, data in ${path.relative(process.cwd(), path.join(config.dataDir, 'temporal.db'))})`);
    line('Temporal UI', server.uiUrl ?? '');
    return server.address;
  })();
  const [dbUrl, temporalAddress] = await Promise.all([database, temporal]);

  const { sql, sessionSecret } = await prepareDatabase({ url: dbUrl, config, logger });
  stoppers.push({ name: 'database pool', stop: () => sql.end({ timeout: 5 }) });

  // One sandbox pool serves the worker's tasks and the web server's inject and code checks.
  const sandbox = createSandbox(config);
  stoppers.push({ name: 'sandbox', stop: () => sandbox.close() });
  const adapters = createAdapters(config);
  const worker = await startMissionWorker({ config, sql, logger, address: temporalAddress, sandbox, adapters });
  stoppers.push({ name: 'worker', stop: worker.stop });
  line('Worker', `polling task queue ${config.TEMPORAL_TASK_QUEUE} (namespace ${config.TEMPORAL_NAMESPACE})`);

  const temporalClient = createTemporalClient({ address: temporalAddress, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE });
  stoppers.push({ name: 'Temporal client', stop: () => temporalClient.connection.close() });
  const web = await startWebServer(
    { sql, temporal: temporalClient, logger, config, sessionSecret, startedAt: new Date(), sandbox, adapters },
    { port: config.PORT, host: config.HOST },
  );
  stoppers.push({ name: 'web server', stop: web.close });
  line('Web', web.url);
  if (config.MC_SEED_EXAMPLES && (await seedExamples(sql, temporalClient, (code) => sandbox.check(code)))) {
    line('Examples', 'created the "Daily marketing ops" container and its five scheduled missions (schedules paused)');
  }
  process.stdout.write(`Mission Control is ready in ${((Date.now() - started) / 1000).toFixed(1)} s. Press Ctrl-C to stop.\n`);
}

let stopping = false;
let firstSignalAt = 0;

async function shutdown(code: number): Promise<void> {
  stopping = true;
  for (const s of stoppers.reverse()) {
    let timer: NodeJS.Timeout | undefined;
    try {
      // No component may hold the rest of the shutdown hostage.
      await Promise.race([
        s.stop(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('did not stop within 20 s')), 20_000))),
      ]);
    } catch (err) {
      process.stderr.write(`  could not stop ${s.name} cleanly: ${(err as Error).message}\n`);
    } finally {
      clearTimeout(timer);
    }
  }
  if (code === 0) process.stdout.write('Mission Control stopped.\n');
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // npm, tsx and the terminal may each deliver the same Ctrl-C: only a later one forces exit.
    if (stopping) {
      if (Date.now() - firstSignalAt > 2000) {
        process.stderr.write('Forced exit.\n');
        process.exit(130);
      }
      return;
    }
    firstSignalAt = Date.now();
    process.stdout.write('\nStopping Mission Control…\n');
    void shutdown(0).then(() => undefined);
  });
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

main().catch(async (err) => {
  if (err instanceof PortInUseError || err instanceof TemporalCliMissing) process.stderr.write(`\n${err.message}\n`);
  else process.stderr.write(`\nMission Control could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  if (!stopping) await shutdown(1);
});

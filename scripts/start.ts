// `npm start`: the whole product on embedded defaults. PostgreSQL (embedded
// unless DATABASE_URL), a Temporal dev server (unless TEMPORAL_ADDRESS), the
// worker and the web server, in one process tree. One Ctrl-C stops it all,
// in reverse order.
//
// A start that fails says so in one line (no stack trace; LOG_LEVEL=debug adds
// it). A stop asked for at any moment of the start (during initdb, the Temporal
// dev server's start, the migrations, the seeding) lets the step under way
// reach a point where it can be stopped, stops everything already started, and
// ends with "Mission Control stopped.": no postgres or temporal process stays.
import { existsSync, readdirSync, readFileSync, writeFileSync, rmSync, constants as fsConstants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';

// The project's modules are imported once the signal handlers below are in place
// (a Ctrl-C while they load, a few seconds on a busy machine, is then a clean stop
// too): first what starting PostgreSQL and Temporal needs, then, while those two
// start, the rest (web server, worker, sandbox), which takes as long again.
const loadEarly = () =>
  Promise.all([
    import('../lib/config'),
    import('../lib/logger'),
    import('../lib/ports'),
    import('./embedded-postgres'),
    import('./temporal-cli'),
    import('./temporal-dev-server'),
  ]).then(([config, logger, ports, pg, cli, devServer]) => ({ ...config, ...logger, ...ports, ...pg, ...cli, ...devServer }));
const loadLate = () =>
  Promise.all([
    import('../api/server'),
    import('../activities/adapters'),
    import('../activities/sandbox'),
    import('../core/missions/examples'),
    import('../core/system/setup'),
    import('../lib/temporal'),
    import('../worker'),
  ]).then(([server, outbound, sandbox, examples, setup, temporal, worker]) => ({ ...server, ...outbound, ...sandbox, ...examples, ...setup, ...temporal, ...worker }));

type Stopper = { name: string; stop: () => Promise<unknown> };

/** A failure the user can act on, already said in one line. */
class StartError extends Error {}
/** Thrown where the start checks whether a stop was asked for meanwhile. */
class StopRequested extends Error {}

const started = Date.now();
const stoppers: Stopper[] = [];
/** Starts under way (components, and the start itself): a stop waits for them to settle. */
const inFlight = new Set<Promise<unknown>>();
const abort = new AbortController();
let stopping = false;
let firstSignalAt = 0;
let logger: Logger | undefined;
let debug = false;
/** True until the first project module has loaded: nothing is started yet, a stop just exits. */
let loading = true;
/** The error classes that already say what is wrong in one line (filled once their modules load). */
const expectedErrors: (abstract new (...args: never[]) => Error)[] = [];

/** One line per component; none once stopping (a start finishing during the stop is not news). */
const line = (component: string, text: string) => {
  if (!stopping) process.stdout.write(`  ${component.padEnd(11)} ${text}\n`);
};
const shown = (p: string) => path.relative(process.cwd(), p) || '.';

function track<T>(p: Promise<T>): Promise<T> {
  inFlight.add(p);
  p.then(
    () => inFlight.delete(p),
    () => inFlight.delete(p),
  );
  return p;
}

/** Waits for p, unless a stop is asked for first (p then settles on its own, tracked if it must be). */
function untilStopped<T>(p: Promise<T>): Promise<T> {
  if (stopping) return Promise.reject(new StopRequested());
  return new Promise<T>((resolve, reject) => {
    const onStop = () => reject(new StopRequested());
    abort.signal.addEventListener('abort', onStop, { once: true });
    p.then(resolve, reject).finally(() => abort.signal.removeEventListener('abort', onStop));
  });
}

/** Between steps: once a stop was asked for, start nothing more. */
function checkpoint(): void {
  if (stopping) throw new StopRequested();
}

/** Runs one step of the start; a failure becomes a StartError naming the step. */
async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (stopping || isExpected(err)) throw err;
    throw new StartError(`${what} failed: ${firstLine(err)}`, { cause: err });
  }
}

function isExpected(err: unknown): boolean {
  return err instanceof StartError || err instanceof StopRequested || expectedErrors.some((c) => err instanceof c);
}

/** SIGTERM to the process group of our child `temporal server start-dev --port <port>` (synchronous: for 'exit'). */
function stopStartingDevServer(port: number): void {
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)\s+\S+\s+/, '').split(' ')[0]);
      if (ppid !== process.pid) continue;
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (args.includes('start-dev') && args[args.indexOf('--port') + 1] === String(port)) process.kill(-Number(pid), 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * A dev server left running by a run that was killed hard: stop it before the
 * port checks (else its port is "in use"), and wait until it is gone.
 * Returns its pid if it was running.
 */
async function reapStaleDevServer(pidFile: string): Promise<number | undefined> {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  let reaped: number | undefined;
  try {
    if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start-dev')) {
      process.kill(-pid, 'SIGTERM');
      reaped = pid;
      for (let waited = 0; existsSync(`/proc/${pid}`) && waited < 10_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
      if (existsSync(`/proc/${pid}`)) process.kill(-pid, 'SIGKILL');
    }
  } catch {
    // not running any more
  }
  rmSync(pidFile, { force: true });
  return reaped;
}

async function prepareDataDir(dir: string): Promise<void> {
  const advice = 'Set MC_DATA_DIR to a folder you can write to.';
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    // Name the folder at fault: the nearest one that exists, when it is the one we may not write in.
    let existing = path.dirname(dir);
    while (!existsSync(existing) && existing !== path.dirname(existing)) existing = path.dirname(existing);
    const denied = await access(existing, fsConstants.W_OK).then(() => undefined, (e: NodeJS.ErrnoException) => e.code ?? 'denied');
    const why = denied ? `${existing} is not writable (${denied})` : `${(err as NodeJS.ErrnoException).code ?? firstLine(err)}`;
    throw new StartError(`The data folder ${dir} cannot be created: ${why}. ${advice}`);
  }
  try {
    await access(dir, fsConstants.W_OK | fsConstants.X_OK);
  } catch (err) {
    throw new StartError(`The data folder ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? firstLine(err)}). ${advice}`);
  }
}

async function main(): Promise<void> {
  const {
    loadConfig, createLogger, assertPortFree, PortInUseError, startEmbeddedPostgres, stopOrphanedPostgres,
    EmbeddedPostgresError, EmbeddedPostgresAborted, ensureTemporalCli, TemporalCliMissing, startTemporalDevServer,
  } = await loadEarly();
  expectedErrors.push(PortInUseError, TemporalCliMissing, EmbeddedPostgresError, EmbeddedPostgresAborted);
  loading = false;
  checkpoint();
  const late = loadLate();
  late.catch(() => {}); // awaited below; a failure is reported there
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    throw new StartError((err as Error).message);
  }
  debug = config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace';
  const log = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT === 'auto' ? 'pretty' : config.LOG_FORMAT });
  logger = log;
  await prepareDataDir(config.dataDir);
  process.stdout.write(`Mission Control: starting (data in ${shown(config.dataDir)})\n`);

  // Servers an earlier run killed hard left behind hold the ports: stop them first.
  const pgDir = path.join(config.dataDir, 'postgres');
  const pidFile = path.join(config.dataDir, 'temporal-dev-server.pid');
  if (!config.DATABASE_URL) {
    const reaped = await stopOrphanedPostgres(pgDir);
    if (reaped) line('PostgreSQL', `stopped a server an earlier run left behind (pid ${reaped})`);
  }
  if (!config.TEMPORAL_ADDRESS) {
    const reaped = await reapStaleDevServer(pidFile);
    if (reaped) line('Temporal', `stopped a dev server an earlier run left behind (pid ${reaped})`);
  }
  await assertPortFree(config.PORT, config.HOST, 'web server', 'PORT');
  if (!config.DATABASE_URL) await assertPortFree(config.MC_PG_PORT, '127.0.0.1', 'embedded PostgreSQL', 'MC_PG_PORT');
  if (!config.TEMPORAL_ADDRESS) {
    await assertPortFree(config.MC_TEMPORAL_PORT, '127.0.0.1', 'Temporal dev server', 'MC_TEMPORAL_PORT');
    await assertPortFree(config.MC_TEMPORAL_UI_PORT, '127.0.0.1', 'Temporal Web UI', 'MC_TEMPORAL_UI_PORT');
  }
  checkpoint();

  // PostgreSQL and Temporal start side by side: they do not depend on each other.
  // Each registers its stopper as soon as it runs, so a stop during the other's start stops it too.
  const database = track((async () => {
    if (config.DATABASE_URL) {
      line('PostgreSQL', `${redactUrl(config.DATABASE_URL)} (DATABASE_URL)`);
      return config.DATABASE_URL;
    }
    const db = await startEmbeddedPostgres({
      dir: pgDir,
      port: config.MC_PG_PORT,
      detached: true, // a terminal's Ctrl-C reaches us, and we stop it last, after the pool
      logFile: path.join(config.dataDir, 'postgres.log'),
      signal: abort.signal,
      onLog: (m) => log.debug({ source: 'postgres' }, m.trim()),
    });
    stoppers.push({ name: 'PostgreSQL', stop: db.stop });
    const where = db.dataDir === pgDir ? shown(pgDir) : `${db.dataDir}, linked from ${shown(pgDir)}`;
    line('PostgreSQL', `127.0.0.1:${config.MC_PG_PORT} (embedded, data in ${where})`);
    return db.url;
  })());
  const temporal = track((async () => {
    if (config.TEMPORAL_ADDRESS) {
      line('Temporal', `${config.TEMPORAL_ADDRESS} (TEMPORAL_ADDRESS), namespace ${config.TEMPORAL_NAMESPACE}`);
      return config.TEMPORAL_ADDRESS;
    }
    const cli = await ensureTemporalCli({ explicit: config.TEMPORAL_CLI, log: (l) => process.stdout.write(l + '\n') });
    checkpoint();
    const logFile = path.join(config.dataDir, 'temporal-server.log');
    let server: Awaited<ReturnType<typeof startTemporalDevServer>>;
    // Until it answers, startTemporalDevServer keeps its process to itself: should this
    // process end meanwhile (a forced exit), find it among our children by its port.
    const onExitWhileStarting = () => stopStartingDevServer(config.MC_TEMPORAL_PORT);
    process.once('exit', onExitWhileStarting);
    try {
      server = await startTemporalDevServer({
        cli,
        port: config.MC_TEMPORAL_PORT,
        uiPort: config.MC_TEMPORAL_UI_PORT,
        dbFile: path.join(config.dataDir, 'temporal.db'),
        logFile,
        detached: true,
      });
    } catch (err) {
      if (stopping) throw new StopRequested();
      const tail = (err as Error).message.split('\n').slice(1).map((l) => l.trim()).filter(Boolean);
      const why = `${firstLine(err).replace(/:$/, '')}${tail.length ? `: ${tail.at(-1)!.slice(0, 300)}` : ''}`;
      throw new StartError(`${why} (log: ${shown(logFile)})`);
    } finally {
      process.removeListener('exit', onExitWhileStarting);
    }
    writeFileSync(pidFile, String(server.child.pid));
    // As for PostgreSQL: should this process end without having stopped it (a forced
    // exit), stop it anyway; SIGKILL if its graceful stop was already under way.
    let stopSent = false;
    const onExit = () => {
      try {
        if (server.child.exitCode === null && server.child.signalCode === null && server.child.pid) {
          process.kill(-server.child.pid, stopSent ? 'SIGKILL' : 'SIGTERM');
        }
      } catch {
        // gone
      }
    };
    process.once('exit', onExit);
    stoppers.push({
      name: 'Temporal',
      stop: async () => {
        stopSent = true;
        await server.stop();
        process.removeListener('exit', onExit); // only now: a forced exit meanwhile still stops it
        rmSync(pidFile, { force: true });
      },
    });
    line('Temporal', `${server.address} (dev server, data in ${shown(path.join(config.dataDir, 'temporal.db'))})`);
    line('Temporal UI', server.uiUrl ?? '');
    return server.address;
  })());
  const [dbUrl, temporalAddress] = await untilStopped(Promise.all([database, temporal]));
  checkpoint();
  const { prepareDatabase, createSandbox, createAdapters, startMissionWorker, createTemporalClient, startWebServer, seedExamples } = await step(
    'Loading Mission Control',
    () => untilStopped(late),
  );
  checkpoint();

  const { sql, sessionSecret } = await step('Preparing the database (migrations, first admin)', () => prepareDatabase({ url: dbUrl, config, logger: log }));
  stoppers.push({ name: 'database pool', stop: () => sql.end({ timeout: 5 }) });
  checkpoint();

  // One sandbox pool serves the worker's tasks and the web server's inject and code checks.
  const sandbox = createSandbox(config);
  stoppers.push({ name: 'sandbox', stop: () => sandbox.close() });
  const adapters = createAdapters(config);
  const worker = await step('Starting the worker', () => startMissionWorker({ config, sql, logger: log, address: temporalAddress, sandbox, adapters }));
  stoppers.push({ name: 'worker', stop: worker.stop });
  line('Worker', `polling task queue ${config.TEMPORAL_TASK_QUEUE} (namespace ${config.TEMPORAL_NAMESPACE})`);
  checkpoint();

  const temporalClient = createTemporalClient({ address: temporalAddress, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE, sql });
  stoppers.push({ name: 'Temporal client', stop: () => temporalClient.connection.close() });
  const web = await step('Starting the web server', () =>
    startWebServer(
      { sql, temporal: temporalClient, logger: log, config, sessionSecret, startedAt: new Date(), sandbox, adapters },
      { port: config.PORT, host: config.HOST },
    ),
  );
  stoppers.push({ name: 'web server', stop: web.close });
  line('Web', web.url);
  checkpoint();
  if (config.MC_SEED_EXAMPLES && (await step('Creating the examples', () => seedExamples(sql, temporalClient, (code) => sandbox.check(code))))) {
    line('Examples', 'created the "Daily marketing ops" container and its five scheduled missions (schedules paused)');
  }
  checkpoint();
  process.stdout.write(`Mission Control is ready in ${((Date.now() - started) / 1000).toFixed(1)} s. Press Ctrl-C to stop.\n`);
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  firstSignalAt ||= Date.now(); // a Ctrl-C right after a failed start's own stop began is not a second one
  abort.abort();
  if (loading) {
    // Still loading modules: nothing was started.
    if (code === 0) process.stdout.write('Mission Control stopped.\n');
    process.exit(code);
  }
  // Let the steps under way settle, so that whatever they started has its stopper:
  // initdb and PostgreSQL's start end at once on the abort; the Temporal dev server
  // is let come up, then stopped (a SIGTERM while it starts saves nothing, its
  // graceful stop takes as long, and one that kills it before it handles signals
  // leaves startTemporalDevServer polling until its timeout); a migration or the
  // seeding runs to its end. Bounded: a step that hangs holds nothing hostage.
  let waitTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled([...inFlight]),
    new Promise((r) => (waitTimer = setTimeout(r, 20_000))),
  ]);
  clearTimeout(waitTimer);
  // Reverse order of start; a stopper added meanwhile is still found.
  for (let s = stoppers.pop(); s; s = stoppers.pop()) {
    let timer: NodeJS.Timeout | undefined;
    try {
      // No component may hold the rest of the shutdown hostage.
      await Promise.race([
        s.stop(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('did not stop within 20 s')), 20_000))),
      ]);
    } catch (err) {
      process.stderr.write(`  could not stop ${s.name} cleanly: ${firstLine(err)}\n`);
    } finally {
      clearTimeout(timer);
    }
  }
  if (code === 0) process.stdout.write('Mission Control stopped.\n');
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    // npm, tsx and the terminal may each deliver the same Ctrl-C: only a later one forces exit
    // (the exit hooks still stop PostgreSQL and the Temporal dev server).
    if (stopping) {
      if (Date.now() - firstSignalAt > 2000) {
        process.stderr.write('Forced exit.\n');
        process.exit(130);
      }
      return;
    }
    firstSignalAt = Date.now();
    process.stdout.write('\nStopping Mission Control…\n');
    void shutdown(0);
  });
}

// While stopping, connections closing under a step still running may throw from
// their callbacks (postgres.js writing to a socket already gone): the process is
// about to exit, so they are noted, not fatal. Before that, an unexpected error
// stops everything in order rather than leaving the dev server behind.
function onUnexpected(err: unknown): void {
  if (stopping) {
    logger?.debug({ err }, 'error while stopping (ignored)');
    return;
  }
  process.stderr.write(`\nMission Control stopped after an unexpected error: ${firstLine(err)}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  void shutdown(1);
}
process.on('uncaughtException', onUnexpected);
process.on('unhandledRejection', onUnexpected);

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split('\n').find((l) => l.trim()) ?? text).trim() || (err instanceof Error ? err.name : 'unknown error');
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

const run = track(main());
run.catch(async (err) => {
  if (stopping) {
    // The start was cut short by a stop: not a failure.
    logger?.debug({ err }, 'start interrupted by a stop');
    return;
  }
  if (isExpected(err)) {
    process.stderr.write(`\n${err.message}\n`);
  } else {
    process.stderr.write(`\nMission Control could not start: ${firstLine(err)}${debug ? '' : ' (LOG_LEVEL=debug shows where)'}\n`);
  }
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  await shutdown(1);
});

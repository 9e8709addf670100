// The embedded PostgreSQL that `npm start` runs: from any folder (as root, a
// private one puts the cluster where the postgres user can reach it), failures
// as one clear line, and a start that can be cancelled at any moment without
// leaving a process or a half-made cluster behind.
import { existsSync } from 'node:fs';
import { lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../lib/ports';
import {
  EmbeddedPostgresAborted,
  EmbeddedPostgresError,
  SHARED_ROOT,
  startEmbeddedPostgres,
  type EmbeddedDb,
} from '../../scripts/embedded-postgres';

const isRoot = os.userInfo().uid === 0;
const cleanup: string[] = [];

afterAll(async () => {
  for (const p of cleanup) await rm(p, { recursive: true, force: true });
});

/** A folder only its owner can enter, like a clone in /root or in `mktemp -d`. */
async function privateFolder(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mc-pg-private-')); // mode 0700
  cleanup.push(dir);
  return dir;
}

function gone(pid: number | undefined): boolean {
  try {
    process.kill(pid!, 0);
    return false;
  } catch {
    return true;
  }
}

describe('the embedded PostgreSQL', () => {
  it('runs from a private folder, keeps its data across starts, and says a clash in one line', { timeout: 180_000 }, async () => {
    const home = await privateFolder();
    const dir = path.join(home, '.data', 'postgres');
    let db: EmbeddedDb | undefined = await startEmbeddedPostgres({ dir, port: await freePort(), database: 'kept', logFile: path.join(home, '.data', 'postgres.log') });
    const dataDir = db.dataDir;
    try {
      if (isRoot) {
        // The postgres user cannot enter `home`: the cluster lives under SHARED_ROOT, linked from dir.
        expect(db.dataDir.startsWith(path.join(SHARED_ROOT, 'postgres') + path.sep)).toBe(true);
        expect((await lstat(dir)).isSymbolicLink()).toBe(true);
        cleanup.push(db.dataDir, `${db.dataDir}.origin`);
      } else {
        expect(db.dataDir).toBe(dir);
      }
      let sql = postgres(db.url, { max: 1, onnotice: () => {} });
      await sql`create table t (v text)`;
      await sql`insert into t values ('still here')`;
      await sql.end();

      // The same cluster, started twice: PostgreSQL's refusal, as one line.
      const clash = await startEmbeddedPostgres({ dir, port: await freePort(), database: 'kept' }).catch((e: unknown) => e);
      expect(clash).toBeInstanceOf(EmbeddedPostgresError);
      expect((clash as Error).message).toMatch(/^The embedded PostgreSQL did not start on port \d+: .*postmaster\.pid/);
      expect((clash as Error).message).not.toContain('\n');

      const pid = db.child.pid;
      await db.stop();
      db = undefined;
      expect(gone(pid)).toBe(true);

      db = await startEmbeddedPostgres({ dir, port: await freePort(), database: 'kept' });
      sql = postgres(db.url, { max: 1, onnotice: () => {} });
      expect(await sql`select v from t`).toEqual([{ v: 'still here' }]);
      await sql.end();
      await db.stop();
      db = undefined;

      // Cancelled while the server starts: nothing keeps running.
      const controller = new AbortController();
      const cancelled = await startEmbeddedPostgres({
        dir,
        port: await freePort(),
        signal: controller.signal,
        onLog: () => controller.abort(),
      }).catch((e: unknown) => e);
      expect(cancelled).toBeInstanceOf(EmbeddedPostgresAborted);
      expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
      expect(existsSync(path.join(home, '.data', 'postgres.log'))).toBe(true);
    } finally {
      await db?.stop();
    }
  });

  it('cancelled during initdb, leaves no process and no half-made cluster', { timeout: 180_000 }, async () => {
    const home = await privateFolder();
    const dir = path.join(home, 'pg');
    const controller = new AbortController();
    const err = await startEmbeddedPostgres({
      dir,
      port: await freePort(),
      persistent: false,
      signal: controller.signal,
      onLog: () => controller.abort(), // initdb's first words
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddedPostgresAborted);
    expect(existsSync(dir)).toBe(false);
    expect((await readdir(home)).filter((n) => n.includes('.initdb-'))).toEqual([]);
    if (isRoot) {
      const leftovers = await readdir(path.join(SHARED_ROOT, 'postgres')).catch(() => [] as string[]);
      expect(leftovers.filter((n) => n.includes(`.initdb-${process.pid}`))).toEqual([]);
    }
  });

  it('says in one line when its folder cannot be made', async () => {
    const home = await privateFolder();
    await writeFile(path.join(home, 'not-a-folder'), '');
    const err = await startEmbeddedPostgres({ dir: path.join(home, 'not-a-folder', 'pg'), port: await freePort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddedPostgresError);
    expect((err as Error).message).toMatch(/^Could not create .*not-a-folder for PostgreSQL's data: E(EXIST|NOTDIR)\b/);
    expect((err as Error).message).not.toContain('\n');
  });
});

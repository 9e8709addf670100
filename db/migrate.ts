// Forwards-only numbered migrations: db/migrations/NNNN_name.sql, applied in
// order, each in its own transaction, recorded in schema_migrations. An
// advisory lock taken inside each transaction makes concurrent starters apply
// every migration exactly once.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from './sql';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const LOCK_KEY = 727_001; // arbitrary, constant: "mission control migrations"

export interface Migration {
  version: number;
  name: string;
  file: string;
}

export async function listMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return files.map((file) => ({ version: Number(file.slice(0, 4)), name: file.slice(5, -4), file: path.join(dir, file) }));
}

/** Applies pending migrations; returns the versions this call applied. */
export async function migrate(sql: Sql, dir = MIGRATIONS_DIR): Promise<number[]> {
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`
      create table if not exists schema_migrations (
        version integer primary key,
        name text not null,
        applied_at timestamptz not null default now()
      )`;
  });
  const applied: number[] = [];
  for (const m of await listMigrations(dir)) {
    const text = await readFile(m.file, 'utf8');
    const did = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
      const [done] = await tx`select 1 from schema_migrations where version = ${m.version}`;
      if (done) return false;
      await tx.unsafe(text); // our own migration file, never user input
      await tx`insert into schema_migrations (version, name) values (${m.version}, ${m.name})`;
      return true;
    });
    if (did) applied.push(m.version);
  }
  return applied;
}

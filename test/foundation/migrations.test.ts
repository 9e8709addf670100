// Numbered migrations apply in order, once each, even when processes race.
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { listMigrations, migrate } from '../../db/migrate';
import { uniqueName } from '../helpers/env';

const opened: postgres.Sql[] = [];
afterAll(async () => {
  for (const sql of opened) await sql.end({ timeout: 5 });
});

async function freshDatabase(): Promise<string> {
  const base = new URL(inject('pgUrl'));
  const admin = postgres(base.toString(), { max: 1, onnotice: () => {} });
  const name = uniqueName('migr');
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  base.pathname = `/${name}`;
  return base.toString();
}

describe('migrations', () => {
  it('are numbered files applied in order and recorded', async () => {
    const files = await listMigrations();
    expect(files.length).toBeGreaterThan(0);
    expect(files.map((f) => f.version)).toEqual([...files.map((f) => f.version)].sort((a, b) => a - b));
    const sql = postgres(await freshDatabase(), { onnotice: () => {} });
    opened.push(sql);
    const applied = await migrate(sql);
    expect(applied).toEqual(files.map((f) => f.version));
    expect(await migrate(sql)).toEqual([]); // a second start applies nothing
  });

  it('apply each migration exactly once when two processes start at the same moment', async () => {
    const url = await freshDatabase();
    const a = postgres(url, { onnotice: () => {} });
    const b = postgres(url, { onnotice: () => {} });
    opened.push(a, b);
    const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
    const all = [...ra, ...rb].sort((x, y) => x - y);
    const files = (await listMigrations()).map((f) => f.version);
    expect(all).toEqual(files);
    const rows = await a`select version from schema_migrations order by version`;
    expect(rows.map((r) => r.version)).toEqual(files);
  });
});

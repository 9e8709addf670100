// Numbered migrations apply in order, once each, even when processes race.
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
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

/** The database as the releases before workspaces left it: every kind of record, and an audit chain. */
async function fillAsBefore(sql: postgres.Sql) {
  const [admin] = await sql`insert into users (username, role) values ('ada', 'ADMIN') returning id`;
  const [viewer] = await sql`insert into users (username, role, disabled) values ('bo', 'VIEWER', true) returning id`;
  await sql`insert into users (username, role) values ('cy', 'OPERATOR')`;
  await sql`insert into api_tokens (user_id, name, token_hash, prefix) values (${admin!.id}, 'ci', 'hash-1', 'mc_1')`;
  await sql`insert into sessions (id_hash, user_id, csrf_token, expires_at) values ('s-1', ${viewer!.id}, 'c', now() + interval '1 day')`;
  const [container] = await sql`insert into containers (name, category, is_default) values ('Outreach', 'messaging', true) returning id`;
  await sql.begin(async (tx) => {
    const [p] = await tx`insert into patterns (container_id, name) values (${container!.id}, 'draft') returning id`;
    const [v] = await tx`
      insert into pattern_versions (pattern_id, version, code, config, created_by)
      values (${p!.id}, 1, 'async () => ({})', ${tx.json({ timeout: 1000 })}, 'ada') returning id`;
    await tx`update patterns set current_version_id = ${v!.id} where id = ${p!.id}`;
    const [m] = await tx`
      insert into missions (name, type, container_id, config, schedule, created_by)
      values ('Daily', 'scheduled', ${container!.id}, ${tx.json({})}, ${tx.json({ cron: '0 9 * * *', timezone: 'UTC', paused: true })}, 'ada')
      returning id`;
    await tx`insert into mission_tasks (mission_id, name, task_order, selection, pattern_id) values (${m!.id}, 'one', 0, 'fixed', ${p!.id})`;
    await tx`insert into mission_sync (mission_id) values (${m!.id})`;
    await tx`insert into alerts (idempotency_key, mission_id, kind, message) values ('a-1', ${m!.id}, 'mission_failed', 'it failed')`;
    await tx`insert into events (type, entity_type, entity_id, mission_id, actor) values ('mission.created', 'mission', ${m!.id}, ${m!.id}, 'ada')`;
  });
  for (let i = 0; i < 20; i++) {
    await sql`insert into audit_log (actor, actor_id, action, entity_type, entity_id, details) values ('ada', ${admin!.id}, 'test.before', 'thing', ${String(i)}, ${sql.json({ i })})`;
  }
  await sql`insert into settings (key, value) values ('safety.dry_run_mode', 'false'::jsonb), ('safety.channels', ${sql.json({ email: true })}), ('session_secret', '"s"'::jsonb)`;
}

const TABLES = ['users', 'api_tokens', 'sessions', 'containers', 'patterns', 'pattern_versions', 'missions', 'mission_tasks', 'mission_sync', 'alerts', 'events', 'audit_log', 'settings'];
// Columns later migrations add: 0008's workspaces, 0009's agents (missions.agent_id, mission_tasks.agent), and 0016's
// alerts (severity, title, actions, source, rule, resolution): new, not changed data.
const ADDED = ['workspace_id', 'ws_seq', 'ws_prev_hash', 'hash_version', 'schedule_version', 'agent_id', 'agent',
  'severity', 'title', 'actions', 'source', 'rule_id', 'resolved_at', 'resolved_by'];

async function snapshot(sql: postgres.Sql): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of TABLES) {
    const rows = await sql.unsafe(`select to_jsonb(x) as row from ${t} x`);
    out[t] = rows
      .map((r) => Object.fromEntries(Object.entries(r.row as Record<string, unknown>).filter(([k]) => !ADDED.includes(k))))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  }
  return out;
}

describe('the workspaces migration (0008)', () => {
  it('moves a database that holds data from before into the default workspace, losing nothing, the audit chain verifying', async () => {
    const sql = postgres(await freshDatabase(), { onnotice: () => {} });
    opened.push(sql);
    const before = path.join(inject('tmpDir'), uniqueName('before'));
    await mkdir(before, { recursive: true });
    for (const m of (await listMigrations()).filter((m) => m.version < 8)) await copyFile(m.file, path.join(before, path.basename(m.file)));
    await migrate(sql, before);
    await fillAsBefore(sql);
    const was = await snapshot(sql);
    const [verifiedBefore] = await sql`select * from audit_verify()`;
    expect(verifiedBefore).toMatchObject({ ok: true, checked: '20' });

    expect(await migrate(sql)).toEqual((await listMigrations()).filter((m) => m.version >= 8).map((m) => m.version));
    const safetyKeys = (rows: unknown[]) => rows.filter((r) => !String((r as { key: string }).key).startsWith('safety.'));
    const now = await snapshot(sql);
    // 0013 marks when scheduler records begin (scheduler.records_since), and 0015 where the notifier starts
    // and the playbooks' (after the events already there): rows of their own, not ones from before.
    const own = (rows: unknown[]) => rows.filter((r) => !['scheduler.records_since', 'notifier.cursor', 'playbooks.cursor'].includes((r as { key: string }).key));
    expect({ ...now, settings: own(now.settings!) }).toEqual({ ...was, settings: safetyKeys(was.settings!) });
    const [cursor] = await sql`select value from settings where key = 'notifier.cursor'`;
    const [latest] = await sql`select max(id)::int as id from events`;
    expect(cursor!.value).toEqual({ after: latest!.id }); // the history before notifications notifies no one

    const [ws, ...others] = await sql`select id, name, is_default, owner_user_id from workspaces`;
    expect(others).toEqual([]);
    expect(ws).toMatchObject({ name: 'Default', is_default: true });
    expect(ws!.owner_user_id).toBe((await sql`select id from users where username = 'ada'`)[0]!.id);
    for (const t of ['containers', 'patterns', 'missions', 'alerts', 'events', 'audit_log', 'api_tokens', 'sessions']) {
      const [c] = await sql.unsafe(`select count(*)::int as n, count(*) filter (where workspace_id = '${ws!.id}')::int as mine from ${t}`);
      expect(c!.mine, t).toBe(c!.n);
    }
    expect(await sql`select u.username, m.role from memberships m join users u on u.id = m.user_id order by u.username`).toEqual([
      { username: 'ada', role: 'ADMIN' }, { username: 'bo', role: 'VIEWER' }, { username: 'cy', role: 'OPERATOR' },
    ]);
    expect(await sql`select key, value from workspace_settings where workspace_id = ${ws!.id} order by key`).toEqual([
      { key: 'safety.channels', value: { email: true } }, { key: 'safety.dry_run_mode', value: false },
    ]);
    // The schedule is rewritten once, so that what it starts carries the workspace.
    expect((await sql`select schedule_version from mission_sync`)[0]!.schedule_version).toBe(1);

    // The chain goes on, whole and per workspace: a new entry links to the last one from before.
    await sql`insert into audit_log (actor, action, entity_type) values ('ada', 'test.after', 'thing')`;
    const [last] = await sql`select id, ws_seq, ws_prev_hash, hash_version from audit_log order by id desc limit 1`;
    const [twentieth] = await sql`select hash from audit_log where id = 20`;
    expect(last).toMatchObject({ id: '21', ws_seq: '21', hash_version: 2, ws_prev_hash: twentieth!.hash });
    expect((await sql`select * from audit_verify()`)[0]).toMatchObject({ ok: true, checked: '21' });
    expect((await sql`select * from audit_verify_workspace(${ws!.id})`)[0]).toMatchObject({ ok: true, checked: '21' });

    // A second workspace: its own names, its own audit chain, and no borrowing another's container.
    const [b] = await sql`insert into workspaces (name) values ('Team B') returning id`;
    await sql`insert into containers (workspace_id, name, category, is_default) values (${b!.id}, 'Outreach', 'messaging', true)`;
    await sql`insert into audit_log (workspace_id, actor, action, entity_type) values (${b!.id}, 'ada', 'test.b', 'thing')`;
    expect((await sql`select ws_seq, ws_prev_hash from audit_log where workspace_id = ${b!.id}`)[0]).toEqual({ ws_seq: '1', ws_prev_hash: '' });
    expect((await sql`select * from audit_verify_workspace(${b!.id})`)[0]).toMatchObject({ ok: true, checked: '1' });
    expect((await sql`select * from audit_verify()`)[0]).toMatchObject({ ok: true, checked: '22' });
    const theirs = (await sql`select id from containers where workspace_id = ${ws!.id}`)[0]!.id;
    await expect(sql`insert into patterns (workspace_id, container_id, name) values (${b!.id}, ${theirs}, 'x')`).rejects.toMatchObject({ code: '23503' });
  });
});

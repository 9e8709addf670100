// The audit log is append-only by PostgreSQL's own enforcement, and its hash
// chain names the first row anyone tampered with. Each workspace has its own
// chain inside the whole one, and verifies it without anyone else's entries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../core/access/tokens';
import { appendAudit, listAudit, verifyAuditChain, verifyWorkspaceAudit, type AuditEntry } from '../../core/audit/audit-log';
import { listEvents } from '../../core/events/events';
import { apiClient, createTestApp, json, userWithRole, type TestApp } from '../helpers/app';
import { ADMIN_TOKEN, type TestDatabase } from '../helpers/env';

let t: TestApp;
let db: TestDatabase;
beforeAll(async () => {
  t = await createTestApp();
  db = t.db;
  for (let i = 0; i < 5; i++) {
    await appendAudit(db.sql, { actor: { id: null, name: 'tester' }, action: 'test.event', entityType: 'test', entityId: String(i), details: { i } });
  }
});
afterAll(async () => t?.close());

describe('the application role', () => {
  it.each([
    ['UPDATE', `update audit_log set actor = 'mallory'`],
    ['DELETE', 'delete from audit_log'],
    ['TRUNCATE', 'truncate audit_log'],
  ])('cannot %s the audit log', async (_op, statement) => {
    await expect(db.sql.unsafe(statement)).rejects.toMatchObject({ code: '42501' }); // insufficient_privilege
    const [{ n }] = (await db.sql`select count(*)::int as n from audit_log`) as [{ n: number }];
    expect(n).toBeGreaterThanOrEqual(5);
  });

  it('cannot turn the protection off', async () => {
    await expect(db.sql.unsafe('alter table audit_log disable trigger audit_log_no_update')).rejects.toMatchObject({ code: '42501' });
    await expect(db.sql.unsafe('reset role')).resolves.toBeDefined(); // but still not the owner:
    const [{ role }] = (await db.sql`select current_user as role`) as [{ role: string }];
    expect(role).toBe('mission_control_app');
  });

  it('can append, and each append extends the chain', async () => {
    const before = await verifyAuditChain(db.sql);
    await appendAudit(db.sql, { actor: { id: null, name: 'tester' }, action: 'test.more', entityType: 'test' });
    const after = await verifyAuditChain(db.sql);
    expect(after).toMatchObject({ ok: true, checked: before.checked + 1 });
  });
});

describe('the owner too', () => {
  it('is stopped by the triggers from updating or deleting', async () => {
    await expect(db.owner.unsafe(`update audit_log set actor = 'mallory' where id = 1`)).rejects.toThrow(/append-only/);
    await expect(db.owner.unsafe('delete from audit_log where id = 1')).rejects.toThrow(/append-only/);
    await expect(db.owner.unsafe('truncate audit_log')).rejects.toThrow(/append-only/);
  });
});

describe('each workspace', () => {
  const tester = { id: null, name: 'tester' };
  let b: string;
  let tokenB: string;
  const entry = (action: string, i: number, workspaceId?: string): AuditEntry => ({
    actor: tester, action, entityType: 'test', entityId: `${action}-${i}`, details: { i }, ...(workspaceId ? { workspaceId } : {}),
  });
  const countIn = async (ws: string) => (await db.owner<{ n: number }[]>`select count(*)::int as n from audit_log where workspace_id = ${ws}`)[0]!.n;
  const tamper = (id: string, details: unknown) =>
    db.owner.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update audit_log set details = ${tx.json(details as never)} where id = ${id}`;
    });

  beforeAll(async () => {
    // A second workspace, made directly (no route makes one yet), with the admin as a member there.
    b = (await db.owner<{ id: string }[]>`insert into workspaces (name) values ('Team B') returning id`)[0]!.id;
    const member = await userWithRole(t, 'VIEWER');
    await db.owner`insert into memberships (workspace_id, user_id, role) values (${b}, ${member.id}, 'VIEWER')`;
    tokenB = (await createApiToken(db.sql, { userId: member.id, name: 'in B' }, tester, { id: b })).token;
    for (let i = 0; i < 4; i++) await appendAudit(db.sql, entry('test.in_b', i, b));
  });

  it('names its workspace on every entry, and on the event the entry writes', async () => {
    await appendAudit(db.sql, entry('test.named', 0));
    await appendAudit(db.sql, entry('test.named', 1, b));
    expect((await listAudit(db.sql, { action: 'test.named', limit: 10 })).map((e) => [e.entityId, e.workspaceId])).toEqual([['test.named-0', t.ws]]);
    expect((await listAudit(db.sql, { action: 'test.named', limit: 10 }, { id: b })).map((e) => [e.entityId, e.workspaceId])).toEqual([['test.named-1', b]]);
    const events = await listEvents(db.sql, { type: 'test.named' }, 10);
    expect(events.map((e) => [e.entityId, e.workspaceId])).toEqual([['test.named-0', t.ws], ['test.named-1', b]]);
    expect((await listEvents(db.sql, { type: 'test.named', workspaceId: b }, 10)).map((e) => e.entityId)).toEqual(['test.named-1']);
  });

  it('keeps a chain of its own, which verifies without anyone else’s entries', async () => {
    const rows = await db.owner<{ seq: string; link: string; hash: string }[]>`
      select ws_seq::text as seq, ws_prev_hash as link, hash from audit_log where workspace_id = ${b} order by id`;
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
    expect(rows.map((r) => r.link)).toEqual(['', ...rows.slice(0, -1).map((r) => r.hash)]);
    expect(await verifyWorkspaceAudit(db.sql, { id: b })).toEqual({ ok: true, checked: await countIn(b), brokenId: null, reason: null, workspaceId: b });
    expect(await verifyWorkspaceAudit(db.sql, { id: t.ws })).toMatchObject({ ok: true, checked: await countIn(t.ws) });
    const [{ n }] = (await db.owner`select count(*)::int as n from audit_log`) as [{ n: number }];
    expect(await verifyAuditChain(db.sql)).toMatchObject({ ok: true, checked: n });
  });

  it('stays valid, in both workspaces and as a whole, under concurrent appends to both', async () => {
    await Promise.all(Array.from({ length: 30 }, (_, i) => db.sql.begin((tx) => appendAudit(tx, entry('test.both', i, i % 2 ? b : undefined)))));
    expect(await verifyWorkspaceAudit(db.sql, { id: b })).toMatchObject({ ok: true, checked: await countIn(b) });
    expect(await verifyWorkspaceAudit(db.sql, { id: t.ws })).toMatchObject({ ok: true, checked: await countIn(t.ws) });
    expect(await verifyAuditChain(db.sql)).toMatchObject({ ok: true });
  });

  it('is what the API lists and verifies for the caller: tampering in B breaks B and the whole chain, never A', async () => {
    const a = apiClient(t, ADMIN_TOKEN);
    const inB = apiClient(t, tokenB);
    const verify = async (client: typeof a) => json(await client.request('GET', '/api/audit/verify'));
    expect(await verify(a)).toEqual({ ok: true, checked: await countIn(t.ws), brokenId: null, reason: null, workspace: { id: t.ws, name: 'Default' } });
    expect(await verify(inB)).toEqual({ ok: true, checked: await countIn(b), brokenId: null, reason: null, workspace: { id: b, name: 'Team B' } });

    const listed = async (client: typeof a) => (await json(await client.request('GET', '/api/audit?limit=200'))).entries as { entityId: string; workspaceId: string }[];
    const seenByB = await listed(inB);
    expect(new Set(seenByB.map((e) => e.workspaceId))).toEqual(new Set([b]));
    expect(seenByB.map((e) => e.entityId)).toEqual(expect.arrayContaining(['test.in_b-0', 'test.named-1']));
    expect((await listed(a)).filter((e) => e.workspaceId !== t.ws)).toEqual([]);

    const [row] = await db.owner<{ id: string; details: unknown }[]>`
      select id::text as id, details from audit_log where workspace_id = ${b} and action = 'test.in_b' order by id limit 1 offset 1`;
    await tamper(row!.id, { forged: true });
    try {
      const broken = { ok: false, brokenId: row!.id, reason: 'content does not match its hash' };
      const [{ before }] = (await db.owner`select count(*)::int as before from audit_log where workspace_id = ${b} and id < ${row!.id}`) as [{ before: number }];
      expect(await verify(inB)).toMatchObject({ ...broken, checked: before, workspace: { id: b } });
      expect(await verify(a)).toMatchObject({ ok: true, brokenId: null, workspace: { id: t.ws } });
      expect(await verifyWorkspaceAudit(db.sql, { id: t.ws })).toMatchObject({ ok: true });
      expect(await verifyAuditChain(db.sql)).toMatchObject(broken);
    } finally {
      await tamper(row!.id, row!.details);
    }
    expect(await verify(inB)).toMatchObject({ ok: true });
  });
});

describe('the hash chain', () => {
  it('stays valid under concurrent appends', async () => {
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        db.sql.begin((tx) => appendAudit(tx, { actor: { id: null, name: `w${i % 3}` }, action: 'test.concurrent', entityType: 'test', details: { i } })),
      ),
    );
    expect(await verifyAuditChain(db.sql)).toMatchObject({ ok: true, brokenId: null });
  });

  it('names the first row whose content was changed behind the triggers', async () => {
    const [row] = await db.owner`select id::text as id, details from audit_log where action = 'test.event' and entity_id = '2'`;
    // A superuser can bypass triggers; the chain still tells.
    await db.owner.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update audit_log set details = '{"i": 99}' where id = ${row!.id}`;
    });
    expect(await verifyAuditChain(db.sql)).toMatchObject({ ok: false, brokenId: row!.id, reason: 'content does not match its hash' });

    await db.owner.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update audit_log set details = ${tx.json(row!.details)} where id = ${row!.id}`;
    });
    expect(await verifyAuditChain(db.sql)).toMatchObject({ ok: true });
  });

  it('names the row after a deleted one', async () => {
    const [row] = await db.owner`select id from audit_log where action = 'test.event' and entity_id = '3'`;
    await db.owner.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`delete from audit_log where id = ${row!.id}`;
    });
    const result = await verifyAuditChain(db.sql);
    expect(result).toMatchObject({ ok: false, brokenId: String(Number(row!.id) + 1) });
  });
});

// The audit log is append-only by PostgreSQL's own enforcement, and its hash
// chain names the first row anyone tampered with.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, verifyAuditChain } from '../../core/audit/audit-log';
import { createTestDatabase, testConfig, type TestDatabase } from '../helpers/env';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(testConfig());
  for (let i = 0; i < 5; i++) {
    await appendAudit(db.sql, { actor: { id: null, name: 'tester' }, action: 'test.event', entityType: 'test', entityId: String(i), details: { i } });
  }
});
afterAll(async () => db?.close());

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

// The Temporal SDK's external storage, backed by PostgreSQL: any payload over
// the threshold (a large run input, an edited output, a big failure detail)
// is written to `temporal_payloads` and only a claim travels in history, so
// nothing a user sends can exceed Temporal's size limits. Content-addressed:
// a payload stored again (a retried activity) keeps its one row.
import { createHash } from 'node:crypto';
import { ExternalStorage, StorageDriverClaim, type Payload, type StorageDriver } from '@temporalio/common';
import type { Sql } from '../db/sql';

/** Payloads above this many bytes go to PostgreSQL (Temporal refuses 2 MiB, and warns from 512 KiB). */
export const PAYLOAD_STORAGE_THRESHOLD = 128 * 1024;

export function postgresPayloadDriver(sql: Sql): StorageDriver {
  return {
    name: 'postgres',
    type: 'mission-control.postgres',
    async store(_context, payloads) {
      const rows = payloads.map((p) => {
        const metadata = Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]));
        const data = Buffer.from(p.data ?? new Uint8Array());
        const id = createHash('sha256').update(JSON.stringify(metadata)).update(data).digest('hex');
        return { id, metadata, data };
      });
      for (const r of rows) {
        await sql`insert into temporal_payloads (id, metadata, data) values (${r.id}, ${sql.json(r.metadata)}, ${r.data}) on conflict (id) do nothing`;
      }
      return rows.map((r) => new StorageDriverClaim({ id: r.id }));
    },
    async retrieve(_context, claims) {
      const ids = claims.map((c) => c.claimData.id ?? '');
      const rows = await sql<{ id: string; metadata: Record<string, string>; data: Buffer }[]>`
        select id, metadata, data from temporal_payloads where id in ${sql(ids)}`;
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id): Payload => {
        const row = byId.get(id);
        if (!row) throw new Error(`A stored Temporal payload is missing from the database (${id}).`);
        return {
          metadata: Object.fromEntries(Object.entries(row.metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))])),
          data: new Uint8Array(row.data),
        };
      });
    },
  };
}

/** The data converter option that the worker and every client share. */
export function payloadStorage(sql: Sql): { externalStorage: ExternalStorage } {
  return { externalStorage: new ExternalStorage({ drivers: [postgresPayloadDriver(sql)], payloadSizeThreshold: PAYLOAD_STORAGE_THRESHOLD }) };
}

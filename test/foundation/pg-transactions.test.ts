// postgres.js 3.4.9 can send a transaction's BEGIN without reserving its
// connection when BEGIN is the query that fills the connection's pipeline
// (porsager/postgres#823, #1189): the transaction fails with UNSAFE_TRANSACTION,
// or, worse, the connection goes back to the pool inside it. The product ships
// the upstream fix as a patch (patches/, applied by patch-package at install);
// here a pipeline of one makes that boundary certain.
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';

// max_pipeline is an option of the driver its types leave out.
const sql = postgres(inject('pgUrl'), { max: 1, max_pipeline: 1, onnotice: () => {} } as postgres.Options<{}>);
afterAll(() => sql.end({ timeout: 5 }));

describe('transactions on a busy connection', () => {
  it('reserve their connection even when BEGIN fills its pipeline, and nothing else runs inside them', async () => {
    await sql`select 1`; // connected
    const busy = sql`select pg_sleep(0.2)`.execute(); // holds the one connection, sent now
    const inside = sql.begin(async (tx) => {
      const [row] = await tx<{ xid: string }[]>`select txid_current()::text as xid`;
      await new Promise((r) => setTimeout(r, 100));
      const [again] = await tx<{ xid: string }[]>`select txid_current()::text as xid`;
      return [row!.xid, again!.xid];
    });
    const outside = (async () => {
      await new Promise((r) => setTimeout(r, 50));
      const [row] = await sql<{ inTx: boolean }[]>`select txid_current_if_assigned() is not null as "inTx"`;
      return row!.inTx;
    })();
    const [, [first, second], otherInTx] = await Promise.all([busy, inside, outside]);
    expect(second).toBe(first);
    expect(otherInTx).toBe(false);
  });
});

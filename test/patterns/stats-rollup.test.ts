// Pattern statistics without a hot row (db/migrations/0005_pattern_stats.sql):
// runs append tallies, a rollup folds them in; reads are exact before, during
// and after the rollup, and every run counts once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../core/audit/audit-log';
import { createContainer } from '../../core/patterns/containers';
import { recordRun, rollUpPatternStats, type RunRecord } from '../../core/patterns/pattern-runs';
import { createPattern, getPattern, listVersions, updatePattern } from '../../core/patterns/patterns';
import { containerInput, patternInput } from '../../core/patterns/schemas';
import { loadCandidates } from '../../core/patterns/selection';
import { statsSummary } from '../../core/patterns/stats';
import { createTestDatabase, testConfig, type TestDatabase } from '../helpers/env';

let db: TestDatabase;
let containerId: string;
const ok = async () => ({ ok: true as const });

beforeAll(async () => {
  db = await createTestDatabase(testConfig());
  containerId = (await createContainer(db.sql, containerInput.parse({ name: 'Tallies', category: 'custom' }), SYSTEM_ACTOR)).id;
});
afterAll(async () => db?.close());

async function newPattern(name: string) {
  return createPattern(db.sql, patternInput.parse({ containerId, name, code: 'async () => 1', config: { timeout: 1000, retryCount: 0, failureAction: 'skip' } }), SYSTEM_ACTOR, ok);
}

const run = (p: { id: string; versionId: string; name: string; version: number }, key: string, succeeded: boolean, durationMs = 10): RunRecord => ({
  executionKey: key, patternId: p.id, versionId: p.versionId, patternName: p.name, version: p.version, source: 'inject',
  status: succeeded ? 'succeeded' : 'failed', logs: [], outbound: [], durationMs, actor: 'test',
});

const tallies = async () => ((await db.owner`select count(*)::int as n from pattern_run_tallies`) as unknown as [{ n: number }])[0].n;

describe('pattern statistics', () => {
  it('count every run once, the moment it is recorded, before and after the rollup', async () => {
    const p = await newPattern('counted');
    // 40 runs at once, each recorded twice (a retried activity): 30 succeed, 10 fail.
    const records = Array.from({ length: 40 }, (_, i) => run(p, `k-${p.id}-${i}`, i % 4 !== 0, 5));
    const firsts = await Promise.all([...records, ...records].map((r) => recordRun(db.sql, r)));
    expect(firsts.filter(Boolean)).toHaveLength(40);
    const expected = { totalExecutions: 40, successCount: 30, failureCount: 10, avgExecutionTime: 5 };
    expect((await getPattern(db.sql, p.id)).stats).toMatchObject(expected);

    // Two rollups at once (two processes) still move each tally once.
    await Promise.all([rollUpPatternStats(db.sql), rollUpPatternStats(db.sql)]);
    expect(await tallies()).toBe(0);
    const after = await getPattern(db.sql, p.id);
    expect(after.stats).toMatchObject(expected);
    expect(after.stats.lastExecuted).toBeInstanceOf(Date);

    // Half rolled up, half not: reads add both.
    await Promise.all(Array.from({ length: 4 }, (_, i) => recordRun(db.sql, run(p, `late-${p.id}-${i}`, true, 25))));
    const summary = await statsSummary(db.sql, { patternId: p.id, versions: true });
    expect(summary.patterns[0]).toMatchObject({ totalExecutions: 44, successCount: 34, failureCount: 10, avgExecutionTime: 6.82 });
    expect(summary.patterns[0]!.versions).toEqual([expect.objectContaining({ version: 1, totalExecutions: 44, successCount: 34, failureCount: 10 })]);
    expect((await loadCandidates(db.sql, containerId)).find((c) => c.id === p.id)).toMatchObject({ successCount: 34, failureCount: 10 });
  });

  it('are kept per version, and start at zero for a new one', async () => {
    const p = await newPattern('versioned');
    await recordRun(db.sql, run(p, `v1-${p.id}`, false));
    await rollUpPatternStats(db.sql);
    const v2 = await updatePattern(db.sql, p.id, { code: 'async () => 2' }, SYSTEM_ACTOR, ok);
    await recordRun(db.sql, run(v2, `v2-${p.id}`, true));
    const versions = await listVersions(db.sql, p.id);
    expect(versions.map((v) => [v.version, v.stats.totalExecutions, v.stats.successCount, v.stats.failureCount])).toEqual([[2, 1, 1, 0], [1, 1, 0, 1]]);
    expect((await getPattern(db.sql, p.id)).stats).toMatchObject({ totalExecutions: 2, successCount: 1, failureCount: 1 });
  });

  it('count a run recorded inside a transaction once it commits, and none that rolled back', async () => {
    const p = await newPattern('transactional');
    await db.sql.begin((tx) => recordRun(tx, run(p, `tx-${p.id}`, true)));
    await db.sql
      .begin(async (tx) => {
        await recordRun(tx, run(p, `rolled-back-${p.id}`, true));
        throw new Error('abandon');
      })
      .catch(() => {});
    expect((await getPattern(db.sql, p.id)).stats.totalExecutions).toBe(1);
    await rollUpPatternStats(db.sql);
    expect((await getPattern(db.sql, p.id)).stats.totalExecutions).toBe(1);
  });
});

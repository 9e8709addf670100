// The board's columns and counts come from Temporal's visibility; viewers with
// the same filters share one load, so open boards do not multiply the calls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBoardLoader, type Board } from '../../core/board/board';
import { elapsedMs, elapsedText } from '../../core/board/progress';
import { eventually, execute, makeMission, makePattern, missionEnv, result, waitFor, type MissionEnv } from '../helpers/missions';
import { json } from '../helpers/app';

let env: MissionEnv;
let missionId: string;
let completed: string;
let waiting: string;

beforeAll(async () => {
  env = await missionEnv();
  const ok = await makePattern(env.admin, env.containerId, 'async () => ({ ok: true })');
  const bad = await makePattern(env.admin, env.containerId, 'async () => { throw new Error("no") }', { failureAction: 'abort' });
  missionId = await makeMission(env.operator, { containerId: env.containerId, tasks: [{ name: 'gate', order: 0, patternId: ok, requiresApproval: true }] });
  const plain = await makeMission(env.operator, { containerId: env.containerId, tasks: [{ name: 'one', order: 0, patternId: ok }] });
  const failing = await makeMission(env.operator, { containerId: env.containerId, tasks: [{ name: 'one', order: 0, patternId: bad }] });
  completed = await execute(env.operator, plain);
  await result(env.t, completed);
  await result(env.t, await execute(env.operator, failing)).catch(() => {});
  waiting = await execute(env.operator, missionId);
  await waitFor(env.t, waiting, (p) => p.status === 'NeedsApproval');
});
afterAll(async () => env?.close());

describe('the board', () => {
  it('puts each run in its status column with counts, and filters by container', async () => {
    const load = createBoardLoader(env.t.db.sql, env.t.deps.temporal);
    let board = await load({ containerId: env.containerId });
    for (let i = 0; i < 30 && board.columns.find((c) => c.status === 'Failed')!.count === 0; i++) {
      await new Promise((r) => setTimeout(r, 200)); // visibility is eventually consistent
      board = await createBoardLoader(env.t.db.sql, env.t.deps.temporal)({ containerId: env.containerId });
    }
    const col = (s: string) => board.columns.find((c) => c.status === s)!;
    expect(col('NeedsApproval')).toMatchObject({ count: 1, runs: [expect.objectContaining({ workflowId: waiting })] });
    expect(col('Completed')).toMatchObject({ count: 1, runs: [expect.objectContaining({ workflowId: completed })] });
    expect(col('Failed').count).toBe(1);
    expect(col('Running').count + col('Paused').count + col('Cancelled').count).toBe(0);
    const other = await load({ containerId: '00000000-0000-4000-8000-000000000000' });
    expect(other.columns.every((c) => c.count === 0 && c.runs.length === 0)).toBe(true);
  });

  it('shares one load between viewers with the same filters (counts and lists together), until an event drops it', async () => {
    const workflow = env.t.deps.temporal.client.workflow;
    const calls = { list: 0, count: 0 };
    const list = workflow.list.bind(workflow);
    const count = workflow.count.bind(workflow);
    workflow.list = (...args) => (calls.list++, list(...args));
    workflow.count = (...args) => (calls.count++, count(...args));
    try {
      const load = createBoardLoader(env.t.db.sql, env.t.deps.temporal, { ttlMs: 60_000 });
      const boards = await Promise.all(Array.from({ length: 8 }, () => load({ containerId: env.containerId })));
      expect(new Set(boards).size).toBe(1);
      expect(calls).toEqual({ list: 6, count: 4 }); // six columns, three open counts and one grouped closed count; cards' progress comes from PostgreSQL
      await load({ containerId: env.containerId });
      expect(calls).toEqual({ list: 6, count: 4 }); // still the same load
      load.invalidate();
      await load({ containerId: env.containerId });
      expect(calls).toEqual({ list: 12, count: 8 }); // one new load: lists and counts of the same moment
    } finally {
      workflow.list = list;
      workflow.count = count;
    }
  });

  it('gives every card its progress, current task and attempt from the events table', async () => {
    const col = (b: Board, s: string) => b.columns.find((c) => c.status === s)!;
    const board = await eventually(
      () => createBoardLoader(env.t.db.sql, env.t.deps.temporal)({ containerId: env.containerId }),
      (b) => ['NeedsApproval', 'Completed', 'Failed'].every((s) => col(b, s).runs.length === 1),
    );
    expect(col(board, 'NeedsApproval').runs[0]!.progress).toEqual({
      done: 0, total: 1, percent: 0, alsoBusy: 0, failedTask: null,
      current: { taskId: expect.any(String), name: 'gate', attempt: 1, state: 'approval', since: expect.any(Date) },
    });
    expect(col(board, 'Completed').runs[0]!.progress).toEqual({ done: 1, total: 1, percent: 100, current: null, alsoBusy: 0, failedTask: null });
    expect(col(board, 'Failed').runs[0]!.progress).toEqual({ done: 1, total: 1, percent: 100, current: null, alsoBusy: 0, failedTask: 'one' });
    // Not empty: no getting-started list on this board.
    expect(board.start).toBeNull();
  });

  it('says how long a run has taken in words a card has room for', () => {
    expect([0, 42_900, 65_000, 3_600_000 + 5 * 60_000, 3 * 86_400_000 + 4 * 3_600_000].map(elapsedText)).toEqual(['0 s', '42 s', '1 min 5 s', '1 h 5 min', '3 d 4 h']);
    const startTime = new Date(1_000_000);
    expect(elapsedMs({ startTime, closeTime: null }, 1_061_000)).toBe(61_000);
    expect(elapsedMs({ startTime, closeTime: new Date(1_012_000) }, 9_999_999)).toBe(12_000);
  });

  it('answers an unchanged htmx poll with 204 and no body', async () => {
    const page = await env.t.app.request('/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://localhost' },
      body: new URLSearchParams({ username: 'admin', password: 'admin-password-for-tests' }),
    });
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const html = await (await env.t.app.request('/', { headers: { Cookie: cookie } })).text();
    const poll = /id="board"[^>]*data-live="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
    const res = await env.t.app.request(poll, { headers: { Cookie: cookie, 'HX-Request': 'true' } });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect((await json(await env.viewer.request('GET', '/api/runs?status=NeedsApproval'))).runs.length).toBeGreaterThan(0);
  });
});

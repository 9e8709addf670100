// Large outputs: a mission of 50 tasks that each return 200 KiB completes
// (outputs are stored once in PostgreSQL and travel by reference), its
// progress stays small, and every later task still sees the earlier outputs
// whole in ctx.previous. A failing task's run says Failed, with its cause.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, type ApiClient, type TestApp } from '../helpers/app';
import { type MissionEnv, execute, makeMission, makePattern, missionEnv, progress, result } from '../helpers/missions';

let t: TestApp;
let env: MissionEnv;
let admin: ApiClient;
let containerId: string;

beforeAll(async () => {
  env = await missionEnv();
  ({ t, admin, containerId } = env);
});
afterAll(async () => env?.close());

const TASKS = 50;
const BLOB = 200 * 1024;
/** Returns 200 KiB, and what it found in ctx.previous: how many earlier outputs, and whether each was whole. */
const big = `async (input, ctx) => {
  const earlier = Object.entries(ctx.previous);
  const digit = (name) => String(Number(name.slice(1)) % 10);
  const whole = earlier.every(([name, o]) => o && o.task === name && typeof o.blob === 'string' && o.blob.length === ${BLOB}
    && o.blob[0] === digit(name) && o.blob[${BLOB - 1}] === digit(name));
  const bytes = earlier.reduce((n, [, o]) => n + (o && typeof o.blob === 'string' ? o.blob.length : 0), 0);
  return { task: ctx.task.name, seen: { count: earlier.length, whole, bytes }, blob: String(input.n % 10).repeat(${BLOB}) };
}`;

describe('a mission whose tasks return large outputs', () => {
  it('completes 50 tasks of 200 KiB each, with small progress, and later tasks see earlier outputs whole', async () => {
    const patternId = await makePattern(admin, containerId, big, { timeout: 30_000 });
    const m = await makeMission(admin, {
      containerId,
      tasks: Array.from({ length: TASKS }, (_, i) => ({ name: `t${i}`, order: i, patternId, input: { n: i } })),
    });
    const workflowId = await execute(admin, m);
    const final = await result(t, workflowId);
    expect(final.status).toBe('Completed');
    expect(final.tasks.filter((x) => x.status !== 'completed')).toEqual([]);

    // The run keeps references and bounded previews, never the outputs.
    const progressBytes = Buffer.byteLength(JSON.stringify(await progress(t, workflowId)));
    const resultBytes = Buffer.byteLength(JSON.stringify(final));
    console.log(`payloads: ${TASKS} tasks x ${BLOB / 1024} KiB: progress ${progressBytes} bytes, result ${resultBytes} bytes`);
    // Soft: the checks below still run (and say whether later tasks got the outputs whole) when these fail.
    expect.soft(progressBytes, 'progress query JSON bytes').toBeLessThan(64 * 1024);
    expect.soft(resultBytes, 'workflow result JSON bytes').toBeLessThan(64 * 1024);
    for (const task of final.tasks) expect(task.outputRef?.bytes).toBeGreaterThan(BLOB);

    // The last task got all 49 earlier outputs whole; its own output is there whole too.
    const last = final.tasks[TASKS - 1]!;
    const res = await admin.request('GET', `/api/runs/${workflowId}/tasks/${last.id}/output`);
    expect(res.status).toBe(200);
    const { output } = await json(res);
    expect(output.seen).toEqual({ count: TASKS - 1, whole: true, bytes: (TASKS - 1) * BLOB });
    expect(output.blob).toBe('9'.repeat(BLOB));
  }, 240_000);

  it('fails with the failing task\'s own message, and the run says Failed', async () => {
    const ok = await makePattern(admin, containerId, big);
    const bad = await makePattern(admin, containerId, 'async (input, ctx) => { throw new Error(`no room for ${Object.keys(ctx.previous).length} big outputs`) }');
    const m = await makeMission(admin, {
      containerId,
      tasks: [
        { name: 't0', order: 0, patternId: ok, input: { n: 0 } },
        { name: 't1', order: 1, patternId: ok, input: { n: 1 } },
        { name: 'boom', order: 2, patternId: bad },
      ],
    });
    const workflowId = await execute(admin, m);
    await result(t, workflowId).then(
      () => expect.unreachable('the run completed'),
      (err: Error & { cause?: Error }) => expect(err.cause?.message ?? err.message).toContain('no room for 2 big outputs'),
    );
    const { summary, progress: p } = await json(await admin.request('GET', `/api/runs/${workflowId}`));
    expect(summary.status).toBe('Failed');
    expect(p.status).toBe('Failed');
    expect(p.error).toContain('no room for 2 big outputs');
    expect(p.tasks[2]).toMatchObject({ name: 'boom', status: 'failed', error: { message: expect.stringContaining('no room for 2 big outputs') } });
  }, 60_000);
});

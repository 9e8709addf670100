// Durability: the worker is killed hard in the middle of a mission and a new
// one takes over; the mission completes, and no task's effects (outbound
// sends) or statistics are counted twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ADMIN_TOKEN } from '../helpers/env';
import { apiClient, createTestApp, json, type ApiClient, type TestApp } from '../helpers/app';
import { execute, makeContainer, makeMission, makePattern, result, waitFor } from '../helpers/missions';

let t: TestApp;
let admin: ApiClient;
const children: ChildProcess[] = [];

const SCRIPT = fileURLToPath(new URL('../helpers/worker-process.ts', import.meta.url));

async function startWorkerProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    env: {
      ...process.env,
      DATABASE_URL: t.db.url,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: t.config.TEMPORAL_TASK_QUEUE,
      WORKFLOW_BUNDLE: inject('workflowBundlePath'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => String(d).includes('worker ready') && resolve());
    child.once('exit', (code) => reject(new Error(`worker process exited with ${code}: ${err}`)));
  });
  return child;
}

beforeAll(async () => {
  t = await createTestApp();
  admin = apiClient(t, ADMIN_TOKEN);
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await t?.close();
});

describe('a worker killed mid-mission', () => {
  it('is replaced, and the mission completes with every effect and statistic counted once', async () => {
    const containerId = await makeContainer(admin);
    // Each task sends one outbound message (recorded as a dry run) and reports its attempt.
    const send = await makePattern(admin, containerId, `async (input, ctx) => {
      await ctx.outbound.send('email', { to: input.to });
      const end = ctx.now() + input.ms; while (ctx.now() < end) {}
      return { to: input.to, attempt: ctx.attempt };
    }`, { timeout: 30_000, retryCount: 2 });
    const m = await makeMission(admin, {
      containerId,
      config: { retryDelayMs: 200 },
      tasks: [
        { name: 'one', order: 0, patternId: send, input: { to: 'a@example.com', ms: 10 } },
        { name: 'two', order: 1, patternId: send, input: { to: 'b@example.com', ms: 4000 } },
        { name: 'three', order: 2, patternId: send, input: { to: 'c@example.com', ms: 10 } },
      ],
    });

    const first = await startWorkerProcess();
    const workflowId = await execute(admin, m);
    await waitFor(t, workflowId, (p) => p.tasks[1]!.status === 'running');
    // Kill it once task two has sent its message (and is busy for 4 s more).
    for (let i = 0; i < 400; i++) {
      const [sent] = await t.db.sql`select 1 from outbound_messages where execution_key like ${`${workflowId}/%`} and payload->>'to' = 'b@example.com'`;
      if (sent) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));

    await startWorkerProcess();
    const final = await result(t, workflowId);
    expect(final.status).toBe('Completed');
    expect(final.tasks.map((x) => x.status)).toEqual(['completed', 'completed', 'completed']);
    expect(final.tasks[1]!.output).toEqual({ to: 'b@example.com', attempt: 2 }); // the second attempt finished it

    const sends = await t.db.sql<{ n: number; to: string }[]>`
      select count(*)::int as n, payload->>'to' as to from outbound_messages where execution_key like ${`${workflowId}/%`} group by 2 order by 2`;
    expect(sends).toEqual([{ n: 1, to: 'a@example.com' }, { n: 1, to: 'b@example.com' }, { n: 1, to: 'c@example.com' }]);
    const { pattern } = await json(await admin.request('GET', `/api/patterns/${send}`));
    expect(pattern.stats).toMatchObject({ totalExecutions: 3, successCount: 3, failureCount: 0 });
  }, 90_000);
});

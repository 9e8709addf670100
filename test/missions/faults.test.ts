// Faults: live-sending missions under every retry policy keep going while
// worker processes are SIGKILLed, PostgreSQL is stopped for 8 s and the
// Temporal server is stopped and restarted. Counted at the receiving end:
// every send arrives, none is applied twice (the receiver dedupes by
// Idempotency-Key, as a real API does), no mission is lost, and each task's
// statistics and audit entries are recorded once.
//
// This file breaks its servers on purpose, so it runs its OWN PostgreSQL
// (stopped, then started again on the same data) and its OWN file-backed
// Temporal dev server (its state survives the restart) on free ports, never
// the shared ones of test/setup/global.ts. Workers run in their own processes
// (test/helpers/worker-process.ts), so they can be killed hard.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../api/app';
import { createAdapters } from '../../activities/adapters';
import { createSandbox, type SandboxPool } from '../../activities/sandbox';
import type { AppDeps } from '../../api/context';
import { prepareDatabase } from '../../core/system/setup';
import { freePort } from '../../lib/ports';
import { createTemporalClient, type TemporalHandle } from '../../lib/temporal';
import { startEmbeddedPostgres, type EmbeddedDb } from '../../scripts/embedded-postgres';
import { startTemporalDevServer, type DevServer } from '../../scripts/temporal-dev-server';
import type { Progress } from '../../workflows/messages';
import { apiClient, defaultWorkspaceId, json, type ApiClient, type TestApp } from '../helpers/app';
import { ADMIN_TOKEN, testConfig, testLogger, uniqueName } from '../helpers/env';
import { execute, makeContainer, makeMission, makePattern } from '../helpers/missions';
import { startReceiver, type ReceivedRequest, type Receiver } from '../helpers/receiver';

const WORKER_SCRIPT = fileURLToPath(new URL('../helpers/worker-process.ts', import.meta.url));
const POLICIES = ['none', 'linear', 'exponential'] as const;
const TASKS = 5;
const SENDS = 3;
const WORKERS = 2;
const PG_OUTAGE_MS = 8000;
const TEMPORAL_OUTAGE_MS = 3000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let tmp: string;
let pg: EmbeddedDb | undefined;
let pgOpts: Parameters<typeof startEmbeddedPostgres>[0];
let temporal: DevServer | undefined;
let temporalOpts: Parameters<typeof startTemporalDevServer>[0];
let receiver: Receiver;
let t: TestApp;
let admin: ApiClient;
let owner: postgres.Sql;
let handle: TemporalHandle;
let sandbox: SandboxPool;

// ---- worker processes, kept at WORKERS by a supervisor ---------------------------------
// Loading a worker takes seconds (tens on a busy machine), so replacements wait
// loaded, in standby (test/helpers/worker-process.ts), and start polling when needed.

interface WorkerProc {
  child: ChildProcess;
  active: boolean;
  killedByUs: boolean;
  loaded: Promise<void>;
  ready: Promise<void>;
  exited: Promise<void>;
}
const everyWorker = new Set<WorkerProc>();
const fleet = new Set<WorkerProc>();
const standby: WorkerProc[] = [];
const STANDBY = 2;
const figures = { killed: 0, unexpectedExits: [] as string[], workerStarts: 0, failedStarts: 0, loadMs: [] as number[], activateMs: [] as number[] };

function spawnWorker(): WorkerProc {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalOpts.port}`,
      TEMPORAL_TASK_QUEUE: taskQueue,
      WORKFLOW_BUNDLE: inject('workflowBundlePath'),
      MC_WEBHOOK_URL: receiver.url,
      LOG_LEVEL: 'error',
      WORKER_STANDBY: '1',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-2000)));
  child.stdin!.on('error', () => {}); // gone already
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const until = (line: string) =>
    new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d) => String(d).includes(line) && resolve());
      child.once('exit', (code, signal) => reject(new Error(`worker process exited (${code ?? signal}) before "${line}": ${err}`)));
    });
  const spawnedAt = Date.now();
  const proc: WorkerProc = { child, active: false, killedByUs: false, loaded: until('worker loaded'), ready: until('worker ready'), exited };
  proc.loaded.then(() => figures.loadMs.push(Date.now() - spawnedAt), () => {});
  proc.loaded.catch(() => {});
  proc.ready.catch(() => {});
  everyWorker.add(proc);
  child.once('exit', (code, signal) => {
    everyWorker.delete(proc);
    fleet.delete(proc);
    standby.splice(standby.indexOf(proc) >>> 0, standby.includes(proc) ? 1 : 0);
    if (proc.killedByUs) return;
    figures.unexpectedExits.push(`${proc.active ? 'active' : 'standby'} worker exited (${code ?? signal}): ${err.trim().split('\n').slice(-3).join(' | ')}`);
    if (proc.active) refill().catch(() => {});
  });
  return proc;
}

function fillStandby(size = STANDBY): void {
  while (standby.length < size) standby.push(spawnWorker());
}

/** Starts one standby worker polling, trying others (bounded) while they cannot start, e.g. Temporal being away. */
async function activateOne(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const proc = standby.shift() ?? spawnWorker();
    fillStandby();
    try {
      await proc.loaded;
      const since = Date.now();
      proc.child.stdin!.write(`${JSON.stringify({ DATABASE_URL: pgUrl() })}\n`);
      await proc.ready;
      figures.activateMs.push(Date.now() - since);
      proc.active = true;
      fleet.add(proc);
      figures.workerStarts++;
      return;
    } catch (err) {
      figures.failedStarts++;
      if (attempt >= 10) throw err;
      await sleep(500);
    }
  }
}

let refilling: Promise<void> = Promise.resolve();
/** Brings the fleet back to WORKERS polling processes. */
function refill(): Promise<void> {
  const next = refilling.catch(() => {}).then(() => Promise.all(Array.from({ length: Math.max(0, WORKERS - fleet.size) }, activateOne)).then(() => {}));
  refilling = next;
  return next;
}

async function kill(procs: WorkerProc[]): Promise<void> {
  for (const p of procs) {
    p.killedByUs = true;
    p.child.kill('SIGKILL');
    if (p.active) figures.killed++;
  }
  await Promise.all(procs.map((p) => p.exited));
}

// ---- the servers -----------------------------------------------------------------------------

const pgUrl = () => pg!.url;
const taskQueue = uniqueName('tq-faults');

async function makeApp(): Promise<TestApp> {
  const config = testConfig({ TEMPORAL_ADDRESS: temporal!.address, TEMPORAL_TASK_QUEUE: taskQueue, MC_WEBHOOK_URL: receiver.url, MC_SANDBOX_THREADS: '1' });
  const logger = testLogger();
  const { sql, sessionSecret } = await prepareDatabase({ url: pgUrl(), config, logger, announce: () => {} });
  owner = postgres(pgUrl(), { max: 2, onnotice: () => {} });
  handle = createTemporalClient({ address: temporal!.address, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE, sql });
  sandbox = createSandbox(config);
  const deps: AppDeps = { sql, temporal: handle, logger, config, sessionSecret, startedAt: new Date(), sandbox, adapters: createAdapters(config) };
  return {
    app: createApp(deps).app, deps, config, ws: await defaultWorkspaceId(sql),
    db: { url: pgUrl(), sql, owner, sessionSecret, close: async () => {} },
    close: async () => {},
  };
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'mc-faults-'));
  await chmod(tmp, 0o755); // PostgreSQL runs as the postgres user when we are root
  receiver = await startReceiver(200, { holdMs: 100 });
  // Not `persistent`, as in the other tests (fsync off); the outage stops the server without
  // stop(), which would delete the cluster, and the last stop() at the end does.
  pgOpts = { dir: path.join(tmp, 'pg'), port: await freePort(), database: 'faults', persistent: false };
  temporalOpts = { cli: inject('temporalCli'), port: await freePort(), dbFile: path.join(tmp, 'temporal.db'), logFile: path.join(tmp, 'temporal.log') };
  const t0 = Date.now();
  fillStandby(WORKERS + STANDBY); // workers load meanwhile
  [pg, temporal] = await Promise.all([startEmbeddedPostgres(pgOpts), startTemporalDevServer(temporalOpts)]);
  const t1 = Date.now();
  const workers = refill(); // they need the database only once tasks run
  t = await makeApp();
  const t2 = Date.now();
  admin = apiClient(t, ADMIN_TOKEN);
  await workers;
  console.log(`setup: servers ${t1 - t0} ms, database ${t2 - t1} ms, workers ${Date.now() - t1} ms after the servers`);
}, 180_000);

afterAll(async () => {
  finished = true;
  await kill([...everyWorker]).catch(() => {});
  await handle?.connection.close().catch(() => {});
  await sandbox?.close().catch(() => {});
  await t?.deps.sql.end({ timeout: 2 }).catch(() => {});
  await owner?.end({ timeout: 2 }).catch(() => {});
  await temporal?.stop().catch(() => {});
  await pg?.stop().catch(() => {});
  await receiver?.close().catch(() => {});
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** The worker process running the task that made this request (the run's one pending activity). */
async function senderOf(request: ReceivedRequest): Promise<WorkerProc> {
  const { workflowId } = (request.body as { payload: { workflowId: string } }).payload;
  const { raw } = await handle.client.workflow.getHandle(workflowId).describe();
  const identity = (raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'runMissionTask')?.lastWorkerIdentity;
  const proc = [...fleet].find((p) => identity === `test-worker-${p.child.pid}`);
  if (!proc) throw new Error(`no worker of the fleet runs the task that sent ${request.key} (identity ${identity})`);
  return proc;
}

/** What the fleet and the runs are doing, for a failure's message. */
async function diagnose(runs: Run[]): Promise<string> {
  const lines = [
    `workers polling: ${[...fleet].map((p) => p.child.pid).join(', ') || 'none'}; standby: ${standby.length}; unexpected exits: ${figures.unexpectedExits.join(' / ') || 'none'}`,
    `receiver: ${receiver.received.length} requests, ${receiver.applied.size} keys, last ${receiver.received.length ? `${Date.now() - receiver.received.at(-1)!.at} ms ago` : 'never'}`,
  ];
  for (const r of runs) {
    const d = await handle.client.workflow.getHandle(r.workflowId).describe().catch((e: Error) => e);
    if (d instanceof Error) lines.push(`${r.phase}/${r.policy}: describe failed: ${d.message}`);
    else lines.push(`${r.phase}/${r.policy}: ${d.status.name}, pending ${JSON.stringify((d.raw.pendingActivities ?? []).map((a) => ({
      type: a.activityType?.name, attempt: a.attempt, state: a.state, worker: a.lastWorkerIdentity, failure: a.lastFailure?.message?.slice(0, 200),
    })))}`);
  }
  return lines.join('\n');
}

/** Stops PostgreSQL as stop() does first (SIGINT: fast shutdown), keeping its data for the restart. */
async function stopPostgres(): Promise<void> {
  const { child } = pg!;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await exited;
}

// ---- missions ------------------------------------------------------------------------------

interface Run {
  policy: (typeof POLICIES)[number];
  phase: string;
  workflowId: string;
  /** Set once the run has closed, whichever way (a watcher follows it through outages). */
  closed: boolean;
}

let finished = false;
function watch(run: Run): void {
  void (async () => {
    const h = handle.client.workflow.getHandle(run.workflowId);
    for (let i = 0; i < 1000 && !run.closed && !finished; i++) {
      try {
        await h.result();
        run.closed = true;
      } catch (err) {
        if (err instanceof WorkflowFailedError) run.closed = true;
        else await sleep(500); // Temporal away, or the connection closed at the end
      }
    }
  })();
}

/** Waits (bounded) for a run to close, through outages, and returns its final progress or its failure. */
async function settled(workflowId: string, deadline: number): Promise<Progress | { failed: string }> {
  const h = handle.client.workflow.getHandle(workflowId);
  for (;;) {
    try {
      const d = await h.describe();
      if (d.status.name === 'COMPLETED') return await h.result();
      if (d.status.name !== 'RUNNING') return { failed: `${d.status.name}: ${await h.result().then(() => '', (e: Error & { cause?: Error }) => e.cause?.message ?? e.message)}` };
    } catch {
      // Temporal restarting: ask again
    }
    if (Date.now() > deadline) return { failed: 'still running at the deadline' };
    await sleep(250);
  }
}

describe('live-sending missions under faults', () => {
  it('deliver every send once and complete, under every retry policy, through worker kills and PostgreSQL and Temporal outages', async () => {
    const started = Date.now();
    const phases: Record<string, number> = {};
    const steps: string[] = [];
    const safety = await admin.request('PATCH', '/api/settings/safety', { dryRun: false, channels: { webhook: true } });
    expect((await json(safety)).safety).toMatchObject({ dryRun: false, channels: { webhook: true } });

    const containerId = await makeContainer(admin);
    // Each send names the task and its number: the logical message the receiver must see exactly once.
    const code = `async (input, ctx) => {
      for (let n = 0; n < input.sends; n++) {
        const reply = await ctx.outbound.send('webhook', { workflowId: ctx.mission.workflowId, task: ctx.task.name, n });
        if (!reply.sent) throw new Error('not sent: ' + JSON.stringify(reply));
      }
      return { task: ctx.task.name, sends: input.sends, attempt: ctx.attempt };
    }`;
    const patterns = Object.fromEntries(await Promise.all(POLICIES.map(async (p) => [p, await makePattern(admin, containerId, code, { timeout: 20_000, retryCount: 2 })] as const)));
    const missions = Object.fromEntries(await Promise.all(POLICIES.map(async (policy) => [policy, await makeMission(admin, {
      containerId,
      config: { retryPolicy: policy, retryDelayMs: 200 },
      tasks: Array.from({ length: TASKS }, (_, i) => ({ name: `t${i}`, order: i, patternId: patterns[policy], input: { sends: SENDS } })),
    })] as const)));
    const runs: Run[] = [];
    const launch = async (phase: string) => {
      for (const policy of POLICIES) {
        const run: Run = { policy, phase, workflowId: await execute(admin, missions[policy]!), closed: false };
        runs.push(run);
        watch(run);
      }
    };
    /** The next new send, held; launches more missions if every run closed before one came. */
    const nextSend = async (phase: string) => {
      const held = receiver.holdNext(undefined, 120_000);
      for (;;) {
        const got = await Promise.race([held, sleep(1000).then(() => null)]);
        if (got) return got;
        if (runs.every((r) => r.closed)) {
          steps.push(`every run closed before the next fault of "${phase}": launched more`);
          await launch(`${phase} (more)`);
        }
      }
    };
    const phase = async (name: string, fn: () => Promise<void>) => {
      const since = Date.now();
      await launch(name);
      try {
        await fn();
      } catch (err) {
        throw new Error(`${(err as Error).message} during "${name}"; so far: ${steps.join('; ')}\n${await diagnose(runs)}`);
      }
      phases[name] = Date.now() - since;
    };

    // (a) Worker processes SIGKILLed while one of them waits for the receiver's answer to a send:
    // the send was delivered but not yet recorded as sent, so it must go out again with its key.
    // Every worker at once, then twice the sending worker alone (the other goes on).
    await phase('worker kills', async () => {
      for (const scope of ['all', 'sender', 'sender'] as const) {
        if (scope === 'all') await refill(); // both workers up, then both go
        const t0 = Date.now();
        const held = await nextSend('worker kills');
        const t1 = Date.now();
        const sender = await senderOf(held.request);
        await kill(scope === 'all' ? [...fleet] : [sender]);
        held.release();
        const refilled = refill();
        if (scope === 'all') await refilled; // nothing polls until then
        steps.push(`kill ${scope}: waited ${t1 - t0} ms for a send, then ${Date.now() - t1} ms`);
        console.log(`faults: ${steps.at(-1)}`);
      }
      await refill();
    });

    // (b) PostgreSQL stopped for 8 s just after a send was delivered, before it is recorded.
    await phase('PostgreSQL outage', async () => {
      const since = Date.now();
      const held = await nextSend('PostgreSQL outage');
      await stopPostgres();
      held.release();
      steps.push(`PostgreSQL stopped ${Date.now() - since} ms into the phase`);
      await sleep(PG_OUTAGE_MS); // the outage itself
      pg = await startEmbeddedPostgres(pgOpts);
      steps.push(`PostgreSQL back after ${Date.now() - since} ms`);
    });

    // (c) The Temporal server stopped (its state is in its SQLite file) and started again.
    await phase('Temporal outage', async () => {
      const since = Date.now();
      const held = await nextSend('Temporal outage');
      await temporal!.stop();
      held.release();
      steps.push(`Temporal stopped ${Date.now() - since} ms into the phase`);
      await sleep(TEMPORAL_OUTAGE_MS); // the outage itself
      temporal = await startTemporalDevServer(temporalOpts);
      steps.push(`Temporal back after ${Date.now() - since} ms`);
      await refill(); // in case a worker gave up while it was away
    });

    const deadline = Date.now() + 120_000;
    const finals = await Promise.all(runs.map(async (r) => ({ ...r, final: await settled(r.workflowId, deadline) })));
    phases['until every run closed'] = Date.now() - started - Object.values(phases).reduce((a, b) => a + b, 0);

    // ---- what the receiver got ----------------------------------------------------------------
    const expectedSends = runs.length * TASKS * SENDS;
    const rows = await owner<{ key: string; status: string; workflowId: string; attempts: number }[]>`
      select idempotency_key as key, status, split_part(idempotency_key, '/', 1) as "workflowId", attempts
      from outbound_messages where idempotency_key like 'mission-%'`;
    const audits = await owner<{ key: string; n: number }[]>`
      select idempotency_key as key, count(*)::int as n from audit_log where action = 'outbound.sent' and idempotency_key like 'outbound/mission-%' group by 1`;
    const failedAudits = await owner<{ n: number }[]>`select count(*)::int as n from audit_log where action = 'outbound.failed'`;
    const runRows = await owner<{ workflowId: string; taskId: string; succeeded: number; failed: number; attempts: number[] }[]>`
      select workflow_id as "workflowId", task_id as "taskId", count(*) filter (where status = 'succeeded')::int as succeeded,
             count(*) filter (where status = 'failed')::int as failed, array_agg(attempt order by attempt) as attempts
      from pattern_runs where source = 'mission' group by 1, 2`;

    const logical = new Map<string, string[]>(); // workflowId/task/n -> keys applied for it
    for (const [key, body] of receiver.applied) {
      const p = (body as { payload: { workflowId: string; task: string; n: number } }).payload;
      const id = `${p.workflowId}/${p.task}/${p.n}`;
      logical.set(id, [...(logical.get(id) ?? []), key]);
    }
    const bodyChanged = receiver.received.filter((r) => r.retry && JSON.stringify(r.body) !== JSON.stringify(receiver.applied.get(r.key!)));
    const policyOf = new Map(runs.map((r) => [r.workflowId, r.policy]));
    const policyOfRequest = (r: { body: unknown }) => policyOf.get((r.body as { payload: { workflowId: string } }).payload.workflowId);
    const byPolicy = Object.fromEntries(POLICIES.map((policy) => [policy, {
      runs: runs.filter((r) => r.policy === policy).length,
      delivered: [...receiver.applied.values()].filter((b) => policyOfRequest({ body: b }) === policy).length,
      retries: receiver.received.filter((r) => r.retry && policyOfRequest(r) === policy).length,
      taskAttempts: finals.filter((r) => r.policy === policy).reduce((n, r) => n + ('tasks' in r.final ? r.final.tasks.reduce((m, x) => m + x.attempts, 0) : 0), 0),
    }]));
    const summary = {
      runs: runs.length, byPolicy, expectedSends, delivered: receiver.applied.size, rawRequests: receiver.received.length, retriesOfAKey: receiver.retries(),
      logicalMessages: logical.size, duplicateDeliveries: [...logical.values()].filter((k) => k.length > 1).length,
      keyless: receiver.received.filter((r) => r.key === null).length, killed: figures.killed, workerStarts: figures.workerStarts,
      failedWorkerStarts: figures.failedStarts, workerLoadMs: figures.loadMs, workerActivateMs: figures.activateMs, unexpectedWorkerExits: figures.unexpectedExits.length,
      taskAttempts: finals.reduce((n, r) => n + ('tasks' in r.final ? r.final.tasks.reduce((m, x) => m + x.attempts, 0) : 0), 0),
      sendAttemptsRecorded: rows.reduce((n, r) => n + r.attempts, 0),
      phasesMs: phases, steps, totalMs: Date.now() - started,
    };
    console.log(`faults: ${JSON.stringify(summary)}${figures.unexpectedExits.length ? `\nunexpected worker exits: ${figures.unexpectedExits.join('\n')}` : ''}`);

    // Every mission completed, every task once.
    expect(finals.filter((r) => !('status' in r.final) || r.final.status !== 'Completed').map((r) => ({ ...r, final: JSON.stringify(r.final).slice(0, 400) }))).toEqual([]);
    for (const r of finals) expect((r.final as Progress).tasks.map((x) => x.status)).toEqual(Array(TASKS).fill('completed'));

    // Every send delivered once: one applied key per logical message, and no other.
    expect(summary.keyless).toBe(0);
    expect(summary.duplicateDeliveries).toBe(0);
    expect(summary.logicalMessages).toBe(expectedSends);
    expect(summary.delivered).toBe(expectedSends);
    expect(bodyChanged).toEqual([]); // a retry carries the same message
    expect(new Set(runs.map((r) => r.workflowId))).toEqual(new Set([...logical.keys()].map((id) => id.split('/')[0])));

    // The sender's own records agree: each key sent, once, audited once.
    expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
    expect(new Set(rows.map((r) => r.key))).toEqual(new Set(receiver.applied.keys()));
    expect(audits.filter((a) => a.n !== 1)).toEqual([]);
    expect(new Set(audits.map((a) => a.key))).toEqual(new Set([...receiver.applied.keys()].map((k) => `outbound/${k}/sent`)));
    expect(failedAudits[0]!.n).toBe(0);

    // A task run again after its worker was killed says so on its run, once per lost attempt (a SYSTEM comment).
    const lost = await owner<{ workflowId: string; key: string }[]>`
      select workflow_id as "workflowId", idempotency_key as key from comments where type = 'SYSTEM' and content like '%worker is lost%'`;
    expect(lost.length).toBeGreaterThanOrEqual(1);
    expect(new Set(lost.map((c) => c.key)).size).toBe(lost.length);
    expect(lost.filter((c) => !policyOf.has(c.workflowId))).toEqual([]);

    // Each task's run recorded once (one success, no failure), and the statistics count each once.
    expect(runRows.filter((r) => r.succeeded !== 1 || r.failed !== 0)).toEqual([]);
    expect(runRows).toHaveLength(runs.length * TASKS);
    for (const policy of POLICIES) {
      const { pattern } = await json(await admin.request('GET', `/api/patterns/${patterns[policy]}`));
      const n = runs.filter((r) => r.policy === policy).length * TASKS;
      expect(pattern.stats, policy).toMatchObject({ totalExecutions: n, successCount: n, failureCount: 0 });
    }
  }, 300_000);
});

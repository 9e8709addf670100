// The web server of bench/agents.ts in a process of its own: api/server.ts run
// alone, as docker-compose's web service runs it, on the bench's PostgreSQL and
// Temporal, so that its CPU and memory are its own (the worker, the callers and
// the simulated agents live elsewhere). And /proc readings (Linux): the CPU of
// a process tree, a process' resident memory and its peak.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '../lib/ports';
import type { Cleanup } from './lib';
import type { Stack } from './stack';

export const REPO = fileURLToPath(new URL('..', import.meta.url));

let tick = 0;
function clockTick(): number {
  if (!tick) {
    try {
      tick = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      tick = 100; // the usual value
    }
  }
  return tick;
}

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  /** CPU ms of its own (every thread), and of its children that exited and were waited for. */
  ms: number;
  reapedMs: number;
}

function readProcs(): Proc[] {
  const perTick = 1000 / clockTick();
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      return [{ pid: Number(d), ppid: Number(f[1]), comm, ms: (Number(f[11]) + Number(f[12])) * perTick, reapedMs: (Number(f[13]) + Number(f[14])) * perTick }];
    } catch {
      return []; // gone meanwhile
    }
  });
}

function descendants(procs: Proc[], root: number): Proc[] {
  const kids = new Map<number, Proc[]>();
  for (const p of procs) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), p]);
  const out: Proc[] = [];
  for (const todo = procs.filter((p) => p.pid === root); todo.length; ) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(kids.get(p.pid) ?? []));
  }
  return out;
}

/**
 * CPU ms of `root` and its descendants, those that exited included (their time moves to the parent that
 * waited for them): a number that only grows, whatever comes and goes in the tree (PostgreSQL's backends).
 */
export function treeCpuMs(root: number): number {
  return descendants(readProcs(), root).reduce((a, p) => a + p.ms + p.reapedMs, 0);
}

/** CPU ms of the PostgreSQL servers started under this process (every postmaster's tree, exited backends included). */
export function postgresCpuMs(): number {
  const mine = descendants(readProcs(), process.pid);
  const byPid = new Map(mine.map((p) => [p.pid, p]));
  return mine
    .filter((p) => p.comm === 'postgres' && byPid.get(p.ppid)?.comm !== 'postgres')
    .reduce((a, root) => a + descendants(mine, root.pid).reduce((b, p) => b + p.ms + p.reapedMs, 0), 0);
}

/** Resident memory now and at its peak (VmRSS, VmHWM), in MB. */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** What every process had used at one moment: CPU ms, and the database's transactions (pg_stat_database, flushed about every second). */
export interface Usage {
  at: number;
  main: number;
  web: number;
  temporal: number;
  postgres: number;
  xacts: number;
}

export async function usageNow(stack: Stack, webPid: number): Promise<Usage> {
  const [row] = await stack.sql<{ n: string }[]>`select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()`;
  const self = process.cpuUsage();
  return {
    at: performance.now(), main: (self.user + self.system) / 1000, web: treeCpuMs(webPid),
    temporal: stack.temporalPid ? treeCpuMs(stack.temporalPid) : NaN, postgres: postgresCpuMs(), xacts: Number(row?.n ?? NaN),
  };
}

/** From a to b: each process' CPU as a fraction of one core, and transactions per second. */
export function usageBetween(a: Usage, b: Usage): Omit<Usage, 'at'> & { seconds: number } {
  const ms = b.at - a.at;
  return {
    seconds: ms / 1000, main: (b.main - a.main) / ms, web: (b.web - a.web) / ms, temporal: (b.temporal - a.temporal) / ms,
    postgres: (b.postgres - a.postgres) / ms, xacts: ((b.xacts - a.xacts) * 1000) / ms,
  };
}

export interface WebProcess {
  url: string;
  pid: number;
  /** Its log lines at warn and above (LOG_LEVEL=warn), as they came. */
  logged: string[];
}

/** The owner URL of the bench's database (the one the stack prepared), for a process of its own. */
function databaseUrl(stack: Stack): string {
  const o = stack.sql.options as unknown as { user: string; pass: string; host: string[]; port: number[]; database: string };
  return `postgres://${encodeURIComponent(o.user)}:${encodeURIComponent(o.pass)}@${o.host[0]}:${o.port[0]}/${encodeURIComponent(o.database)}`;
}

/** Starts `node --import tsx api/server.ts` and waits until /health/ready answers 200. */
export async function startWebProcess(stack: Stack, cleanup: Cleanup, env: Record<string, string>): Promise<WebProcess> {
  const port = await freePort();
  // BENCH_WEB_PROFILE=<dir>: a CPU profile of the web process, written there when it stops (open it in Chrome's DevTools).
  const profile = process.env.BENCH_WEB_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_WEB_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'api/server.ts'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl(stack), TEMPORAL_ADDRESS: stack.address, TEMPORAL_NAMESPACE: stack.config.TEMPORAL_NAMESPACE,
      TEMPORAL_TASK_QUEUE: stack.config.TEMPORAL_TASK_QUEUE, PORT: String(port), HOST: '127.0.0.1',
      MC_ADMIN_PASSWORD: stack.adminPassword, MC_SEED_EXAMPLES: 'false', MC_SANDBOX_THREADS: '1', LOG_LEVEL: 'warn', LOG_FORMAT: 'json',
      ...env,
    },
  });
  const logged: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let partial = '';
  const onData = (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) logged.push(line);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  cleanup.add('stop the web process', async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const gone = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 10_000).unref())]);
    if (!gone) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the web process exited with ${child.exitCode}:\n${logged.slice(-20).join('\n')}`);
    const ready = await fetch(`${url}/health/ready`).then((r) => r.status === 200, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`the web process was not ready after 90 s:\n${logged.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, pid: child.pid!, logged };
}

/** The distinct messages of a JSON log, most frequent first, with their counts: what went wrong, in a few lines. */
export function summarizeLog(lines: string[], max = 8): string[] {
  const counts = new Map<string, number>();
  for (const line of lines) {
    let key = line.slice(0, 200);
    try {
      const entry = JSON.parse(line) as { msg?: string; err?: unknown; level?: number };
      key = `${entry.msg ?? ''}${entry.err ? ` (${String(typeof entry.err === 'object' ? (entry.err as { message?: string }).message : entry.err).slice(0, 120)})` : ''}`;
    } catch {
      // not JSON: the line itself
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, max).map(([k, n]) => `${n} x ${k}`);
}

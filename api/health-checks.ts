// Readiness of each dependency, with latency: PostgreSQL answers, Temporal
// answers, and some worker is polling our task queue.
import { readFileSync } from 'node:fs';
import type { AppDeps } from './context';

export interface Check {
  name: 'postgres' | 'temporal' | 'worker';
  ok: boolean;
  latencyMs: number;
  detail?: string;
  version?: string;
}

export interface Health {
  status: 'ready' | 'not_ready';
  checks: Check[];
  checkedAt: Date;
  uptimeMs: number;
  version: string;
}

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
export const APP_VERSION = pkg.version;

/** A poller seen within this window counts as live (idle long polls last about a minute). */
const POLLER_FRESH_MS = 90_000;
const CHECK_TIMEOUT_MS = 3_000;

async function timed(name: Check['name'], fn: () => Promise<Omit<Check, 'name' | 'latencyMs'>>): Promise<Check> {
  const started = performance.now();
  try {
    const result = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS).unref()),
    ]);
    return { name, latencyMs: performance.now() - started, ...result };
  } catch (err) {
    return { name, ok: false, latencyMs: performance.now() - started, detail: (err as Error).message?.split('\n')[0] };
  }
}

export async function checkHealth(deps: Pick<AppDeps, 'sql' | 'temporal' | 'startedAt'>): Promise<Health> {
  const { sql, temporal } = deps;
  const deadline = () => Date.now() + CHECK_TIMEOUT_MS;
  const checks = await Promise.all([
    timed('postgres', async () => {
      const [row] = await sql<{ version: string }[]>`select current_setting('server_version') as version`;
      return { ok: true, version: row!.version, detail: `PostgreSQL ${row!.version}` };
    }),
    timed('temporal', async () => {
      const info = await temporal.connection.withDeadline(deadline(), () => temporal.connection.workflowService.getSystemInfo({}));
      const version = info.serverVersion || 'unknown';
      return { ok: true, version, detail: `Temporal server ${version}, namespace ${temporal.namespace}` };
    }),
    timed('worker', async () => {
      const res = await temporal.connection.withDeadline(deadline(), () =>
        temporal.connection.workflowService.describeTaskQueue({
          namespace: temporal.namespace,
          taskQueue: { name: temporal.taskQueue, kind: 1 },
          taskQueueType: 1, // workflow task queue
        }),
      );
      const now = Date.now();
      const fresh = (res.pollers ?? []).filter((p) => {
        const seconds = Number(p.lastAccessTime?.seconds ?? 0);
        return now - seconds * 1000 < POLLER_FRESH_MS;
      });
      return fresh.length > 0
        ? { ok: true, detail: `${fresh.length} poller(s) on task queue ${temporal.taskQueue}` }
        : { ok: false, detail: `no worker is polling task queue ${temporal.taskQueue}` };
    }),
  ]);
  return {
    status: checks.every((c) => c.ok) ? 'ready' : 'not_ready',
    checks,
    checkedAt: new Date(),
    uptimeMs: Date.now() - deps.startedAt.getTime(),
    version: APP_VERSION,
  };
}

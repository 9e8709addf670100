// Helpers for the sandbox attack suite (test/sandbox/escape-*.test.ts and
// resources.test.ts): run an attempt and turn its result into a plain outcome,
// snapshot what a successful escape would change in the host, and check
// afterwards that nothing changed and the pool still serves. useSandbox() gives
// each test file its own pool, traps and attack-table runner.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { PatternError, type PatternErrorKind } from '../../activities/sandbox/errors';
import { SandboxPool, type RunRequest } from '../../activities/sandbox/pool';

export type Outcome =
  | { ok: true; output: unknown; logs: string[]; logsTruncated: boolean; durationMs: number }
  | { ok: false; kind: PatternErrorKind; message: string; logs: string[] };

/**
 * Timeout for attempts that are expected to finish: far beyond what any of
 * them needs even on a loaded machine (the slowest, deep async recursion, takes
 * ~200 ms idle and has taken over 2 s under CPU load), so that finishing never
 * races the timeout. Attempts that are expected to run forever use STOP.
 */
export const ENOUGH = 20_000;
/** Timeout for attempts that are expected to run forever. */
export const STOP = 400;
/**
 * Timeout for memory bombs, which must be stopped by a memory limit: far
 * beyond how long reaching it takes (the heap bomb, ~2 s idle, has taken 14 s
 * on a loaded 2-core machine, as V8 collects again and again near its cap),
 * so that the cap, not the timeout, is what stops them. Under the 60 s test timeout.
 */
export const BOMB = 40_000;

/** Runs pattern code; a PatternError becomes an outcome, anything else is a test failure. */
export async function attempt(pool: SandboxPool, req: Partial<RunRequest> & { code: string }): Promise<Outcome> {
  try {
    const result = await pool.run({ input: null, timeoutMs: ENOUGH, ...req });
    return { ok: true, ...result };
  } catch (err) {
    if (!(err instanceof PatternError)) throw err;
    return { ok: false, kind: err.kind, message: err.message, logs: err.logs };
  }
}

/** What an attempt should come to: an exact output, or a PatternError kind (and message). */
export type Expected = { output: unknown } | { kind: PatternErrorKind | PatternErrorKind[]; message?: RegExp };

/** Host file paths a stack or message must never carry to a guest or back. */
export const HOST_PATHS = /\/work\/|node_modules|file:\/\/|activities\/sandbox/;

export function expectOutcome(outcome: Outcome, expected: Expected): void {
  if ('output' in expected) {
    expect(outcome.ok ? outcome.output : { unexpectedFailure: outcome }).toEqual(expected.output);
  } else {
    expect(outcome.ok, `expected a ${String(expected.kind)} error, got output ${JSON.stringify(outcome.ok && outcome.output)}`).toBe(false);
    if (outcome.ok) return;
    const kinds = Array.isArray(expected.kind) ? expected.kind : [expected.kind];
    expect(kinds, outcome.message).toContain(outcome.kind);
    if (expected.message) expect(outcome.message).toMatch(expected.message);
  }
  // Whatever came back, it names no file of the host.
  const text = outcome.ok ? JSON.stringify(outcome.output ?? null) : outcome.message;
  expect(text).not.toMatch(HOST_PATHS);
  for (const line of outcome.logs) expect(line).not.toMatch(HOST_PATHS);
}

/** Where an escaped pattern would leave its marks. */
export interface Traps {
  dir: string;
  /** A file the escape payload writes. */
  marker: string;
  /** A host global the escape payload sets. */
  globalName: string;
  /** An environment variable the escape payload sets. */
  envName: string;
  cleanup(): void;
}

export function makeTraps(): Traps {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mc-sandbox-attack-'));
  return {
    dir,
    marker: path.join(dir, 'escaped'),
    globalName: '__sandboxEscaped',
    envName: 'SANDBOX_ESCAPED',
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Guest source of a function that, handed a real `process`, leaves every mark
 * an escape would: a file, an environment variable, a global. Attacks call it
 * with whatever they managed to reach.
 */
export function escapePayload(t: Traps): string {
  return `((p) => {
    p.env[${JSON.stringify(t.envName)}] = '1';
    globalThis[${JSON.stringify(t.globalName)}] = true;
    p.getBuiltinModule('fs').writeFileSync(${JSON.stringify(t.marker)}, 'escaped');
    return 'ESCAPED';
  })`;
}

export interface HostSnapshot {
  objectPrototype: string[];
  arrayPrototype: string[];
  functionPrototype: string[];
  promisePrototype: string[];
  errorPrototype: string[];
  globals: string[];
  env: string;
  files: string[];
}

const keys = (o: object) => Reflect.ownKeys(o).map(String).sort();

export function snapshotHost(t: Traps): HostSnapshot {
  return {
    objectPrototype: keys(Object.prototype),
    arrayPrototype: keys(Array.prototype),
    functionPrototype: keys(Function.prototype),
    promisePrototype: keys(Promise.prototype),
    errorPrototype: keys(Error.prototype),
    globals: keys(globalThis),
    env: JSON.stringify(process.env),
    files: existsSync(t.dir) ? readdirSync(t.dir).sort() : [],
  };
}

/**
 * The host is as it was before the attempt (no new prototype keys, globals,
 * environment variables or files), and the pool still runs a trivial pattern.
 */
export async function expectHostUnaffectedAndPoolServing(pool: SandboxPool, t: Traps, before: HostSnapshot): Promise<void> {
  expect(snapshotHost(t)).toEqual(before);
  expect(existsSync(t.marker)).toBe(false);
  expect((globalThis as Record<string, unknown>)[t.globalName]).toBeUndefined();
  expect(process.env[t.envName]).toBeUndefined();
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  const trivial = await pool.run({ code: '(i) => i + 1', input: 41, timeoutMs: ENOUGH });
  expect(trivial.output).toBe(42);
}

// The real timers, kept before any test fakes them (see withPoolClock): the
// waits below always pass in real time.
const realSetTimeout = globalThis.setTimeout;
export const sleep = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));

/** Polls until `predicate` holds or `ms` pass; returns whether it held. */
export async function eventually(predicate: () => boolean, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (predicate()) return true;
    await sleep(10);
  }
  return predicate();
}

/**
 * Waits until every thread of the pool is up and idle, so that N concurrent
 * runs land on N different threads (the pool hands jobs to idle threads in order).
 * Reads the pool's private slot states: tests only.
 */
export async function allThreadsIdle(pool: SandboxPool, ms = 15_000): Promise<void> {
  const ok = await eventually(() => threadStates(pool).every((s) => s === 'idle'), ms);
  expect(ok, `threads not idle: ${threadStates(pool).join(', ')}`).toBe(true);
}

/** The pool's private slots: tests only. */
interface PoolInternals {
  slots: { state: string; worker: Worker }[];
  baselineRss: number;
  memoryMb: number;
  slackMb: number;
}
const internals = (pool: SandboxPool) => pool as unknown as PoolInternals;

/** The state of each thread of the pool ('starting', 'idle', 'busy', 'draining'). */
export function threadStates(pool: SandboxPool): string[] {
  return internals(pool).slots.map((s) => s.state);
}

/**
 * The process memory above which the pool's watchdog stops the threads it
 * watches (busy and draining ones): the baseline taken when the first of them
 * started, plus 2 × memoryMb for each of them, plus the slack. Mirrors
 * SandboxPool.checkMemory; reads the pool's private state: tests only.
 */
export function memoryAllowance(pool: SandboxPool): number {
  const p = internals(pool);
  const watched = p.slots.filter((s) => s.state === 'busy' || s.state === 'draining').length;
  return p.baselineRss + (watched * p.memoryMb * 2 + p.slackMb) * 2 ** 20;
}
/** How often the pool's memory watchdog looks (SandboxPool.updateWatchdog). */
export const WATCHDOG_TICK_MS = 25;

/**
 * Watches the pool's current threads exit. replacedExited() waits until every
 * one of them that has been replaced since has exited: Node delivers all of a
 * thread's messages before its 'exit' event, so after that nothing it posted
 * can still reach the host.
 */
export function watchThreadExits(pool: SandboxPool): { replacedExited(ms?: number): Promise<void> } {
  const workers = internals(pool).slots.map((s) => s.worker);
  const exited = new Map(workers.map((w) => [w, new Promise<void>((resolve) => w.once('exit', () => resolve()))]));
  return {
    async replacedExited(ms = 15_000) {
      const current = new Set(internals(pool).slots.map((s) => s.worker));
      const replaced = workers.filter((w) => !current.has(w));
      expect(replaced.length, 'no thread was replaced').toBeGreaterThan(0);
      let done = false;
      void Promise.all(replaced.map((w) => exited.get(w))).then(() => (done = true));
      expect(await eventually(() => done, ms), 'a replaced thread did not exit').toBe(true);
    },
  };
}

/**
 * Runs `fn` with the host's timers faked, so the pool's clock (run timeouts,
 * the 1 s drain limit, the memory watchdog's ticks) moves only when the test
 * calls advance(): which of two limits a run meets first is then decided by
 * the test, not by how busy the machine is. Guest code, messages and memory
 * go on in real time; sleep() and eventually() keep waiting in real time.
 * Start it with the pool quiet (allThreadsIdle), so that no real timer of the
 * pool is pending. Whatever pool timer is still pending at the end is run, so
 * nothing is left stuck, before the real timers come back.
 */
export async function withPoolClock<T>(fn: (clock: { advance(ms: number): void }) => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  try {
    return await fn({ advance: (ms) => vi.advanceTimersByTime(ms) });
  } finally {
    vi.runOnlyPendingTimers();
    vi.useRealTimers();
  }
}

/** What SES says when a pattern reaches for the Function constructor through any function. */
export const NOT_A_CONSTRUCTOR = /Function\.prototype\.constructor is not a valid constructor/;

/** One attack attempt: pattern code, its input and timeout, and what it must come to. */
export interface Attack {
  title: string;
  code: string;
  expect: Expected;
  input?: unknown;
  timeoutMs?: number;
}

export interface Sandbox {
  traps: Traps;
  /** Guest source of the escape payload (see escapePayload). */
  PWN: string;
  /** The file's pool; made in beforeAll, so only to be read inside tests. */
  readonly pool: SandboxPool;
  /** Runs one attack and checks containment, the host, and that the pool still serves. */
  contained(a: Attack, extra?: Partial<RunRequest>): Promise<Outcome>;
  /** One test per row, each run through contained(). */
  attacks(rows: Attack[]): void;
}

/**
 * The setup every attack file shares: traps (made now, since attack code
 * embeds their paths), and a pool made in beforeAll and closed in afterAll.
 * processSlackMb is kept small so that the memory watchdog's allowance
 * (2 × memoryMb per running thread + slack = 224 MiB for one) is tight enough
 * for the memory tests to tell "stopped by the watchdog" from "ran on".
 */
export function useSandbox(): Sandbox {
  const traps = makeTraps();
  let pool: SandboxPool | undefined;
  beforeAll(async () => {
    pool = new SandboxPool({ threads: 2, memoryMb: 48, processSlackMb: 128 });
    await allThreadsIdle(pool, 30_000);
  });
  afterAll(async () => {
    await pool?.close();
    traps.cleanup();
  });
  const sandbox: Sandbox = {
    traps,
    PWN: escapePayload(traps),
    get pool() {
      if (!pool) throw new Error('the sandbox pool is made in beforeAll: read it inside a test');
      return pool;
    },
    async contained(a, extra = {}) {
      const before = snapshotHost(traps);
      const outcome = await attempt(sandbox.pool, { code: a.code, input: a.input ?? null, timeoutMs: a.timeoutMs ?? ENOUGH, ...extra });
      expectOutcome(outcome, a.expect);
      await expectHostUnaffectedAndPoolServing(sandbox.pool, traps, before);
      return outcome;
    },
    attacks: (rows) =>
      it.each(rows.map((row) => [row.title, row] as const))('%s', async (_title, row) => {
        await sandbox.contained(row);
      }),
  };
  return sandbox;
}

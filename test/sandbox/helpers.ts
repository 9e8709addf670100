// Helpers for the sandbox attack suite (test/sandbox/escape-*.test.ts and
// resources.test.ts): run an attempt and turn its result into a plain outcome,
// snapshot what a successful escape would change in the host, and check
// afterwards that nothing changed and the pool still serves. useSandbox() gives
// each test file its own pool, traps and attack-table runner.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PatternError, type PatternErrorKind } from '../../activities/sandbox/errors';
import { SandboxPool, type RunRequest } from '../../activities/sandbox/pool';

export type Outcome =
  | { ok: true; output: unknown; logs: string[]; logsTruncated: boolean; durationMs: number }
  | { ok: false; kind: PatternErrorKind; message: string; logs: string[] };

/** Runs pattern code; a PatternError becomes an outcome, anything else is a test failure. */
export async function attempt(pool: SandboxPool, req: Partial<RunRequest> & { code: string }): Promise<Outcome> {
  try {
    const result = await pool.run({ input: null, timeoutMs: 1000, ...req });
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
  const trivial = await pool.run({ code: '(i) => i + 1', input: 41, timeoutMs: 5000 });
  expect(trivial.output).toBe(42);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
export async function allThreadsIdle(pool: SandboxPool, ms = 5000): Promise<void> {
  const slots = (pool as unknown as { slots: { state: string }[] }).slots;
  const ok = await eventually(() => slots.every((s) => s.state === 'idle'), ms);
  expect(ok, `threads not idle: ${slots.map((s) => s.state).join(', ')}`).toBe(true);
}

/** What SES says when a pattern reaches for the Function constructor through any function. */
export const NOT_A_CONSTRUCTOR = /Function\.prototype\.constructor is not a valid constructor/;
/** Timeout for attempts that are expected to run forever. */
export const STOP = 400;

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
      const outcome = await attempt(sandbox.pool, { code: a.code, input: a.input ?? null, timeoutMs: a.timeoutMs ?? 1000, ...extra });
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

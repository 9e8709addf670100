// Attacks on the pattern sandbox. Each attempt is run through one shared pool
// and then three things are checked: the attempt was contained (the expected
// PatternError kind, or an exact harmless output), the host is unaffected (no
// new prototype keys, globals, environment variables or files: the escape
// payload would leave all of them), and the pool still runs a trivial pattern.
import { types } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { SandboxPool, type RunRequest } from '../../activities/sandbox/pool';
import {
  HOST_PATHS,
  allThreadsIdle,
  attempt,
  escapePayload,
  eventually,
  expectHostUnaffectedAndPoolServing,
  expectOutcome,
  makeTraps,
  sleep,
  snapshotHost,
  type Expected,
  type Outcome,
} from './helpers';

const traps = makeTraps();
const PWN = escapePayload(traps);
// processSlackMb is kept small so that the memory watchdog's allowance
// (2 × memoryMb per running thread + slack = 224 MiB for one) is tight enough
// for the memory tests to tell "stopped by the watchdog" from "ran on".
const pool = new SandboxPool({ threads: 2, memoryMb: 48, processSlackMb: 128 });

afterAll(async () => {
  await pool.close();
  traps.cleanup();
});

interface Attack {
  title: string;
  code: string;
  expect: Expected;
  input?: unknown;
  timeoutMs?: number;
}

/** Runs one attack and checks containment, the host, and that the pool still serves. */
async function contained(a: Attack, extra: Partial<RunRequest> = {}): Promise<Outcome> {
  const before = snapshotHost(traps);
  const outcome = await attempt(pool, { code: a.code, input: a.input ?? null, timeoutMs: a.timeoutMs ?? 1000, ...extra });
  expectOutcome(outcome, a.expect);
  await expectHostUnaffectedAndPoolServing(pool, traps, before);
  return outcome;
}

const attacks = (rows: Attack[]) =>
  it.each(rows.map((row) => [row.title, row] as const))('%s', async (_title, row) => {
    await contained(row);
  });

const NOT_A_CONSTRUCTOR = /Function\.prototype\.constructor is not a valid constructor/;
const IMPORT_REJECTED = /SES_IMPORT_REJECTED/;
const HTML_REJECTED = /SES_HTML_COMMENT_REJECTED/;
const STOP = 400; // timeout for attempts that are expected to run forever

describe('a pattern cannot reach the host through the Function constructor', () => {
  attacks([
    {
      title: "a pattern cannot reach process through an arrow function's constructor",
      code: `() => ${PWN}((() => {}).constructor('return process')())`,
      expect: { kind: 'runtime', message: NOT_A_CONSTRUCTOR },
    },
    {
      title: 'a pattern cannot reach process through the AsyncFunction constructor',
      code: `async () => ${PWN}(await Object.getPrototypeOf(async function () {}).constructor('return process')())`,
      expect: { kind: 'runtime', message: NOT_A_CONSTRUCTOR },
    },
    {
      title: 'a pattern cannot reach process through the GeneratorFunction constructor',
      code: `() => ${PWN}(Object.getPrototypeOf(function* () {}).constructor('yield process')().next().value)`,
      expect: { kind: 'runtime', message: NOT_A_CONSTRUCTOR },
    },
    {
      title: 'a pattern cannot reach process through the AsyncGeneratorFunction constructor',
      code: `async () => ${PWN}((await Object.getPrototypeOf(async function* () {}).constructor('yield process')().next()).value)`,
      expect: { kind: 'runtime', message: NOT_A_CONSTRUCTOR },
    },
    {
      title: 'a pattern cannot reach the host global through globalThis.constructor.constructor',
      code: `() => ${PWN}(globalThis.constructor.constructor('return this')().process)`,
      expect: { kind: 'runtime', message: NOT_A_CONSTRUCTOR },
    },
    {
      title: 'a pattern cannot construct a host function with Reflect.construct on Function.prototype.constructor',
      code: `() => ${PWN}(Reflect.construct(Function.prototype.constructor, ['return process'])())`,
      expect: { kind: 'runtime', message: NOT_A_CONSTRUCTOR },
    },
  ]);
});

describe('eval and new Function work but stay inside the compartment', () => {
  attacks([
    {
      title: 'new Function sees no process, require or module',
      code: `() => new Function('return [typeof process, typeof require, typeof module, typeof globalThis.process]')()`,
      expect: { output: ['undefined', 'undefined', 'undefined', 'undefined'] },
    },
    {
      title: "a function made by new Function has no sloppy 'this' to reach the real global",
      code: `() => { const g = Function('return this')(); return g === undefined ? 'no global' : ${PWN}(g.process) }`,
      expect: { output: 'no global' },
    },
    {
      title: 'indirect eval sees no process or require',
      code: `() => (0, eval)('[typeof process, typeof require, typeof Buffer]')`,
      expect: { output: ['undefined', 'undefined', 'undefined'] },
    },
    {
      title: 'a direct eval expression is rejected before the pattern runs',
      code: `() => eval('typeof process')`,
      expect: { kind: 'syntax', message: /SES_EVAL_REJECTED/ },
    },
    {
      title: 'a parenthesised (eval)(…) call is still the compartment eval',
      code: `() => (eval)('typeof process === "undefined" ? "confined" : ' + ${JSON.stringify(PWN)} + '(process)')`,
      expect: { output: 'confined' },
    },
    {
      title: 'an optional-call eval?.(…) is still the compartment eval',
      code: `() => eval?.('[typeof process, typeof require]')`,
      expect: { output: ['undefined', 'undefined'] },
    },
    {
      title: "a nested compartment with SES's direct-eval check turned off still evaluates confined",
      code: `() => new Compartment().evaluate('ev' + 'al("[typeof process, typeof require]")', { __rejectSomeDirectEvalExpressions__: false })`,
      expect: { output: ['undefined', 'undefined'] },
    },
  ]);
});

describe('a pattern cannot load modules with dynamic import', () => {
  attacks([
    { title: "import('fs') is rejected", code: `async () => (await import('fs')).writeFileSync(${JSON.stringify(traps.marker)}, 'x')`, expect: { kind: 'syntax', message: IMPORT_REJECTED } },
    { title: "import ( 'fs' ) with spaces is rejected", code: `async () => import ( 'fs' )`, expect: { kind: 'syntax', message: IMPORT_REJECTED } },
    { title: "import/**/('fs') with a comment is rejected", code: `async () => import/**/('fs')`, expect: { kind: 'syntax', message: IMPORT_REJECTED } },
    { title: 'import with a template-literal specifier is rejected', code: 'async () => import(`node:${"fs"}`)', expect: { kind: 'syntax', message: IMPORT_REJECTED } },
    { title: 'import split by a newline and a line comment is rejected', code: `async () => import\n// hidden\n('fs')`, expect: { kind: 'syntax', message: IMPORT_REJECTED } },
    {
      title: 'import built inside a new Function string is rejected when the function is made',
      code: `async () => Function('return imp' + 'ort("fs")')()`,
      expect: { kind: 'runtime', message: IMPORT_REJECTED },
    },
    {
      title: 'import built inside an indirect eval string is rejected',
      code: `async () => (0, eval)('imp' + 'ort("fs")')`,
      expect: { kind: 'runtime', message: IMPORT_REJECTED },
    },
    {
      title: 'import separated by an ideographic space (U+3000) is rejected',
      code: `async () => Function('return import\\u3000("fs")')()`,
      expect: { kind: 'runtime', message: IMPORT_REJECTED },
    },
    {
      title: 'import spelled with a unicode escape does not parse',
      code: String.raw`async () => Function('return im\\u0070ort("fs")')()`,
      expect: { kind: 'runtime', message: /escaped characters/ },
    },
    { title: 'import.meta is not available', code: `() => import.meta.url`, expect: { kind: 'syntax', message: /import\.meta/ } },
    {
      title: 'import.meta inside a new Function string is not available',
      code: `() => Function('return import.meta.url')()`,
      expect: { kind: 'runtime', message: /import\.meta/ },
    },
    {
      title: "a nested compartment's import-evasion option rewrites import() into a harmless call",
      code: `async () => new Compartment().evaluate('imp' + 'ort("fs")', { __evadeImportExpressionTest__: true })`,
      expect: { kind: 'runtime', message: /__import__ is not a function/ },
    },
    {
      title: "a nested compartment's importHook cannot load a builtin module",
      code: `async () => { const c = new Compartment({ __options__: true, resolveHook: (s) => s, importHook: async (s) => { throw new Error('no module ' + s) } }); return typeof (await c.import('fs')) }`,
      expect: { kind: 'runtime', message: /Failed to load module "fs"/ },
    },
  ]);
});

describe('HTML comments cannot hide code', () => {
  attacks([
    { title: 'an HTML open comment in the pattern is rejected', code: `() => { const a = 1; <!-- hidden\n return a }`, expect: { kind: 'syntax', message: HTML_REJECTED } },
    { title: 'an HTML close comment in the pattern is rejected', code: `() => {\n--> hidden\n return 1 }`, expect: { kind: 'syntax', message: HTML_REJECTED } },
    {
      title: 'an HTML open comment inside a new Function string is rejected',
      code: `() => Function('return 1 <!' + '-- hidden')()`,
      expect: { kind: 'runtime', message: HTML_REJECTED },
    },
    {
      title: 'an HTML close comment inside an indirect eval string is rejected',
      code: `() => (0, eval)('1\\n-' + '-> hidden')`,
      expect: { kind: 'runtime', message: HTML_REJECTED },
    },
    {
      title: "a nested compartment's HTML-comment evasion option turns the comment into plain code",
      code: `() => new Compartment().evaluate('1 <!' + '-- hidden', { __evadeHtmlCommentTest__: true })`,
      expect: { kind: 'runtime', message: /hidden is not defined/ },
    },
  ]);
});

describe('a pattern cannot pollute shared prototypes or intrinsics', () => {
  attacks([
    {
      title: 'writing Object.prototype throws',
      code: `() => { Object.prototype.polluted = true; return ({}).polluted }`,
      expect: { kind: 'runtime', message: /not extensible/ },
    },
    {
      title: 'replacing Array.prototype.push throws',
      code: `() => { Array.prototype.push = () => 0; return [].push(1) }`,
      expect: { kind: 'runtime', message: /read only|Cannot assign/ },
    },
    {
      title: 'replacing Function.prototype.call throws',
      code: `() => { Function.prototype.call = () => 'hijacked'; return 'replaced' }`,
      expect: { kind: 'runtime', message: /read only|Cannot assign/ },
    },
    {
      title: 'replacing Promise.prototype.then throws',
      code: `() => { Promise.prototype.then = function () { return 'hijacked' }; return 'replaced' }`,
      expect: { kind: 'runtime', message: /read only|Cannot assign/ },
    },
    {
      title: 'Object.defineProperty on the frozen JSON intrinsic throws',
      code: `() => { Object.defineProperty(JSON, 'parse', { value: () => ({ polluted: true }) }); return 'redefined' }`,
      expect: { kind: 'runtime', message: /Cannot redefine|not extensible/ },
    },
    {
      title: "swapping Array.prototype's prototype throws",
      code: `() => { Object.setPrototypeOf(Array.prototype, { polluted: true }); return [].polluted }`,
      expect: { kind: 'runtime', message: /prototype|not extensible/ },
    },
    {
      title: 'Error.prototype.toString cannot be replaced to tamper with error reports',
      code: `() => { Error.prototype.toString = () => 'forged'; return String(new Error('x')) }`,
      expect: { kind: 'runtime', message: /read only|Cannot assign/ },
    },
    {
      title: 'a "__proto__" key in the input is an own key, not a prototype',
      input: JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'),
      code: `(i) => ({ keys: Object.keys(i), protoIsObject: Object.getPrototypeOf(i) === Object.prototype, polluted: typeof i.polluted, fresh: typeof ({}).polluted })`,
      expect: { output: { keys: ['__proto__', 'a'], protoIsObject: true, polluted: 'undefined', fresh: 'undefined' } },
    },
  ]);

  it('a "__proto__" key in the output arrives as data, without touching any prototype of the host', async () => {
    const outcome = await contained({
      title: '__proto__ in output',
      code: `() => JSON.parse('{"__proto__": {"polluted": true}, "b": 2}')`,
      expect: { output: JSON.parse('{"__proto__": {"polluted": true}, "b": 2}') },
    });
    const output = (outcome as { output: Record<string, unknown> }).output;
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
    expect(Object.keys(output)).toEqual(['__proto__', 'b']);
    expect(JSON.stringify(output)).toBe('{"__proto__":{"polluted":true},"b":2}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('time, randomness and timers', () => {
  attacks([
    { title: 'setTimeout is not available', code: `() => setTimeout(() => {}, 0)`, expect: { kind: 'runtime', message: /setTimeout is not a function/ } },
    { title: 'setInterval is not available', code: `() => setInterval(() => {}, 1)`, expect: { kind: 'runtime', message: /setInterval is not a function/ } },
    { title: 'setImmediate is not available', code: `() => setImmediate(() => {})`, expect: { kind: 'runtime', message: /setImmediate is not a function/ } },
    { title: 'queueMicrotask is not available', code: `() => queueMicrotask(() => {})`, expect: { kind: 'runtime', message: /queueMicrotask is not a function/ } },
    { title: 'Date.now() throws in the sandbox', code: `() => Date.now()`, expect: { kind: 'runtime', message: /secure mode/ } },
    { title: 'new Date() without arguments throws in the sandbox', code: `() => new Date().toISOString()`, expect: { kind: 'runtime', message: /secure mode/ } },
    { title: 'Math.random() throws in the sandbox', code: `() => Math.random()`, expect: { kind: 'runtime', message: /secure mode/ } },
  ]);

  it('ctx.now and ctx.random are the sanctioned clock and random source, and they work', async () => {
    await contained({
      title: 'ctx.now / ctx.random',
      input: { hostNow: Date.now() },
      code: `(i, ctx) => {
        const r = Array.from({ length: 20 }, () => ctx.random());
        return { nowNear: Math.abs(ctx.now() - i.hostNow) < 60000, inRange: r.every((x) => typeof x === 'number' && x >= 0 && x < 1), distinct: new Set(r).size === 20 };
      }`,
      expect: { output: { nowNear: true, inRange: true, distinct: true } },
    });
  });
});

describe('shared memory, Atomics and WebAssembly are absent', () => {
  attacks([
    {
      title: 'SharedArrayBuffer, Atomics, WebAssembly, FinalizationRegistry and WeakRef are undefined',
      code: `() => [typeof SharedArrayBuffer, typeof Atomics, typeof WebAssembly, typeof FinalizationRegistry, typeof WeakRef]`,
      expect: { output: ['undefined', 'undefined', 'undefined', 'undefined', 'undefined'] },
    },
    {
      title: 'Atomics.wait cannot block the thread',
      code: `() => Atomics.wait(new Int32Array(4), 0, 0, 60000)`,
      expect: { kind: 'runtime', message: /reading 'wait'/ },
    },
    {
      title: 'new SharedArrayBuffer cannot be constructed',
      code: `() => new SharedArrayBuffer(8)`,
      expect: { kind: 'runtime', message: /SharedArrayBuffer is not a constructor/ },
    },
    {
      title: 'a SharedArrayBuffer cannot be had through a shared WebAssembly.Memory',
      code: `() => new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer`,
      expect: { kind: 'runtime', message: /reading 'Memory'/ },
    },
    {
      title: 'structuredClone is not available',
      code: `() => structuredClone({ a: 1 })`,
      expect: { kind: 'runtime', message: /structuredClone is not a function/ },
    },
  ]);
});

describe('stack traces reveal nothing of the host', () => {
  attacks([
    {
      title: 'new Error().stack carries no host file paths',
      code: `() => { const s = new Error('x').stack; return typeof s === 'string' && !/\\/work\\/|node_modules|file:|thread\\.js/.test(s) }`,
      expect: { output: true },
    },
    {
      title: 'Error.prepareStackTrace cannot be used to read call sites',
      code: `() => {
        Error.prepareStackTrace = (e, frames) => frames.map((f) => [f.getFileName(), typeof f.getThis(), typeof f.getFunction()]);
        const s = new Error('x').stack;
        return [typeof s, Array.isArray(s), Error.prepareStackTrace(), JSON.stringify(s).length < 50];
      }`,
      expect: { output: ['string', false, '', true] },
    },
    {
      title: 'Error.captureStackTrace gives an empty stack',
      code: `() => { const o = {}; Error.captureStackTrace(o); return o.stack }`,
      expect: { output: '' },
    },
    {
      title: "an engine TypeError's stack is empty",
      code: `() => { try { null.x } catch (e) { return [e.stack, e.message] } }`,
      expect: { output: ['', "Cannot read properties of null (reading 'x')"] },
    },
    {
      title: 'Error.stackTraceLimit cannot be raised',
      code: `() => { Error.stackTraceLimit = Infinity; return typeof Error.stackTraceLimit }`,
      expect: { output: 'undefined' },
    },
    {
      title: "an error made by the host side of ctx has an empty stack",
      code: `async (i, ctx) => { try { await ctx.outbound.send('x', 1) } catch (e) { return [e.message, e.stack] } }`,
      expect: { output: ['outbound sending is not available here', ''] },
    },
  ]);
});

describe('returned values are copied as plain data, never trusted', () => {
  attacks([
    {
      title: 'a returned Promise subclass with a hostile Symbol.species still yields its value',
      code: `() => { class P extends Promise { static get [Symbol.species]() { return Promise } } return P.resolve(5) }`,
      expect: { output: 5 },
    },
    {
      title: 'a returned Array subclass with a hostile Symbol.species arrives as a plain array',
      code: `() => { class A extends Array { static get [Symbol.species]() { throw new Error('species used') } } return A.of(1, 2, 3) }`,
      expect: { output: [1, 2, 3] },
    },
    { title: 'a returned getter is refused, never called', code: `() => ({ get x() { for (;;); } })`, expect: { kind: 'output', message: /getter/ } },
    {
      title: 'a getter on an array index is refused, never called',
      code: `() => { const a = [1]; Object.defineProperty(a, 0, { get() { for (;;); }, enumerable: true }); return a }`,
      expect: { kind: 'output', message: /getter/ },
    },
    { title: 'a returned function is refused', code: `() => () => 1`, expect: { kind: 'output', message: /function/ } },
    { title: 'a returned class instance is refused', code: `() => new (class Secret { constructor() { this.a = 1 } })()`, expect: { kind: 'output', message: /not a plain object/ } },
    { title: 'a returned symbol is refused', code: `() => ({ s: Symbol('x') })`, expect: { kind: 'output', message: /symbol/ } },
    { title: 'a returned BigInt is refused', code: `() => [1n]`, expect: { kind: 'output', message: /bigint/ } },
    { title: 'a returned NaN is refused', code: `() => ({ a: NaN })`, expect: { kind: 'output', message: /NaN/ } },
    { title: 'a returned cycle is refused', code: `() => { const a = {}; a.self = a; return a }`, expect: { kind: 'output', message: /refers back to itself/ } },
    { title: 'a returned 100-level nesting is refused', code: `() => { let a = {}; for (let k = 0; k < 100; k++) a = { a }; return a }`, expect: { kind: 'output', message: /deeper than 64/ } },
    { title: 'a returned toJSON method is refused rather than called', code: `() => ({ a: 1, toJSON() { for (;;); } })`, expect: { kind: 'output', message: /function/ } },
    { title: 'a returned symbol-keyed object is refused', code: `() => ({ [Symbol.iterator]: 1 })`, expect: { kind: 'output', message: /symbol key/ } },
    { title: 'a huge output is refused', code: `() => 'x'.repeat(300 * 1024)`, expect: { kind: 'output', message: /larger than/ } },
    {
      title: 'an array claiming 2**32-1 elements is refused at once, not walked',
      code: `() => { const a = []; a.length = 2 ** 32 - 1; return a }`,
      expect: { kind: 'output', message: /larger than/ },
    },
    {
      title: 'a returned proxy whose traps throw is a runtime error',
      code: `() => new Proxy({}, { ownKeys() { throw new Error('trap') }, getPrototypeOf() { return Object.prototype } })`,
      expect: { kind: 'runtime', message: /trap/ },
    },
    {
      title: 'a revoked proxy returned as output is a runtime error',
      code: `() => { const r = Proxy.revocable([], {}); r.revoke(); return r.proxy }`,
      expect: { kind: 'runtime', message: /revoked/ },
    },
    {
      title: 'a returned never-settling thenable times out',
      code: `() => ({ then() {} })`,
      timeoutMs: STOP,
      expect: { kind: 'timeout' },
    },
    {
      title: 'a hostile then that resolves, rejects and throws settles once, with its first value',
      code: `() => ({ then(resolve, reject) { resolve({ a: 1 }); reject(new Error('late')); throw new Error('after') } })`,
      expect: { output: { a: 1 } },
    },
    {
      title: 'a thenable whose then getter throws is a runtime error',
      code: `() => ({ get then() { throw new Error('then getter') } })`,
      expect: { kind: 'runtime', message: /then getter/ },
    },
  ]);

  it('a returned proxy that lies about its shape arrives as a plain copy, not a proxy', async () => {
    const outcome = await contained({
      title: 'lying proxy',
      code: `() => new Proxy({}, {
        getPrototypeOf: () => Object.prototype,
        ownKeys: () => ['a'],
        getOwnPropertyDescriptor: () => ({ value: { nested: 1 }, enumerable: true, configurable: true, writable: true }),
      })`,
      expect: { output: { a: { nested: 1 } } },
    });
    const output = (outcome as { output: { a: unknown } }).output;
    expect(types.isProxy(output)).toBe(false);
    expect(types.isProxy(output.a)).toBe(false);
  });
});

describe('hostile values in logs and thrown errors', () => {
  attacks([
    {
      title: 'a logged value whose toJSON never returns is stopped by the timeout',
      code: `(i, ctx) => { ctx.log({ toJSON() { for (;;); } }); return 'logged' }`,
      timeoutMs: STOP,
      expect: { kind: 'timeout' },
    },
    {
      title: 'a thrown object whose name getter never returns is stopped by the timeout',
      code: `() => { throw { get name() { for (;;); } } }`,
      timeoutMs: STOP,
      expect: { kind: 'timeout' },
    },
    {
      title: 'a thrown error whose message getter throws is reported with a generic message',
      code: `() => { const e = new Error('m'); Object.defineProperty(e, 'message', { get() { throw new Error('gotcha') } }); throw e }`,
      expect: { kind: 'runtime', message: /^Error: pattern threw a value that is not an Error$/ },
    },
    {
      title: "a thrown error's hostile toString and valueOf are never called",
      code: `() => { const e = new Error('plain'); e.toString = () => { for (;;); }; e.valueOf = () => { for (;;); }; throw e }`,
      expect: { kind: 'runtime', message: /^Error: plain$/ },
    },
    {
      title: 'a thrown proxy whose get trap throws is reported, not trusted',
      code: `() => { throw new Proxy({}, { get() { throw new Error('trap') } }) }`,
      expect: { kind: 'runtime', message: /not an Error/ },
    },
    {
      title: 'a thrown proxy whose getPrototypeOf trap throws is reported as a runtime error',
      code: `() => { throw new Proxy({}, { getPrototypeOf() { throw new Error('trap') } }) }`,
      expect: { kind: 'runtime' },
    },
    {
      title: 'a thrown revoked proxy is reported as a runtime error',
      code: `() => { const r = Proxy.revocable({}, {}); r.revoke(); throw r.proxy }`,
      expect: { kind: 'runtime' },
    },
    { title: 'a thrown symbol is reported as text', code: `() => { throw Symbol('s') }`, expect: { kind: 'runtime', message: /pattern threw Symbol\(s\)/ } },
    {
      title: 'a thrown 100 KB string is cut short in the report',
      code: `() => { throw 'x'.repeat(100000) }`,
      expect: { kind: 'runtime', message: /^Error: pattern threw x{200}…$/ },
    },
  ]);

  it('a logged value whose toJSON returns a megabyte is cut to one 2000-character line', async () => {
    const outcome = await contained({
      title: 'huge log line',
      code: `(i, ctx) => { ctx.log({ toJSON() { return 'q'.repeat(1e6) } }); console.log('z'.repeat(1e5)); return 'logged' }`,
      expect: { output: 'logged' },
    });
    expect(outcome.logs.map((l) => l.length)).toEqual([2001, 2001]);
  });

  it('a flood of log lines is truncated, and the run still succeeds', async () => {
    const outcome = await contained({
      title: 'log flood',
      code: `(i, ctx) => { for (let k = 0; k < 100000; k++) ctx.log('line ' + k); return 'done' }`,
      expect: { output: 'done' },
    });
    expect(outcome.ok && outcome.logsTruncated).toBe(true);
    expect(outcome.logs).toHaveLength(200);
  });

  it('a logged value with an unprintable toJSON is logged as unprintable', async () => {
    const outcome = await contained({
      title: 'unprintable',
      code: `(i, ctx) => { ctx.log({ toJSON() { throw new Error('a') }, toString() { throw new Error('b') } }); return 1 }`,
      expect: { output: 1 },
    });
    expect(outcome.logs).toEqual(['[unprintable object]']);
  });
});

describe('ctx gives no way back to the host', () => {
  attacks([
    {
      title: 'ctx.log.constructor cannot make a host function',
      code: `(i, ctx) => ${PWN}(ctx.log.constructor('return process')())`,
      expect: { kind: 'runtime', message: NOT_A_CONSTRUCTOR },
    },
    {
      title: "ctx.outbound.send.constructor('return process') cannot make a host function",
      code: `(i, ctx) => ${PWN}(ctx.outbound.send.constructor('return process')())`,
      expect: { kind: 'runtime', message: NOT_A_CONSTRUCTOR },
    },
    {
      title: "ctx's prototype is the shared, frozen Object.prototype and ctx is frozen",
      code: `(i, ctx) => [Object.getPrototypeOf(ctx) === Object.prototype, Object.isFrozen(ctx), Object.isFrozen(ctx.outbound), Object.isFrozen(ctx.log), Object.getPrototypeOf(ctx.log) === Function.prototype]`,
      expect: { output: [true, true, true, true, true] },
    },
    {
      title: 'assigning to ctx throws',
      code: `(i, ctx) => { ctx.now = () => 0; return 'mutated' }`,
      expect: { kind: 'runtime', message: /read only/ },
    },
    {
      title: 'Reflect cannot define, delete, re-prototype or set on ctx',
      code: `(i, ctx) => [Reflect.defineProperty(ctx, 'log', { value: 1 }), Reflect.deleteProperty(ctx, 'now'), Reflect.setPrototypeOf(ctx, null), Reflect.set(ctx.outbound, 'send', 1)]`,
      expect: { output: [false, false, false, false] },
    },
    {
      title: 'a Proxy over ctx cannot lie about its frozen properties',
      code: `(i, ctx) => new Proxy(ctx, { get: () => 'forged' }).log`,
      expect: { kind: 'runtime', message: /proxy/ },
    },
    {
      title: 'ctx.previous is frozen',
      code: `(i, ctx) => { ctx.previous.injected = true; return 'mutated' }`,
      expect: { kind: 'runtime', message: /not extensible/ },
    },
    {
      title: "the rejection of ctx.outbound.send (bad payload) leads to no host function through its constructor",
      code: `async (i, ctx) => { try { await ctx.outbound.send('x', () => 1) } catch (e) { return ${PWN}(e.constructor.constructor('return process')()) } }`,
      expect: { kind: 'runtime', message: NOT_A_CONSTRUCTOR },
    },
    {
      title: 'the rejection of ctx.outbound.send has shared intrinsics on its __proto__ chain and an empty stack',
      code: `async (i, ctx) => {
        try { await ctx.outbound.send('x', { get a() { return 1 } }) } catch (e) {
          return [e instanceof TypeError, e.__proto__ === TypeError.prototype, e.__proto__.__proto__ === Error.prototype, e.constructor === TypeError, e.stack, /getter/.test(e.message)];
        }
      }`,
      expect: { output: [true, true, true, true, '', true] },
    },
    {
      title: 'a non-string channel is refused with a plain error',
      code: `async (i, ctx) => { try { await ctx.outbound.send({ toString() { for (;;); } }, 1) } catch (e) { return e.message } }`,
      expect: { output: 'ctx.outbound.send(channel, payload): channel must be a string' },
    },
  ]);

  it("a host error from onOutbound reaches the pattern as a message only, none of the host error's properties", async () => {
    await contained(
      {
        title: 'host error',
        code: `async (i, ctx) => { try { await ctx.outbound.send('x', 1) } catch (e) { return { message: e.message, keys: Object.keys(e), secret: typeof e.secret, isError: e instanceof Error } } }`,
        expect: { output: { message: 'refused', keys: [], secret: 'undefined', isError: true } },
      },
      {
        onOutbound: async () => {
          throw Object.assign(new Error('refused'), { secret: process.env, host: globalThis });
        },
      },
    );
  });

  it('a reply from onOutbound is a frozen copy', async () => {
    const reply = { items: [1, 2] };
    await contained(
      {
        title: 'reply copy',
        code: `async (i, ctx) => { const r = await ctx.outbound.send('x', 1); try { r.items.push(3) } catch {} return [r, Object.isFrozen(r), Object.isFrozen(r.items)] }`,
        expect: { output: [{ items: [1, 2] }, true, true] },
      },
      { onOutbound: async () => reply },
    );
    expect(reply).toEqual({ items: [1, 2] });
  });

  it('ctx.outbound.send left behind after the run ends never reaches the host', async () => {
    let calls = 0;
    await contained(
      {
        title: 'late send',
        code: `(i, ctx) => {
          const later = (n, f) => (n ? Promise.resolve().then(() => later(n - 1, f)) : f());
          later(5, () => ctx.outbound.send('late', 1).catch(() => {}));
          return 'returned';
        }`,
        expect: { output: 'returned' },
      },
      { onOutbound: async () => void calls++ },
    );
    await sleep(100);
    expect(calls).toBe(0);
  });

  it('a flood of ctx.outbound.send is stopped, and the host hears nothing from it after the run ends', async () => {
    let calls = 0;
    let ended = false;
    let afterEnd = 0;
    await contained(
      { title: 'send flood', code: `(i, ctx) => { for (;;) ctx.outbound.send('spam', 'y'.repeat(1000)) }`, timeoutMs: STOP, expect: { kind: ['timeout', 'memory'] } },
      {
        onOutbound: async () => {
          calls++;
          if (ended) afterEnd++;
          return null;
        },
      },
    );
    ended = true;
    await sleep(200);
    expect(calls).toBeGreaterThan(0);
    expect(afterEnd).toBe(0);
  });
});

describe('endless work is stopped', () => {
  attacks([
    { title: 'for(;;); times out', code: `() => { for (;;); }`, timeoutMs: STOP, expect: { kind: 'timeout' } },
    { title: 'while (true) await null times out', code: `async () => { while (true) await null }`, timeoutMs: STOP, expect: { kind: 'timeout' } },
    { title: 'endless recursion through promises times out', code: `async () => { const f = () => Promise.resolve().then(f); return f() }`, timeoutMs: STOP, expect: { kind: 'timeout' } },
    { title: 'a catastrophic regular expression times out', code: `() => /(a+)+$/.test('a'.repeat(40) + 'b')`, timeoutMs: STOP, expect: { kind: 'timeout' } },
    { title: 'deep recursion is a contained stack overflow', code: `() => { const f = (n) => f(n + 1) + 1; return f(0) }`, expect: { kind: 'runtime', message: /Maximum call stack size exceeded/ } },
    {
      title: 'deep async recursion is a contained stack overflow',
      code: `async () => { const f = async (n) => f(n + 1); return f(0) }`,
      expect: { kind: 'runtime', message: /Maximum call stack size exceeded/ },
    },
    {
      title: "a caught stack overflow's stack is empty",
      code: `() => { const f = (n) => f(n + 1) + 1; try { f(0) } catch (e) { return [e instanceof RangeError, e.stack] } }`,
      expect: { output: [true, ''] },
    },
    { title: 'a stray unhandled rejection does not kill the pool', code: `async () => { Promise.reject(new Error('stray')); return 'returned' }`, expect: { output: 'returned' } },
  ]);

  it('an unhandled rejection with a hostile toJSON, noticed while the run waits, is stopped by the timeout', async () => {
    await contained(
      {
        title: 'hostile rejection',
        code: `async (i, ctx) => { Promise.reject({ toJSON() { for (;;); } }); await ctx.outbound.send('wait', 1); return 'returned' }`,
        timeoutMs: 600,
        expect: { kind: 'timeout' },
      },
      { onOutbound: () => sleep(100).then(() => 'ok') },
    );
  });

  it('a microtask flood left behind after returning does not block the next run, and its thread is replaced', async () => {
    await allThreadsIdle(pool);
    const replaced = pool.stats().replaced;
    const before = snapshotHost(traps);
    const flood = await attempt(pool, { code: `() => { const again = () => Promise.resolve().then(again); again(); return 'returned' }` });
    expectOutcome(flood, { output: 'returned' });
    // Served at once, by the other thread, while the flooding one never reports ready.
    const next = await attempt(pool, { code: '(i) => i * 2', input: 21, timeoutMs: 1000 });
    expectOutcome(next, { output: 42 });
    expect(await eventually(() => pool.stats().replaced > replaced, 3000)).toBe(true);
    await expectHostUnaffectedAndPoolServing(pool, traps, before);
  });

  it('an endless loop left in a microtask after returning gets its thread replaced', async () => {
    await allThreadsIdle(pool);
    const replaced = pool.stats().replaced;
    const before = snapshotHost(traps);
    const outcome = await attempt(pool, {
      code: `() => { const later = (n, f) => (n ? Promise.resolve().then(() => later(n - 1, f)) : f()); later(5, () => { for (;;); }); return 'returned' }`,
    });
    expectOutcome(outcome, { output: 'returned' });
    expect(await eventually(() => pool.stats().replaced > replaced, 3000)).toBe(true);
    await expectHostUnaffectedAndPoolServing(pool, traps, before);
  });

  it('cancelling through an AbortSignal stops a looping run', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = performance.now();
    await contained({ title: 'cancel', code: `() => { for (;;); }`, timeoutMs: 30_000, expect: { kind: 'cancelled' } }, { signal: controller.signal });
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('memory is capped', () => {
  // First in this block: the bombs below leave freed memory in the process
  // that later allocations reuse without raising RSS, which would blur the peak.
  it('memory allocated by leftover microtasks after returning is capped too', async () => {
    await allThreadsIdle(pool);
    const before = snapshotHost(traps);
    const replaced = pool.stats().replaced;
    const start = process.memoryUsage.rss();
    let peak = start;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    const code = `() => {
      const later = (n, f) => (n ? Promise.resolve().then(() => later(n - 1, f)) : f());
      later(5, () => { const keep = []; for (;;) keep.push(new Uint8Array(1 << 24).fill(1)) });
      return 'returned';
    }`;
    try {
      const outcomes = await Promise.all([attempt(pool, { code }), attempt(pool, { code })]);
      for (const o of outcomes) expectOutcome(o, { output: 'returned' });
      expect(await eventually(() => pool.stats().replaced >= replaced + 2, 5000)).toBe(true);
    } finally {
      clearInterval(sampler);
    }
    // Allowance for two threads: 2 × (2 × 48) + 128 = 320 MiB. Without the
    // watchdog the two threads reach ~600 MiB before the 1 s drain limit.
    expect((peak - start) / 2 ** 20).toBeLessThan(480);
    await expectHostUnaffectedAndPoolServing(pool, traps, before);
  });

  attacks([
    {
      title: 'a heap bomb is stopped at the memory limit',
      code: `() => { const a = []; for (;;) a.push({ n: a.length, s: 'z' + a.length }) }`,
      timeoutMs: 15_000,
      expect: { kind: 'memory' },
    },
    { title: 'a 2 GiB typed array bomb is stopped at the memory limit', code: `() => new Uint8Array(2 ** 31).fill(1).length`, timeoutMs: 15_000, expect: { kind: 'memory' } },
    {
      title: 'many 16 MiB ArrayBuffers are stopped at the memory limit',
      code: `() => { const keep = []; for (;;) keep.push(new ArrayBuffer(1 << 24)) && new Uint8Array(keep[keep.length - 1]).fill(1) }`,
      timeoutMs: 15_000,
      expect: { kind: 'memory' },
    },
    { title: 'string doubling is a contained error', code: `() => { let s = 'x'; for (;;) s += s }`, timeoutMs: 15_000, expect: { kind: ['runtime', 'memory'], message: /Invalid string length|memory/ } },
  ]);
});

describe('host globals and escape hatches are absent', () => {
  it.each(['process', 'require', 'module', 'exports', 'Buffer', 'fetch', 'XMLHttpRequest', 'WebSocket', 'global', '__dirname', 'performance', 'navigator'])(
    'the host global %s is undefined in a pattern',
    (name) => contained({ title: name, code: `() => [typeof ${name}, typeof globalThis[${JSON.stringify(name)}]]`, expect: { output: ['undefined', 'undefined'] } }).then(() => undefined),
  );

  attacks([
    { title: 'globalThis.process cannot be used to write a file', code: `() => ${PWN}(globalThis.process)`, expect: { kind: 'runtime', message: /reading 'env'/ } },
    { title: "require('fs') cannot be called", code: `() => require('fs').writeFileSync(${JSON.stringify(traps.marker)}, 'x')`, expect: { kind: 'runtime', message: /require is not a function/ } },
    {
      title: 'arguments.callee.caller is refused',
      code: `function () { return ${PWN}(arguments.callee.caller) }`,
      expect: { kind: 'runtime', message: /'caller', 'callee', and 'arguments' properties may not be accessed/ },
    },
    {
      title: 'Function.prototype.caller and .arguments are gone',
      code: `function f() { return [typeof f.caller, typeof f.arguments, 'caller' in Function.prototype, 'arguments' in Function.prototype] }`,
      expect: { output: ['undefined', 'undefined', false, false] },
    },
    { title: "a pattern has no sloppy 'this'", code: `function () { return typeof this }`, expect: { output: 'undefined' } },
    { title: 'lockdown cannot be run again from inside', code: `() => { lockdown({ errorTaming: 'unsafe' }); return 'relocked' }`, expect: { kind: 'runtime', message: /Already locked down/ } },
    {
      title: 'a nested Compartment given the whole global gains nothing',
      code: `() => new Compartment({ __options__: true, globals: { g: globalThis } }).evaluate('[typeof g.process, typeof g.require, typeof process]')`,
      expect: { output: ['undefined', 'undefined', 'undefined'] },
    },
    {
      title: 'harden on the pattern global only freezes its own compartment',
      code: `() => { harden(globalThis); try { globalThis.x = 1 } catch (e) { return e instanceof TypeError } return 'not frozen' }`,
      expect: { output: true },
    },
  ]);
});

describe('runs never see each other', () => {
  /** Runs `first` on both threads, then `second` on both threads (no thread replaced between). */
  async function acrossBothThreads(first: string, second: string) {
    await allThreadsIdle(pool);
    const replaced = pool.stats().replaced;
    const a = await Promise.all([attempt(pool, { code: first }), attempt(pool, { code: first })]);
    await allThreadsIdle(pool);
    const b = await Promise.all([attempt(pool, { code: second }), attempt(pool, { code: second })]);
    expect(pool.stats().replaced).toBe(replaced);
    return { a, b };
  }

  it('a global written by one run is gone in the next, on the same thread', async () => {
    const before = snapshotHost(traps);
    const { a, b } = await acrossBothThreads(`() => { globalThis.leak = 'secret'; return typeof globalThis.leak }`, `() => typeof globalThis.leak`);
    for (const o of a) expectOutcome(o, { output: 'string' });
    for (const o of b) expectOutcome(o, { output: 'undefined' });
    await expectHostUnaffectedAndPoolServing(pool, traps, before);
  });

  it('module-level state in a pattern (a closure made when the code is evaluated) starts fresh on every run', async () => {
    const before = snapshotHost(traps);
    const code = `(() => { var runs = 0; return () => ++runs })()`;
    const { a, b } = await acrossBothThreads(code, code);
    for (const o of [...a, ...b]) expectOutcome(o, { output: 1 });
    await expectHostUnaffectedAndPoolServing(pool, traps, before);
  });

  it('Error.prepareStackTrace and Error.stackTraceLimit set by one run do not reach the next', async () => {
    const before = snapshotHost(traps);
    const { a, b } = await acrossBothThreads(
      `() => { Error.prepareStackTrace = () => 'from the previous run'; Error.stackTraceLimit = 1; return 'set' }`,
      `() => [new Error('x').stack, Error.prepareStackTrace(), typeof Error.stackTraceLimit]`,
    );
    for (const o of a) expectOutcome(o, { output: 'set' });
    for (const o of b) expectOutcome(o, { output: ['', '', 'undefined'] });
    await expectHostUnaffectedAndPoolServing(pool, traps, before);
  });

  it('a sloppy-mode global made in a nested compartment does not reach the next run', async () => {
    const before = snapshotHost(traps);
    const { a, b } = await acrossBothThreads(
      `() => new Compartment().evaluate('leaked = 1; typeof leaked', { sloppyGlobalsMode: true })`,
      `() => [typeof leaked, typeof globalThis.leaked]`,
    );
    for (const o of a) expectOutcome(o, { output: 'number' });
    for (const o of b) expectOutcome(o, { output: ['undefined', 'undefined'] });
    await expectHostUnaffectedAndPoolServing(pool, traps, before);
  });
});

describe('the input is frozen', () => {
  it("mutating the input throws and the host's copy is unchanged", async () => {
    const input = { a: { b: [1] } };
    await contained({ title: 'push', input, code: `(i) => { i.a.b.push(2); return i }`, expect: { kind: 'runtime', message: /not extensible|Cannot add property/ } });
    await contained({ title: 'delete', input, code: `(i) => { delete i.a; return i }`, expect: { kind: 'runtime', message: /Cannot delete/ } });
    await contained({ title: 'frozen', input, code: `(i) => [Object.isFrozen(i), Object.isFrozen(i.a), Object.isFrozen(i.a.b)]`, expect: { output: [true, true, true] } });
    expect(input).toEqual({ a: { b: [1] } });
  });
});

describe('checking code never runs it', () => {
  it('check accepts a pattern whose body would loop forever or escape, without running it', async () => {
    const before = snapshotHost(traps);
    const started = performance.now();
    expect(await pool.check(`async (input, ctx) => { ${PWN}(globalThis.process); for (;;); }`)).toEqual({ ok: true });
    expect(performance.now() - started).toBeLessThan(2000);
    await expectHostUnaffectedAndPoolServing(pool, traps, before);
  });

  it('check refuses dynamic import and code that is more than one function', async () => {
    const before = snapshotHost(traps);
    expect(await pool.check(`async () => import('fs')`)).toMatchObject({ ok: false, message: expect.stringMatching(IMPORT_REJECTED) });
    expect(await pool.check(`globalThis.x = 1; () => 1`)).toMatchObject({ ok: false, message: expect.stringMatching(/exactly one function/) });
    expect(await pool.check(`() => 1 <!-- hidden`)).toMatchObject({ ok: false });
    await expectHostUnaffectedAndPoolServing(pool, traps, before);
  });
});

it('the host-path pattern that every outcome is checked against does recognise host paths', () => {
  expect('/work/main/activities/sandbox/thread.js').toMatch(HOST_PATHS);
  expect('file:///x/node_modules/ses/index.js').toMatch(HOST_PATHS);
});

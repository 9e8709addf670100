// Attacks through the values a pattern hands back: returned getters,
// proxies, thenables, functions and species, hostile toString/valueOf/toJSON
// in thrown errors and logs, and the output and log limits. Each attempt is
// checked three ways (see useSandbox in ./helpers): contained, host
// unaffected, pool still serving.
import { types } from 'node:util';
import { describe, expect, it } from 'vitest';
import { HOST_PATHS, STOP, useSandbox } from './helpers';

const { contained, attacks } = useSandbox();

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

it('the host-path pattern that every outcome is checked against does recognise host paths', () => {
  expect('/work/main/activities/sandbox/thread.js').toMatch(HOST_PATHS);
  expect('file:///x/node_modules/ses/index.js').toMatch(HOST_PATHS);
});

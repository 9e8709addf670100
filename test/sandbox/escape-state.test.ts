// Attacks on state the sandbox shares or hands over: prototype pollution,
// stack inspection, host objects reached through ctx and its errors, globals
// carried from one run to the next, and the frozen input. Each attempt is
// checked three ways (see useSandbox in ./helpers): contained, host
// unaffected, pool still serving.
import { describe, expect, it } from 'vitest';
import {
  NOT_A_CONSTRUCTOR, STOP, allThreadsIdle, attempt, eventually, expectHostUnaffectedAndPoolServing, expectOutcome, snapshotHost, useSandbox, watchThreadExits, withPoolClock,
} from './helpers';

const sandbox = useSandbox();
const { traps, PWN, contained, attacks } = sandbox;

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
    // Its thread has reported ready again, which it does only after the
    // leftover microtasks ran: whatever they posted has reached the host.
    await allThreadsIdle(sandbox.pool);
    expect(calls).toBe(0);
  });

  it('a flood of ctx.outbound.send is stopped, and the host hears nothing from it after the run ends', async () => {
    await allThreadsIdle(sandbox.pool);
    const before = snapshotHost(traps);
    const exits = watchThreadExits(sandbox.pool);
    let calls = 0;
    let ended = false;
    let afterEnd = 0;
    // The pool's clock is held until the flood has reached the host, so the
    // run cannot end (by its timeout or the memory watchdog) before it has.
    await withPoolClock(async (clock) => {
      const run = attempt(sandbox.pool, {
        code: `(i, ctx) => { for (;;) ctx.outbound.send('spam', 'y'.repeat(1000)) }`,
        timeoutMs: STOP,
        onOutbound: async () => {
          calls++;
          if (ended) afterEnd++;
          return null;
        },
      });
      expect(await eventually(() => calls > 0, 15_000), 'the flood never reached the host').toBe(true);
      // Its time is up: the timeout stops it, or the watchdog first if the
      // queued messages have taken the process over its memory allowance.
      clock.advance(STOP);
      ended = true;
      expectOutcome(await run, { kind: ['timeout', 'memory'] });
    });
    // Once the stopped thread has exited, every message it posted has been delivered.
    await exits.replacedExited();
    expect(afterEnd).toBe(0);
    await expectHostUnaffectedAndPoolServing(sandbox.pool, traps, before);
  });
});

describe('runs never see each other', () => {
  /**
   * Runs `first` on both threads, then `second` on both threads (no thread
   * replaced between). The pool's clock is held meanwhile: a thread slow to
   * report ready (a loaded machine) cannot meet the 1 s drain limit and be
   * replaced, so only the pool itself could replace one, and that fails the test.
   */
  async function acrossBothThreads(first: string, second: string) {
    await allThreadsIdle(sandbox.pool);
    const replaced = sandbox.pool.stats().replaced;
    return withPoolClock(async () => {
      const a = await Promise.all([attempt(sandbox.pool, { code: first }), attempt(sandbox.pool, { code: first })]);
      await allThreadsIdle(sandbox.pool);
      const b = await Promise.all([attempt(sandbox.pool, { code: second }), attempt(sandbox.pool, { code: second })]);
      await allThreadsIdle(sandbox.pool);
      expect(sandbox.pool.stats().replaced).toBe(replaced);
      return { a, b };
    });
  }

  it('a global written by one run is gone in the next, on the same thread', async () => {
    const before = snapshotHost(traps);
    const { a, b } = await acrossBothThreads(`() => { globalThis.leak = 'secret'; return typeof globalThis.leak }`, `() => typeof globalThis.leak`);
    for (const o of a) expectOutcome(o, { output: 'string' });
    for (const o of b) expectOutcome(o, { output: 'undefined' });
    await expectHostUnaffectedAndPoolServing(sandbox.pool, traps, before);
  });

  it('module-level state in a pattern (a closure made when the code is evaluated) starts fresh on every run', async () => {
    const before = snapshotHost(traps);
    const code = `(() => { var runs = 0; return () => ++runs })()`;
    const { a, b } = await acrossBothThreads(code, code);
    for (const o of [...a, ...b]) expectOutcome(o, { output: 1 });
    await expectHostUnaffectedAndPoolServing(sandbox.pool, traps, before);
  });

  it('Error.prepareStackTrace and Error.stackTraceLimit set by one run do not reach the next', async () => {
    const before = snapshotHost(traps);
    const { a, b } = await acrossBothThreads(
      `() => { Error.prepareStackTrace = () => 'from the previous run'; Error.stackTraceLimit = 1; return 'set' }`,
      `() => [new Error('x').stack, Error.prepareStackTrace(), typeof Error.stackTraceLimit]`,
    );
    for (const o of a) expectOutcome(o, { output: 'set' });
    for (const o of b) expectOutcome(o, { output: ['', '', 'undefined'] });
    await expectHostUnaffectedAndPoolServing(sandbox.pool, traps, before);
  });

  it('a sloppy-mode global made in a nested compartment does not reach the next run', async () => {
    const before = snapshotHost(traps);
    const { a, b } = await acrossBothThreads(
      `() => new Compartment().evaluate('leaked = 1; typeof leaked', { sloppyGlobalsMode: true })`,
      `() => [typeof leaked, typeof globalThis.leaked]`,
    );
    for (const o of a) expectOutcome(o, { output: 'number' });
    for (const o of b) expectOutcome(o, { output: ['undefined', 'undefined'] });
    await expectHostUnaffectedAndPoolServing(sandbox.pool, traps, before);
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

// Attacks on time and memory: absent timers, clocks and shared memory,
// endless work (sync and async loops, microtask floods, recursion, regular
// expressions, unhandled rejections, cancellation) and memory bombs. Each
// attempt is checked three ways (see useSandbox in ./helpers): contained,
// host unaffected, pool still serving. The memory tests stay in this file,
// where nothing else runs on the pool meanwhile: the watchdog measures this
// process's RSS against an allowance based on the busy threads.
import { describe, expect, it } from 'vitest';
import {
  BOMB, STOP, WATCHDOG_TICK_MS, allThreadsIdle, attempt, eventually, expectHostUnaffectedAndPoolServing, expectOutcome, memoryAllowance, snapshotHost, threadStates,
  useSandbox, withPoolClock,
} from './helpers';

const sandbox = useSandbox();
const { traps, contained, attacks } = sandbox;

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

describe('endless work is stopped', () => {
  attacks([
    { title: 'for(;;); times out', code: `() => { for (;;); }`, timeoutMs: STOP, expect: { kind: 'timeout' } },
    { title: 'while (true) await null times out', code: `async () => { while (true) await null }`, timeoutMs: STOP, expect: { kind: 'timeout' } },
    {
      // Each promise here is resolved with the next one, so the chain stays
      // reachable and grows: the heap cap may stop it before the timeout does
      // (at ~1.2 s on an idle machine, sooner on a fast one or when the
      // host's timer is late). Either limit stopping it is correct.
      title: 'endless recursion through promises is stopped by its timeout or its memory cap',
      code: `async () => { const f = () => Promise.resolve().then(f); return f() }`,
      timeoutMs: STOP,
      expect: { kind: ['timeout', 'memory'] },
    },
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
      // An immediate reply: the thread notices the rejection (and hangs in its
      // toJSON) before it can read any reply, so the run must time out; were
      // the rejection not noticed, the run would return 'returned' at once.
      { onOutbound: async () => 'ok' },
    );
  });

  it('a microtask flood left behind after returning does not block the next run, and its thread is replaced', async () => {
    await allThreadsIdle(sandbox.pool);
    const replaced = sandbox.pool.stats().replaced;
    const before = snapshotHost(traps);
    const flood = await attempt(sandbox.pool, { code: `() => { const again = () => Promise.resolve().then(again); again(); return 'returned' }` });
    expectOutcome(flood, { output: 'returned' });
    // Served at once, by the other thread, while the flooding one never reports ready.
    const next = await attempt(sandbox.pool, { code: '(i) => i * 2', input: 21 });
    expectOutcome(next, { output: 42 });
    // Replaced at the 1 s drain limit, or sooner when the flood's growing promise chain hits the heap cap.
    expect(await eventually(() => sandbox.pool.stats().replaced > replaced, 15_000)).toBe(true);
    await expectHostUnaffectedAndPoolServing(sandbox.pool, traps, before);
  });

  it('an endless loop left in a microtask after returning gets its thread replaced', async () => {
    await allThreadsIdle(sandbox.pool);
    const replaced = sandbox.pool.stats().replaced;
    const before = snapshotHost(traps);
    const outcome = await attempt(sandbox.pool, {
      code: `() => { const later = (n, f) => (n ? Promise.resolve().then(() => later(n - 1, f)) : f()); later(5, () => { for (;;); }); return 'returned' }`,
    });
    expectOutcome(outcome, { output: 'returned' });
    expect(await eventually(() => sandbox.pool.stats().replaced > replaced, 15_000)).toBe(true);
    await expectHostUnaffectedAndPoolServing(sandbox.pool, traps, before);
  });

  it('cancelling through an AbortSignal stops a looping run', async () => {
    await allThreadsIdle(sandbox.pool);
    const replaced = sandbox.pool.stats().replaced;
    const controller = new AbortController();
    // Cancelled once the run is on a thread (not while queued). Its timeout is
    // far away: a 'cancelled' outcome can only come from the abort.
    void eventually(() => sandbox.pool.stats().busy > 0, 15_000).then(() => controller.abort());
    await contained({ title: 'cancel', code: `() => { for (;;); }`, timeoutMs: 30_000, expect: { kind: 'cancelled' } }, { signal: controller.signal });
    // The looping thread was stopped and replaced, not left spinning.
    expect(sandbox.pool.stats().replaced).toBeGreaterThan(replaced);
  });
});

describe('memory is capped', () => {
  // The leftover microtasks run while the thread is draining, after its run
  // has returned; the pool gives a draining thread up to 1 s to report ready.
  // Whether the guest's memory passes the watchdog's allowance within that
  // second depends on how fast the machine is (it took ~0.5 s idle, more under
  // load), so the pool's clock is held: the drain limit cannot fire, and the
  // watchdog looks once, when the test knows the memory is over the allowance.
  it('memory allocated by leftover microtasks after returning is capped too', async () => {
    await allThreadsIdle(sandbox.pool);
    const before = snapshotHost(traps);
    const replaced = sandbox.pool.stats().replaced;
    const code = `() => {
      const later = (n, f) => (n ? Promise.resolve().then(() => later(n - 1, f)) : f());
      later(5, () => { const keep = []; for (;;) keep.push(new Uint8Array(1 << 24).fill(1)) });
      return 'returned';
    }`;
    await withPoolClock(async (clock) => {
      const outcomes = await Promise.all([attempt(sandbox.pool, { code }), attempt(sandbox.pool, { code })]);
      for (const o of outcomes) expectOutcome(o, { output: 'returned' });
      // Both threads now allocate without end, and nothing but the watchdog can stop them.
      expect(threadStates(sandbox.pool)).toEqual(['draining', 'draining']);
      const over = await eventually(() => process.memoryUsage.rss() > memoryAllowance(sandbox.pool), 45_000);
      expect(over, 'the leftover allocations never passed the allowance').toBe(true);
      expect(sandbox.pool.stats().replaced).toBe(replaced);
      // One look of the watchdog stops both.
      clock.advance(WATCHDOG_TICK_MS);
      expect(sandbox.pool.stats().replaced).toBe(replaced + 2);
    });
    await expectHostUnaffectedAndPoolServing(sandbox.pool, traps, before);
  });

  attacks([
    {
      title: 'a heap bomb is stopped at the memory limit',
      code: `() => { const a = []; for (;;) a.push({ n: a.length, s: 'z' + a.length }) }`,
      timeoutMs: BOMB,
      expect: { kind: 'memory' },
    },
    {
      // Filled again and again rather than once: were a single fill to finish
      // before the watchdog looked (a late host timer), the run would return;
      // this way it holds the memory until stopped, by the watchdog or else
      // (a failure) by its timeout.
      title: 'a 2 GiB typed array bomb is stopped at the memory limit',
      code: `() => { const a = new Uint8Array(2 ** 31); for (;;) a.fill(1) }`,
      timeoutMs: BOMB,
      expect: { kind: 'memory' },
    },
    {
      title: 'many 16 MiB ArrayBuffers are stopped at the memory limit',
      code: `() => { const keep = []; for (;;) keep.push(new ArrayBuffer(1 << 24)) && new Uint8Array(keep[keep.length - 1]).fill(1) }`,
      timeoutMs: BOMB,
      expect: { kind: 'memory' },
    },
    { title: 'string doubling is a contained error', code: `() => { let s = 'x'; for (;;) s += s }`, timeoutMs: BOMB, expect: { kind: ['runtime', 'memory'], message: /Invalid string length|memory/ } },
  ]);
});

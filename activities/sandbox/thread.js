// @ts-check
// One sandbox thread. SES lockdown() first, before anything else runs here;
// then each execution gets a fresh Compartment whose only authority is its
// hardened input and `ctx`. Plain JavaScript so the thread starts without a
// TypeScript loader; type-checked by tsc (checkJs).
import 'ses';
import { parentPort } from 'node:worker_threads';
import { randomInt } from 'node:crypto';

if (!parentPort) throw new Error('thread.js runs only as a worker thread');
const port = parentPort;

// Not in SES compartments anyway; removed here too so nothing can hand them over.
for (const name of ['WebAssembly', 'SharedArrayBuffer', 'Atomics', 'FinalizationRegistry', 'WeakRef']) {
  Reflect.deleteProperty(globalThis, name);
}

lockdown({
  errorTaming: 'safe', // no stacks for guests
  stackFiltering: 'concise',
  overrideTaming: 'severe',
  consoleTaming: 'safe',
  reporting: 'none',
});

/** @typedef {{ maxOutputBytes: number, maxLogLines: number, maxLogBytes: number, maxLineChars: number }} Limits */

const MAX_DEPTH = 64;

class OutputError extends Error {}

/**
 * A fresh copy of a guest value as plain JSON data, or an OutputError. Reads
 * each property once (getters are refused, never called), so what the host
 * receives is exactly what was checked.
 * @param {unknown} value
 * @param {number} maxBytes
 */
function toPlainData(value, maxBytes) {
  let bytes = 0;
  /** @type {Set<object>} */
  const seen = new Set();
  /** @param {number} n */
  const count = (n) => {
    bytes += n;
    if (bytes > maxBytes) throw new OutputError(`output is larger than ${maxBytes} bytes`);
  };
  /** @param {unknown} v @param {string} path @param {number} depth @returns {unknown} */
  const copy = (v, path, depth) => {
    if (v === null) return count(4), null;
    switch (typeof v) {
      case 'string':
        count(v.length + 2);
        return v;
      case 'number':
        if (!Number.isFinite(v)) throw new OutputError(`${path} is ${v}, which JSON cannot carry`);
        count(8);
        return v;
      case 'boolean':
        count(5);
        return v;
      case 'undefined':
        return undefined;
      case 'object':
        break;
      default:
        throw new OutputError(`${path} is a ${typeof v}; output must be plain JSON data`);
    }
    if (depth > MAX_DEPTH) throw new OutputError(`output is nested deeper than ${MAX_DEPTH} levels`);
    const obj = /** @type {object} */ (v);
    if (seen.has(obj)) throw new OutputError(`${path} refers back to itself`);
    seen.add(obj);
    try {
      if (Array.isArray(obj)) {
        const length = obj.length;
        count(2 + length);
        const out = [];
        for (let i = 0; i < length; i++) {
          const d = Reflect.getOwnPropertyDescriptor(obj, String(i));
          if (d && !('value' in d)) throw new OutputError(`${path}[${i}] is a getter; output must be plain data`);
          const item = copy(d ? d.value : undefined, `${path}[${i}]`, depth + 1);
          out.push(item === undefined ? null : item);
        }
        return out;
      }
      const proto = Reflect.getPrototypeOf(obj);
      if (proto !== Object.prototype && proto !== null) {
        throw new OutputError(`${path} is not a plain object (Date, Map, class instances and the like must be converted first)`);
      }
      /** @type {Record<string, unknown>} */
      const out = {};
      count(2);
      for (const key of Reflect.ownKeys(obj)) {
        if (typeof key === 'symbol') throw new OutputError(`${path} has a symbol key`);
        const d = Reflect.getOwnPropertyDescriptor(obj, key);
        if (!d || !d.enumerable) continue;
        if (!('value' in d)) throw new OutputError(`${path}.${key} is a getter; output must be plain data`);
        const item = copy(d.value, `${path}.${key}`, depth + 1);
        if (item !== undefined) {
          count(key.length + 3);
          // Defined, not assigned: a "__proto__" key stays an own data property
          // (as JSON.parse makes it) instead of hitting the prototype setter.
          Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
        }
      }
      return out;
    } finally {
      seen.delete(obj);
    }
  };
  return copy(value, 'output', 0);
}

/**
 * Text of one logged value, never more than `max` characters; guest
 * toString/toJSON may run, inside this thread, under the run's timeout.
 * @param {unknown} v @param {number} max
 */
function describe(v, max) {
  let s;
  try {
    if (typeof v === 'string') s = v;
    else if (v instanceof Error) s = `${v.name}: ${v.message}`;
    else s = JSON.stringify(v) ?? String(v);
  } catch {
    try {
      s = String(v);
    } catch {
      s = `[unprintable ${typeof v}]`;
    }
  }
  s = typeof s === 'string' ? s : '[unprintable]';
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** @param {unknown} err */
function errorInfo(err) {
  let name = 'Error';
  let message = 'pattern threw a value that is not an Error';
  try {
    if (err instanceof Error || (typeof err === 'object' && err !== null)) {
      const n = /** @type {any} */ (err).name;
      const m = /** @type {any} */ (err).message;
      if (typeof n === 'string') name = n.slice(0, 100);
      if (typeof m === 'string') message = m.slice(0, 2000);
    } else message = `pattern threw ${describe(err, 200)}`;
  } catch {
    // a hostile getter: keep the defaults
  }
  return { name, message };
}

/** @type {{ id: number, log: (args: unknown[]) => void } | null} */
let active = null;

// A guest's stray rejection must not kill the thread; note it on its run's log.
process.on('unhandledRejection', (reason) => active?.log([`unhandled rejection: ${describe(reason, 300)}`]));

/** @type {Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>} */
const hostCalls = new Map();
let nextCallId = 1;

/**
 * @param {{ id: number, code: string, input: string, context: string, limits: Limits }} msg
 */
async function execute(msg) {
  const { id, limits } = msg;
  /** @type {string[]} */
  const logs = [];
  let logBytes = 0;
  let truncated = false;
  let open = true;
  /** @param {unknown[]} args */
  const log = (args) => {
    if (!open || truncated) return;
    const line = args.map((a) => describe(a, limits.maxLineChars)).join(' ');
    if (logs.length >= limits.maxLogLines || logBytes + line.length > limits.maxLogBytes) {
      truncated = true;
      return;
    }
    logs.push(line);
    logBytes += line.length;
  };
  active = { id, log };

  const context = JSON.parse(msg.context);
  /**
   * Asks the host to do `op` with a plain-data copy of `payload` (never the guest's own objects); the answer
   * comes back as hardened plain data. Unavailable once the run has ended.
   * @param {string} what how the guest called it, for its errors
   * @param {string} op
   * @param {unknown} payload
   * @returns {Promise<unknown>}
   */
  const hostCall = (what, op, payload) => {
    if (!open) return Promise.reject(new Error(`this run has ended; ${what} is no longer available`));
    let body;
    try {
      body = JSON.stringify(toPlainData(payload, 64 * 1024) ?? null);
    } catch (err) {
      return Promise.reject(new TypeError(`${what} payload: ${errorInfo(err).message}`));
    }
    const callId = nextCallId++;
    /** @type {Promise<unknown>} */
    const reply = new Promise((resolve, reject) => hostCalls.set(callId, { resolve, reject }));
    port.postMessage({ type: 'host', id, callId, op, payload: body });
    return reply;
  };
  /** @param {string} op */
  const outreach = (op) => (/** @type {unknown[]} */ ...args) => hostCall(`ctx.outreach.${op}`, `outreach.${op}`, args);
  const ctx = harden({
    log: (/** @type {unknown[]} */ ...args) => log(args),
    now: () => Date.now(),
    // randomInt's range must be below 2 ** 48: 0 ≤ n ≤ 2 ** 48 - 2, so the result is in [0, 1).
    random: () => randomInt(2 ** 48 - 1) / (2 ** 48 - 1),
    previous: context.previous ?? {},
    notes: context.notes ?? null,
    attempt: context.attempt ?? 1,
    task: context.task ?? null,
    mission: context.mission ?? null,
    outbound: {
      send: (/** @type {unknown} */ channel, /** @type {unknown} */ payload) => {
        if (typeof channel !== 'string') return Promise.reject(new TypeError('ctx.outbound.send(channel, payload): channel must be a string'));
        return hostCall('ctx.outbound.send', 'outbound.send', { channel: channel.slice(0, 64), payload });
      },
    },
    // Seed 002's pipeline, through the host (core/outreach/host.ts): never the database itself.
    outreach: {
      campaigns: outreach('campaigns'),
      leads: outreach('leads'),
      createLead: outreach('createLead'),
      updateLead: outreach('updateLead'),
      moveLead: outreach('moveLead'),
      createDraft: outreach('createDraft'),
      tasks: outreach('tasks'),
      createTask: outreach('createTask'),
      moveTask: outreach('moveTask'),
      noteTask: outreach('noteTask'),
      today: outreach('today'),
    },
  });
  const guestConsole = harden({ log: ctx.log, info: ctx.log, warn: ctx.log, error: ctx.log, debug: ctx.log });

  // Only a failure to compile the pattern is a 'syntax' error; a SyntaxError the
  // running pattern throws (JSON.parse of bad text, say) is an ordinary runtime error.
  let compiling = true;
  try {
    const compartment = new Compartment({ globals: { console: guestConsole }, __options__: true });
    const fn = compartment.evaluate(`(${msg.code}\n)`);
    if (typeof fn !== 'function') throw new OutputError('pattern code must be a function: async (input, ctx) => result');
    compiling = false;
    const input = harden(JSON.parse(msg.input));
    const result = await fn(input, ctx);
    const output = toPlainData(result, limits.maxOutputBytes);
    open = false;
    port.postMessage({ type: 'result', id, ok: true, output: output === undefined ? null : output, logs, truncated });
  } catch (err) {
    open = false;
    let kind = 'runtime';
    try {
      kind = err instanceof OutputError ? 'output' : compiling && err instanceof SyntaxError ? 'syntax' : 'runtime';
    } catch {
      // a thrown Proxy whose getPrototypeOf trap throws (or a revoked one):
      // without this the result was never posted and the run hung to its timeout
    }
    port.postMessage({ type: 'result', id, ok: false, kind, error: errorInfo(err), logs, truncated });
  } finally {
    active = null;
    for (const [callId, call] of hostCalls) {
      hostCalls.delete(callId);
      call.reject(new Error('run ended'));
    }
    // Ready again only once the event loop turns: a guest that left an endless
    // microtask chain behind never gets here, and the host replaces the thread.
    setImmediate(() => port.postMessage({ type: 'ready' }));
  }
}

/** @param {{ id: number, code: string }} msg */
function check(msg) {
  try {
    const compartment = new Compartment({ __options__: true });
    // Evaluating a function expression creates the function; it does not run its body.
    const fn = compartment.evaluate(`(${msg.code}\n)`);
    if (typeof fn !== 'function') throw new SyntaxError('pattern code must be a function: async (input, ctx) => result');
    port.postMessage({ type: 'checked', id: msg.id, ok: true });
  } catch (err) {
    port.postMessage({ type: 'checked', id: msg.id, ok: false, error: errorInfo(err) });
  }
  setImmediate(() => port.postMessage({ type: 'ready' }));
}

port.on('message', (msg) => {
  if (msg.type === 'run') void execute(msg);
  else if (msg.type === 'check') check(msg);
  else if (msg.type === 'host-result') {
    const call = hostCalls.get(msg.callId);
    if (!call) return;
    hostCalls.delete(msg.callId);
    if (msg.ok) call.resolve(harden(JSON.parse(msg.value)));
    else call.reject(new Error(String(msg.error)));
  }
});

port.postMessage({ type: 'ready' });

// The sandbox pool: worker threads, each locked down by SES, running one
// pattern at a time. The thread confines authority; this host side confines
// time and memory: a run past its timeout, or over its memory cap, has its
// thread terminated and replaced, and the pool goes on serving.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { PatternError, type PatternSandbox, type RunRequest, type RunResult } from '../../core/patterns/sandbox';
import { checkPatternShape, positionFromMessage, type ShapeCheck } from './syntax';

const THREAD_URL = new URL('./thread.js', import.meta.url);
const MB = 1024 * 1024;
const BASELINE_EVERY_MS = 1000;

export interface SandboxOptions {
  /** Threads in the pool (default: one per CPU). */
  threads?: number;
  /** Heap cap of each thread, in MiB. */
  memoryMb?: number;
  maxOutputBytes?: number;
  maxLogLines?: number;
  maxLogBytes?: number;
  /** Process memory allowed above the idle baseline, besides each busy thread's share. */
  processSlackMb?: number;
  /** Runs a thread serves before it is replaced, to bound slow leaks. */
  maxRunsPerThread?: number;
}

export type { RunContext, RunRequest, RunResult } from '../../core/patterns/sandbox';

interface Job {
  kind: 'run' | 'check';
  id: number;
  message: Record<string, unknown>;
  timeoutMs: number;
  onOutbound?: RunRequest['onOutbound'];
  onOutreach?: RunRequest['onOutreach'];
  signal?: AbortSignal;
  onAbort?: () => void;
  resolve(value: unknown): void;
  reject(err: Error): void;
  startedAt?: number;
  logs?: string[];
}

interface Slot {
  worker: Worker;
  state: 'starting' | 'idle' | 'busy' | 'draining' | 'dead';
  job?: Job;
  timer?: NodeJS.Timeout;
  runs: number;
}

export interface PoolStats {
  threads: number;
  busy: number;
  queued: number;
  replaced: number;
  completed: number;
}

export class SandboxPool implements PatternSandbox {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly size: number;
  /** Patterns it runs at once (one per thread). */
  get capacity(): number {
    return this.size;
  }
  private readonly memoryMb: number;
  private readonly limits: { maxOutputBytes: number; maxLogLines: number; maxLogBytes: number; maxLineChars: number };
  private readonly slackMb: number;
  private readonly maxRuns: number;
  private nextId = 1;
  private closed = false;
  private replaced = 0;
  private completed = 0;
  private watchdog?: NodeJS.Timeout;
  private baselineRss = 0;
  private baselineAt = -Infinity;

  constructor(opts: SandboxOptions = {}) {
    this.size = Math.max(1, opts.threads || os.availableParallelism());
    this.memoryMb = opts.memoryMb ?? 64;
    this.limits = {
      maxOutputBytes: opts.maxOutputBytes ?? 256 * 1024,
      maxLogLines: opts.maxLogLines ?? 200,
      maxLogBytes: opts.maxLogBytes ?? 64 * 1024,
      maxLineChars: 2000,
    };
    this.slackMb = opts.processSlackMb ?? 256;
    this.maxRuns = opts.maxRunsPerThread ?? 5000;
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  /** Runs pattern code on an input; resolves with its output and logs, or rejects with a PatternError. */
  run(req: RunRequest): Promise<RunResult> {
    let json: string;
    try {
      json = JSON.stringify(req.input ?? null);
    } catch {
      return Promise.reject(new PatternError('output', 'The input is not JSON data.'));
    }
    return this.enqueue<RunResult>({
      kind: 'run',
      message: { type: 'run', code: req.code, input: json, context: JSON.stringify(req.context ?? {}), limits: this.limits },
      timeoutMs: req.timeoutMs,
      onOutbound: req.onOutbound,
      onOutreach: req.onOutreach,
      signal: req.signal,
    });
  }

  /** Checks pattern code without running it: its shape here, then a compile inside a locked-down thread. */
  async check(code: string): Promise<ShapeCheck> {
    const shape = checkPatternShape(code);
    if (!shape.ok) return shape;
    try {
      await this.enqueue<void>({ kind: 'check', message: { type: 'check', code }, timeoutMs: 5000 });
      return { ok: true };
    } catch (err) {
      const e = err as PatternError;
      if (e.kind !== 'syntax') throw err;
      return { ok: false, message: e.message, position: e.position };
    }
  }

  stats(): PoolStats {
    return {
      threads: this.slots.length,
      busy: this.slots.filter((s) => s.state === 'busy').length,
      queued: this.queue.length,
      replaced: this.replaced,
      completed: this.completed,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    for (const job of this.queue.splice(0)) job.reject(new PatternError('cancelled', 'The sandbox is shutting down.'));
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.job) this.settle(slot, new PatternError('cancelled', 'The sandbox is shutting down.'));
        slot.state = 'dead';
        await slot.worker.terminate();
      }),
    );
  }

  // ---- internals ------------------------------------------------------------

  private enqueue<T>(partial: Omit<Job, 'id' | 'resolve' | 'reject'>): Promise<T> {
    if (this.closed) return Promise.reject(new PatternError('cancelled', 'The sandbox is shutting down.'));
    return new Promise<T>((resolve, reject) => {
      const job: Job = { ...partial, id: this.nextId++, resolve: resolve as (v: unknown) => void, reject };
      if (job.signal) {
        if (job.signal.aborted) return reject(new PatternError('cancelled', 'The run was cancelled.'));
        job.onAbort = () => this.cancel(job);
        job.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.pump();
    });
  }

  private spawn(): Slot {
    const worker = new Worker(THREAD_URL, {
      resourceLimits: {
        maxOldGenerationSizeMb: this.memoryMb,
        maxYoungGenerationSizeMb: Math.max(4, Math.round(this.memoryMb / 8)),
        stackSizeMb: 4,
      },
      stdout: true, // guests have no console of the process; drop anything a bug might print
      stderr: true,
      env: {}, // no environment, no secrets
    });
    const slot: Slot = { worker, state: 'starting', runs: 0 };
    worker.on('message', (msg) => this.onMessage(slot, msg));
    worker.on('error', (err) => this.onDeath(slot, err));
    worker.on('exit', (code) => this.onDeath(slot, new Error(`sandbox thread exited with code ${code}`)));
    return slot;
  }

  private onMessage(slot: Slot, msg: { type: string; [k: string]: unknown }): void {
    if (slot.state === 'dead') return;
    switch (msg.type) {
      case 'ready':
        if (slot.state === 'starting' || slot.state === 'draining') {
          clearTimeout(slot.timer);
          if (slot.runs >= this.maxRuns) return this.replace(slot);
          slot.state = 'idle';
          this.updateWatchdog();
          this.pump();
        }
        return;
      case 'result':
      case 'checked': {
        const job = slot.job;
        if (!job || msg.id !== job.id) return;
        const durationMs = performance.now() - job.startedAt!;
        if (msg.ok) {
          this.completed++;
          this.finish(slot);
          job.resolve(msg.type === 'checked' ? undefined : { output: msg.output, logs: msg.logs, logsTruncated: msg.truncated, durationMs });
        } else {
          const error = msg.error as { name: string; message: string };
          const kind = msg.type === 'checked' ? 'syntax' : (msg.kind as 'output' | 'syntax' | 'runtime');
          const text = kind === 'runtime' ? `${error.name}: ${error.message}` : error.message;
          this.completed++;
          this.finish(slot);
          job.reject(new PatternError(kind, text, kind === 'syntax' ? positionFromMessage(error.message) : undefined, (msg.logs as string[]) ?? []));
        }
        return;
      }
      case 'host': {
        // A guest's ctx.outbound.send or ctx.outreach.*: answered by the run's host functions, never by the thread.
        const job = slot.job;
        if (!job || msg.id !== job.id) return;
        const reply = (ok: boolean, value: unknown) => {
          if (slot.job !== job || slot.state !== 'busy') return; // the run ended meanwhile
          slot.worker.postMessage(ok ? { type: 'host-result', callId: msg.callId, ok, value: JSON.stringify(value ?? null) } : { type: 'host-result', callId: msg.callId, ok, error: value });
        };
        let payload: unknown;
        try {
          payload = JSON.parse(String(msg.payload));
        } catch {
          return reply(false, 'payload is not JSON');
        }
        const op = String(msg.op);
        let answer: Promise<unknown>;
        if (op === 'outbound.send') {
          if (!job.onOutbound) return reply(false, 'outbound sending is not available here');
          const { channel, payload: body } = (payload ?? {}) as { channel?: unknown; payload?: unknown };
          answer = job.onOutbound(String(channel), body ?? null);
        } else if (op.startsWith('outreach.')) {
          if (!job.onOutreach) return reply(false, 'ctx.outreach is available to mission tasks only');
          answer = job.onOutreach(op.slice('outreach.'.length), Array.isArray(payload) ? payload : []);
        } else {
          return reply(false, `unknown host call ${op.slice(0, 40)}`);
        }
        answer.then(
          (value) => reply(true, value),
          (err: Error) => reply(false, err.message),
        );
        return;
      }
    }
  }

  /** A job ended normally: the thread must report ready again before it takes another. */
  private finish(slot: Slot): void {
    clearTimeout(slot.timer);
    const job = slot.job;
    if (job?.signal && job.onAbort) job.signal.removeEventListener('abort', job.onAbort);
    slot.job = undefined;
    slot.state = 'draining';
    // A guest may have left an endless microtask chain behind: then "ready" never comes.
    slot.timer = setTimeout(() => this.replace(slot), 1000);
    this.updateWatchdog();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.state !== 'idle') continue;
      const job = this.queue.shift()!;
      this.sampleBaseline();
      slot.state = 'busy';
      slot.job = job;
      slot.runs++;
      job.startedAt = performance.now();
      slot.timer = setTimeout(
        () => this.kill(slot, new PatternError('timeout', `The pattern did not finish within its ${job.timeoutMs} ms timeout and was stopped.`)),
        job.timeoutMs,
      );
      slot.worker.postMessage({ ...job.message, id: job.id });
      this.updateWatchdog();
    }
  }

  /**
   * The idle process's resident memory, which the watchdog's allowance starts from: sampled when no guest
   * code runs, at most once a second (reading it is a system call, and a busy pool starts many runs a second).
   */
  private sampleBaseline(): void {
    const now = performance.now();
    if (now - this.baselineAt < BASELINE_EVERY_MS || this.watchedSlots().length > 0) return;
    this.baselineRss = process.memoryUsage.rss();
    this.baselineAt = now;
  }

  /**
   * Threads that may be running guest code: busy ones, and draining ones,
   * whose leftover microtasks run after the result until "ready" (up to 1 s).
   */
  private watchedSlots(): Slot[] {
    return this.slots.filter((s) => s.state === 'busy' || s.state === 'draining');
  }

  private cancel(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      job.reject(new PatternError('cancelled', 'The run was cancelled.'));
      return;
    }
    const slot = this.slots.find((s) => s.job === job);
    if (slot) this.kill(slot, new PatternError('cancelled', 'The run was cancelled; its sandbox thread was stopped.'));
  }

  /** Stops a thread now (timeout, memory, cancel), fails its job, and starts a replacement. */
  private kill(slot: Slot, err: PatternError): void {
    if (slot.state === 'dead') return;
    this.settle(slot, err);
    this.replace(slot);
  }

  private settle(slot: Slot, err: PatternError): void {
    const job = slot.job;
    if (!job) return;
    clearTimeout(slot.timer);
    if (job.signal && job.onAbort) job.signal.removeEventListener('abort', job.onAbort);
    slot.job = undefined;
    this.completed++;
    job.reject(err);
  }

  private onDeath(slot: Slot, err: Error & { code?: string }): void {
    if (slot.state === 'dead') return;
    const oom = err.code === 'ERR_WORKER_OUT_OF_MEMORY' || /out of memory|heap limit/i.test(err.message);
    this.settle(
      slot,
      oom
        ? new PatternError('memory', `The pattern ran out of memory (limit ${this.memoryMb} MiB) and was stopped.`)
        : new PatternError('crashed', `The sandbox thread stopped unexpectedly: ${err.message}`),
    );
    this.replace(slot);
  }

  private replace(slot: Slot): void {
    if (slot.state === 'dead') return;
    slot.state = 'dead';
    clearTimeout(slot.timer);
    void slot.worker.terminate();
    const index = this.slots.indexOf(slot);
    if (index >= 0 && !this.closed) {
      this.slots[index] = this.spawn();
      this.replaced++;
    }
    this.updateWatchdog();
  }

  /**
   * resourceLimits cap a thread's JS heap but not ArrayBuffer memory, which is
   * allocated outside it. While runs are active the process's resident memory
   * is watched; past the allowance, the busy threads are stopped (and the
   * draining ones, since a pattern's leftover microtasks can allocate too).
   */
  private updateWatchdog(): void {
    const busy = this.watchedSlots().length;
    if (busy > 0 && !this.watchdog) {
      this.watchdog = setInterval(() => this.checkMemory(), 25);
      this.watchdog.unref();
    } else if (busy === 0 && this.watchdog) {
      clearInterval(this.watchdog);
      this.watchdog = undefined;
    }
  }

  private checkMemory(): void {
    const busy = this.watchedSlots();
    if (busy.length === 0) return;
    const allowance = this.baselineRss + (busy.length * this.memoryMb * 2 + this.slackMb) * MB;
    const rss = process.memoryUsage.rss();
    if (rss <= allowance) return;
    const message =
      busy.length === 1
        ? `The pattern used more memory than its sandbox allows (${Math.round((rss - this.baselineRss) / MB)} MiB above the baseline) and was stopped.`
        : `Sandbox memory exceeded its limit while ${busy.length} patterns ran; all of them were stopped (one of them used ${Math.round((rss - this.baselineRss) / MB)} MiB).`;
    for (const slot of busy) this.kill(slot, new PatternError('memory', message));
  }
}

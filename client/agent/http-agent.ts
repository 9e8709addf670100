// The shipped client for an agent speaking Mission Control's HTTP protocol: hello, heartbeats,
// the command stream (verified, de-duplicated, answered), configuration acks, metrics and events.
// Only `fetch`, WebCrypto and eventsource-parser: an agent may copy client/agent into its project.
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { AGENT_API_PREFIX, type CommandResult, type ConfigurationAck, type EventsRequest, type HeartbeatRequest } from './protocol';
import type { HeartbeatResponse, HelloRequest, HelloResponse, MetricsRequest, ReportedStatus, SignedCommand, StreamFrames } from './protocol';
import { verifyCommand } from './signature';

export interface AgentClientOptions {
  url: string;
  token: string;
  signingSecret: string;
  version?: string;
  capabilities?: string[];
  metadata?: Record<string, unknown>;
  heartbeatIntervalMs?: number;
  fetch?: typeof fetch;
  logger?: { info(msg: string): void; warn(msg: string): void };
}

export interface CommandContext {
  id: string;
  type: string;
  /** Fires at expiresAt, or when the client stops. */
  signal: AbortSignal;
  expiresAt: Date;
}
export type CommandHandler = (payload: unknown, ctx: CommandContext) => Promise<unknown> | unknown;
export type ConfigurationHandler = (cfg: StreamFrames['configuration']) => Promise<void> | void;
export type ControlHandler = (control: StreamFrames['control']) => void;
export type AgentEventOptions = Omit<EventsRequest['events'][number], 'type'>;

/** An error answer from Mission Control (`{ error: { code, message } }`), with its HTTP status. */
export class AgentClientError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'AgentClientError';
  }
}

const SEEN_COMMANDS_KEPT = 500;
const REQUEST_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 2_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
const consoleLogger = { info: (msg: string) => console.log(`[agent] ${msg}`), warn: (msg: string) => console.warn(`[agent] ${msg}`) };

export class AgentClient {
  readonly stats = { commandsRun: 0, rejectedFrames: 0, duplicateFrames: 0, heartbeats: 0 };

  private readonly fetch: typeof fetch;
  private readonly log: NonNullable<AgentClientOptions['logger']>;
  private readonly commandHandlers = new Map<string, CommandHandler>();
  private configurationHandler: ConfigurationHandler | null = null;
  private controlHandler: ControlHandler | null = null;

  /** Aborted by stop(): ends the stream, the timers, the waits and the running handlers' signals. */
  private lifecycle: AbortController | null = null;
  private session: HelloResponse | null = null;
  private renewing: Promise<void> | null = null;
  private heartbeatTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatIntervalMs = 30_000;
  private streamAbort: AbortController | null = null;
  private configurations: Promise<void> = Promise.resolve();
  private paused = false;

  /** The last commands seen, by id, in LRU order: null while in flight, then the answer. */
  private readonly seen = new Map<string, CommandResult | null>();
  /** Answers being posted, by command id. */
  private readonly deliveries = new Map<string, Promise<void>>();
  private running = 0;
  private explicitStatus: ReportedStatus | null = null;
  private currentTask: string | null = null;
  private resourceUsage: Record<string, number> | undefined;

  constructor(private readonly options: AgentClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.log = options.logger ?? consoleLogger;
  }

  onCommand(type: string, handler: CommandHandler): this {
    this.commandHandlers.set(type, handler);
    return this;
  }

  onConfiguration(handler: ConfigurationHandler): this {
    this.configurationHandler = handler;
    return this;
  }

  onControl(handler: ControlHandler): this {
    this.controlHandler = handler;
    return this;
  }

  /** Sent with the next heartbeat. BLOCKED and ERROR win over RUNNING while a command runs. */
  setStatus(status: ReportedStatus, currentTask?: string | null): void {
    this.explicitStatus = status;
    if (currentTask !== undefined) this.currentTask = currentTask;
  }

  setResourceUsage(values: Record<string, number>): void {
    this.resourceUsage = values;
  }

  async reportMetrics(values: Record<string, number>, at?: Date): Promise<void> {
    await this.post('/metrics', { samples: [{ values, ...(at ? { at: at.toISOString() } : {}) }] } satisfies MetricsRequest);
  }

  async emit(type: string, opts: AgentEventOptions = {}): Promise<void> {
    await this.post('/events', { events: [{ type, ...opts }] } satisfies EventsRequest);
  }

  /** Says hello, then heartbeats and listens to the stream until stop(). */
  async start(): Promise<HelloResponse> {
    if (this.lifecycle) throw new Error('AgentClient already started');
    const lifecycle = (this.lifecycle = new AbortController());
    try {
      const hello = await this.hello();
      this.scheduleHeartbeat();
      void this.listen(lifecycle.signal);
      return hello;
    } catch (error) {
      this.lifecycle = null;
      throw error;
    }
  }

  /** Stops listening and heartbeating, aborts running handlers (their answers get a moment to go), says goodbye. */
  async stop(): Promise<void> {
    const lifecycle = this.lifecycle;
    if (!lifecycle) return;
    this.lifecycle = null;
    lifecycle.abort(new Error('agent stopping'));
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.streamAbort?.abort();
    await Promise.race([Promise.allSettled(this.deliveries.values()), sleep(STOP_GRACE_MS)]);
    await this.post('/goodbye', {}).catch(() => undefined);
  }

  private get stopped(): boolean {
    return this.lifecycle?.signal.aborted ?? true;
  }

  private async hello(): Promise<HelloResponse> {
    const { version, capabilities, metadata, heartbeatIntervalMs } = this.options;
    const body: HelloRequest = { version, capabilities, metadata, heartbeatIntervalMs, kind: 'http' };
    const hello = await this.post<HelloResponse>('/hello', body);
    this.session = hello;
    this.heartbeatIntervalMs = hello.heartbeatIntervalMs;
    this.log.info(`connected as ${hello.agent.name} (${hello.agent.id}), session ${hello.sessionId}`);
    return hello;
  }

  /** Another hello with our token took over: take the session back and reopen the stream on it. */
  private renew(reason: string): Promise<void> {
    if (this.renewing) return this.renewing;
    this.log.warn(`session superseded (${reason}); saying hello again`);
    return (this.renewing = this.hello()
      .then(() => this.streamAbort?.abort())
      .catch((error) => this.log.warn(`hello failed: ${describe(error)}`))
      .finally(() => (this.renewing = null)));
  }

  private scheduleHeartbeat(): void {
    if (this.stopped) return;
    this.heartbeatTimer = setTimeout(() => void this.beat().finally(() => this.scheduleHeartbeat()), this.heartbeatIntervalMs);
  }

  private async beat(): Promise<void> {
    const sessionId = this.session?.sessionId ?? '';
    const body: HeartbeatRequest = { sessionId, status: this.reportedStatus(), currentTask: this.currentTask, resourceUsage: this.resourceUsage };
    try {
      const answer = await this.post<HeartbeatResponse>('/heartbeat', body);
      this.stats.heartbeats++;
      this.heartbeatIntervalMs = answer.heartbeatIntervalMs;
      this.applyControl(answer.paused);
    } catch (error) {
      const superseded = error instanceof AgentClientError && error.status === 409;
      if (!superseded) this.log.warn(`heartbeat failed: ${describe(error)}`);
      else if (sessionId === this.session?.sessionId) await this.renew('heartbeat answered 409');
    }
  }

  private reportedStatus(): ReportedStatus {
    const explicit = this.explicitStatus;
    if (explicit === 'BLOCKED' || explicit === 'ERROR') return explicit;
    if (this.running > 0) return 'RUNNING';
    return explicit ?? 'IDLE';
  }

  /** From a control frame or a heartbeat's answer: the handler hears of changes only (an agent starts unpaused). */
  private applyControl(paused: boolean): void {
    if (typeof paused !== 'boolean' || paused === this.paused) return;
    this.paused = paused;
    this.log.info(paused ? 'paused by Mission Control' : 'resumed by Mission Control');
    try {
      this.controlHandler?.({ paused });
    } catch (error) {
      this.log.warn(`control handler failed: ${describe(error)}`);
    }
  }

  /** Keeps the stream open until stop(), reconnecting with jittered backoff. */
  private async listen(stop: AbortSignal): Promise<void> {
    for (let attempt = 0; !stop.aborted; attempt++) {
      try {
        await this.readStream(() => (attempt = 0));
        this.log.warn('stream ended');
      } catch (error) {
        if (!this.streamAbort?.signal.aborted) this.log.warn(`stream failed: ${describe(error)}`);
      }
      await sleep(backoffMs(attempt), stop);
    }
  }

  private async readStream(onConnected: () => void): Promise<void> {
    this.streamAbort = new AbortController();
    const response = await this.fetch(`${this.baseUrl()}/stream`, {
      headers: { Authorization: `Bearer ${this.options.token}`, Accept: 'text/event-stream' },
      signal: this.streamAbort.signal,
    });
    if (!response.ok || !response.body) throw await errorFrom(response);
    onConnected();
    const parser = createParser({ onEvent: (message) => this.onStreamEvent(message) });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  }

  private onStreamEvent(message: EventSourceMessage): void {
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch {
      this.log.warn(`unreadable ${message.event ?? 'message'} frame ignored`);
      return;
    }
    switch (message.event) {
      case 'ready':
        return this.log.info('stream open');
      case 'command':
        return void this.handleCommand(data as StreamFrames['command']).catch((error) => this.log.warn(`command failed: ${describe(error)}`));
      case 'configuration':
        return this.queueConfiguration(data as StreamFrames['configuration']);
      case 'control':
        return this.applyControl((data as StreamFrames['control'])?.paused);
      case 'superseded':
        // Only our own session's: an older one's frame may still come after a renewal.
        if ((data as StreamFrames['superseded'])?.sessionId === this.session?.sessionId) void this.renew('superseded frame');
    }
  }

  private async handleCommand(frame: StreamFrames['command']): Promise<void> {
    const verdict = await verifyCommand(this.options.signingSecret, frame, { agentId: this.session?.agent.id ?? '' });
    if (!verdict.ok) {
      this.stats.rejectedFrames++;
      this.log.warn(`command frame rejected (${verdict.reason}); not answered`);
      return;
    }
    const command = verdict.command;
    const seen = this.seen.get(command.id);
    if (seen !== undefined) {
      this.stats.duplicateFrames++;
      this.remember(command.id, seen);
      // Answered already: the answer may have been lost, so it goes again (a 409 says it was not).
      if (seen && !this.deliveries.has(command.id)) this.deliver(command, seen);
      return;
    }
    this.remember(command.id, null);
    const result = await this.run(command);
    this.remember(command.id, result);
    this.deliver(command, result);
  }

  private remember(id: string, result: CommandResult | null): void {
    this.seen.delete(id);
    this.seen.set(id, result);
    for (const oldest of this.seen.keys()) {
      if (this.seen.size <= SEEN_COMMANDS_KEPT) break;
      this.seen.delete(oldest);
    }
  }

  private async run(command: SignedCommand): Promise<CommandResult> {
    const handler = this.commandHandlers.get(command.type);
    if (!handler) return { ok: false, error: { code: 'unknown_command', message: `no handler for command type ${command.type}` } };
    const expiresAt = new Date(command.expiresAt);
    const abort = new AbortController();
    const stopping = this.lifecycle?.signal;
    const stopAbort = () => abort.abort(new Error('agent stopping'));
    const expiry = setTimeout(() => abort.abort(new Error('command expired')), Math.min(expiresAt.getTime() - Date.now(), MAX_TIMER_MS));
    stopping?.addEventListener('abort', stopAbort, { once: true });
    this.running++;
    this.stats.commandsRun++;
    this.log.info(`running ${command.type} (${command.id})`);
    try {
      const result = await handler(command.payload, { id: command.id, type: command.type, signal: abort.signal, expiresAt });
      return { ok: true, result };
    } catch (error) {
      return { ok: false, error: { code: 'handler_error', message: describe(error) } };
    } finally {
      this.running--;
      clearTimeout(expiry);
      stopping?.removeEventListener('abort', stopAbort);
    }
  }

  /** Posts an answer in the background, remembered so that stop() can give it a moment before goodbye. */
  private deliver(command: SignedCommand, result: CommandResult): void {
    const delivery = this.postResult(command, result).finally(() => this.deliveries.delete(command.id));
    this.deliveries.set(command.id, delivery);
  }

  /** Retries network errors and 5xx until the command expires; a 409 means Mission Control has it already. */
  private async postResult(command: SignedCommand, result: CommandResult): Promise<void> {
    const expiresAt = Date.parse(command.expiresAt);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.post(`/commands/${encodeURIComponent(command.id)}/result`, result);
        return this.log.info(`answered ${command.type} (${command.id}): ${result.ok ? 'ok' : result.error.code}`);
      } catch (error) {
        if (error instanceof AgentClientError && error.status === 409) return;
        const retryable = !(error instanceof AgentClientError) || error.status >= 500;
        const wait = backoffMs(attempt);
        if (!retryable || this.stopped || Date.now() + wait > expiresAt) {
          return this.log.warn(`answer to ${command.type} (${command.id}) dropped: ${describe(error)}`);
        }
        await sleep(wait, this.lifecycle?.signal);
      }
    }
  }

  /** Configurations are applied one at a time, in the order they arrive. */
  private queueConfiguration(cfg: StreamFrames['configuration']): void {
    this.configurations = this.configurations
      .then(() => this.applyConfiguration(cfg))
      .catch((error) => this.log.warn(`configuration failed: ${describe(error)}`));
  }

  private async applyConfiguration(cfg: StreamFrames['configuration']): Promise<void> {
    const handler = this.configurationHandler;
    if (!handler) return this.log.warn(`configuration ${cfg.name} v${cfg.version} received, but no handler: not acknowledged`);
    const ack = await Promise.resolve(cfg)
      .then(handler)
      .then((): ConfigurationAck => ({ status: 'applied' }), (error: unknown): ConfigurationAck => ({ status: 'rejected', message: describe(error) }));
    await this.post(`/configurations/${encodeURIComponent(String(cfg.version))}/ack`, ack);
    this.log.info(`configuration ${cfg.name} v${cfg.version} ${ack.status}`);
  }

  private baseUrl(): string {
    return `${this.options.url.replace(/\/+$/, '')}${AGENT_API_PREFIX}`;
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    const response = await this.fetch(`${this.baseUrl()}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.options.token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (!response.ok) throw await errorFrom(response);
    return (await response.json()) as T;
  }
}

/** Reads `{ error: { code, message } }`, or makes do with the status when the body is something else. */
async function errorFrom(response: Response): Promise<AgentClientError> {
  const body = (await response.json().catch(() => null)) as { error?: { code?: unknown; message?: unknown } } | null;
  const { code, message } = body?.error ?? {};
  const fallback = `Mission Control answered HTTP ${response.status}`;
  return new AgentClientError(response.status, typeof code === 'string' ? code : `http_${response.status}`, typeof message === 'string' ? message : fallback);
}

/** 0.5 s doubling to 15 s, each wait between half and all of it so that agents do not retry in step. */
function backoffMs(attempt: number): number {
  const ceiling = Math.min(15_000, 500 * 2 ** Math.min(attempt, 5));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => (clearTimeout(timer), signal?.removeEventListener('abort', done), resolve());
    const timer = setTimeout(done, ms);
    if (signal?.aborted) done();
    else signal?.addEventListener('abort', done);
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

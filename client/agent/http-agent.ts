// The shipped client for an agent speaking Mission Control's HTTP protocol: hello, heartbeats, the stream
// of work (commands and mission tasks: verified, run once, answered; cancels), configuration acks, metrics and events.
// Only `fetch`, WebCrypto and eventsource-parser: an agent may copy client/agent into its project.
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { AGENT_API_PREFIX, type AgentAlert, type CommandResult, type ConfigurationAck, type EventsRequest, type HeartbeatRequest, type SignedTask, type TaskResult } from './protocol';
import type { HeartbeatResponse, HelloRequest, HelloResponse, MetricsRequest, ReportedStatus, SignedFrame, StreamFrames } from './protocol';
import { verifyFrame, type SignedBody } from './signature';
import { AgentClientError, backoffMs, describe, errorFrom, sleep } from './http';
import { AgentWorkItems } from './work-items';

export { AgentClientError };

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
export interface TaskContext {
  id: string;
  task: SignedTask['task'];
  /** The outputs of earlier tasks by name, reviewers' notes (after "request changes"), the run's own input. */
  context: SignedTask['context'];
  /** Fires when the run is cancelled or Temporal gives the attempt up, at expiresAt, or when the client stops. */
  signal: AbortSignal;
  expiresAt: Date;
}
/** Returns the task's output; throwing fails the attempt (retried by the task's policy unless the error has `retryable: false`). */
export type TaskHandler = (input: unknown, ctx: TaskContext) => Promise<unknown> | unknown;
export type ConfigurationHandler = (cfg: StreamFrames['configuration']) => Promise<void> | void;
export type ControlHandler = (control: StreamFrames['control']) => void;
export type AgentEventOptions = Omit<EventsRequest['events'][number], 'type'>;

const SEEN_COMMANDS_KEPT = 500;
const REQUEST_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 2_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
type Answer = CommandResult | TaskResult;
const label = (body: SignedBody) => (body.kind === 'command' ? body.type : `task "${body.task.name}"`);
const consoleLogger = { info: (msg: string) => console.log(`[agent] ${msg}`), warn: (msg: string) => console.warn(`[agent] ${msg}`) };

export class AgentClient {
  readonly stats = { commandsRun: 0, tasksRun: 0, rejectedFrames: 0, duplicateFrames: 0, heartbeats: 0 };

  protected readonly kind: NonNullable<HelloRequest['kind']> = 'http'; // hello announces it: a NativeAgent's commands come by Temporal
  private readonly fetch: typeof fetch;
  protected readonly log: NonNullable<AgentClientOptions['logger']>;
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

  /** The last commands and tasks seen, by id, in LRU order: null while in flight, then the answer. */
  private readonly seen = new Map<string, Answer | null>();
  /** What is running now, by id: a cancel frame aborts it. */
  private readonly cancellers = new Map<string, AbortController>();
  private taskHandler: TaskHandler | null = null;
  /** Answers being posted, by command id. */
  private readonly deliveries = new Map<string, Promise<void>>();
  private running = 0;
  private explicitStatus: ReportedStatus | null = null;
  private currentTask: string | null = null;
  private resourceUsage: Record<string, number> | undefined;

  /** The task board's work items this agent holds. */
  readonly workItems = new AgentWorkItems((method, path, body) => this.request(method, path, body));

  constructor(private readonly options: AgentClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.log = options.logger ?? consoleLogger;
  }

  onCommand(type: string, handler: CommandHandler): this {
    this.commandHandlers.set(type, handler);
    return this;
  }

  /** Runs the mission tasks routed to this agent. */
  onTask(handler: TaskHandler): this {
    this.taskHandler = handler;
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

  /** Raises an alert (seed 001) for people to act on; the same `key` raises it once. */
  async raiseAlert(alert: AgentAlert): Promise<{ alertId: string; raised: boolean }> {
    return this.post('/alerts', alert);
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
    const body: HelloRequest = { version, capabilities, metadata, heartbeatIntervalMs, kind: this.kind };
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
      case 'task':
        return void this.handleFrame(message.event, data as SignedFrame).catch((error) => this.log.warn(`${message.event} failed: ${describe(error)}`));
      case 'cancel':
        return this.cancellers.get((data as StreamFrames['cancel'])?.id)?.abort(new Error((data as StreamFrames['cancel']).reason));
      case 'configuration':
        return this.queueConfiguration(data as StreamFrames['configuration']);
      case 'control':
        return this.applyControl((data as StreamFrames['control'])?.paused);
      case 'superseded':
        // Only our own session's: an older one's frame may still come after a renewal.
        if ((data as StreamFrames['superseded'])?.sessionId === this.session?.sessionId) void this.renew('superseded frame');
    }
  }

  /** A command or a task: verified, run once however often it is delivered, answered (again, if the answer may have been lost). */
  private async handleFrame(kind: SignedBody['kind'], frame: SignedFrame): Promise<void> {
    const verdict = await verifyFrame(this.options.signingSecret, frame, { kind, agentId: this.session?.agent.id ?? '' });
    if (!verdict.ok) {
      this.stats.rejectedFrames++;
      this.log.warn(`${kind} frame rejected (${verdict.reason}); not answered`);
      return;
    }
    const body = verdict.body;
    const seen = this.seen.get(body.id);
    if (seen !== undefined) {
      this.stats.duplicateFrames++;
      this.remember(body.id, seen);
      // Answered already: the answer may have been lost, so it goes again (a 409 says it was not).
      if (seen && !this.deliveries.has(body.id)) this.deliver(body, seen);
      return;
    }
    this.remember(body.id, null);
    const answer = await this.run(body);
    this.remember(body.id, answer);
    this.deliver(body, answer);
  }

  private remember(id: string, answer: Answer | null): void {
    this.seen.delete(id);
    this.seen.set(id, answer);
    for (const oldest of this.seen.keys()) {
      if (this.seen.size <= SEEN_COMMANDS_KEPT) break;
      this.seen.delete(oldest);
    }
  }

  protected async run(body: SignedBody): Promise<Answer> {
    const commandHandler = body.kind === 'command' ? this.commandHandlers.get(body.type) : undefined;
    if (body.kind === 'command' && !commandHandler) return { ok: false, error: { code: 'unknown_command', message: `no handler for command type ${body.type}` } };
    if (body.kind === 'task' && !this.taskHandler) return { ok: false, error: { message: 'this agent takes no tasks (it has no task handler)', retryable: false } };
    const expiresAt = new Date(body.expiresAt);
    const abort = new AbortController();
    const stopping = this.lifecycle?.signal;
    const stopAbort = () => abort.abort(new Error('agent stopping'));
    const expiry = setTimeout(() => abort.abort(new Error(`${body.kind} expired`)), Math.min(expiresAt.getTime() - Date.now(), MAX_TIMER_MS));
    stopping?.addEventListener('abort', stopAbort, { once: true });
    this.running++;
    this.cancellers.set(body.id, abort);
    this.log.info(`running ${label(body)} (${body.id})`);
    try {
      if (body.kind === 'command') {
        this.stats.commandsRun++;
        return { ok: true, result: await commandHandler!(body.payload, { id: body.id, type: body.type, signal: abort.signal, expiresAt }) };
      }
      this.stats.tasksRun++;
      return { ok: true, output: await this.taskHandler!(body.input, { id: body.id, task: body.task, context: body.context, signal: abort.signal, expiresAt }) };
    } catch (error) {
      if (body.kind === 'command') return { ok: false, error: { code: 'handler_error', message: describe(error) } };
      const retryable = (error as { retryable?: unknown })?.retryable !== false;
      return { ok: false, error: { message: describe(error), ...(retryable ? {} : { retryable: false }) } };
    } finally {
      this.running--;
      this.cancellers.delete(body.id);
      clearTimeout(expiry);
      stopping?.removeEventListener('abort', stopAbort);
    }
  }

  /** Posts an answer in the background, remembered so that stop() can give it a moment before goodbye. */
  private deliver(body: SignedBody, answer: Answer): void {
    const delivery = this.postAnswer(body, answer).finally(() => this.deliveries.delete(body.id));
    this.deliveries.set(body.id, delivery);
  }

  /** Retries network errors and 5xx until the work expires; a 409 means Mission Control has it already (or gave it up). */
  private async postAnswer(body: SignedBody, answer: Answer): Promise<void> {
    const expiresAt = Date.parse(body.expiresAt);
    const path = `/${body.kind === 'command' ? 'commands' : 'tasks'}/${encodeURIComponent(body.id)}/result`;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.post(path, answer);
        return this.log.info(`answered ${label(body)} (${body.id}): ${answer.ok ? 'ok' : answer.error.message}`);
      } catch (error) {
        if (error instanceof AgentClientError && error.status === 409) return;
        const retryable = !(error instanceof AgentClientError) || error.status >= 500;
        const wait = backoffMs(attempt);
        if (!retryable || this.stopped || Date.now() + wait > expiresAt) {
          return this.log.warn(`answer to ${label(body)} (${body.id}) dropped: ${describe(error)}`);
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

  private post<T>(path: string, body: unknown): Promise<T> {
    return this.request('POST', path, body);
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await this.fetch(`${this.baseUrl()}${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.options.token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (!response.ok) throw await errorFrom(response);
    return (await response.json()) as T;
  }
}


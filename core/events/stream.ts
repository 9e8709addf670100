// The live event stream of one process: ONE reader follows the events table
// (woken by PostgreSQL's NOTIFY, and by a slow timer in case a notification
// was missed while the connection was down) and hands each new event to every
// subscriber, so a thousand viewers cost the database what one does. Every
// process (web replica) runs its own reader over the same table, so all of
// them see every event, in the same order.
//
// A subscriber that resumes (an SSE client's Last-Event-ID) first reads what
// it missed from the table, then joins the live feed: ids follow commit order
// without gaps (db/migrations/0007_events.sql), so "after id N" loses nothing
// and repeats nothing.
//
// The reader and onEvent's listeners (caches) see every workspace's events; a
// subscriber is pinned to one workspace, for its catch-up and its live feed alike.
import type { Sql } from '../../db/sql';
import type { Logger } from '../../lib/logger';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { latestEventId, listEvents, matches, type EventFilter, type MissionEvent } from './events';

const PAGE = 500;
/** A live subscriber this far behind is dropped (its client reconnects and catches up from the table). */
const MAX_BACKLOG = 5000;

export interface Subscription {
  /** The next event, or null once the subscription ended (closed, or dropped for falling behind). */
  next(): Promise<MissionEvent | null>;
  close(): void;
}

class Subscriber implements Subscription {
  private readonly queue: MissionEvent[] = [];
  private waiting: ((e: MissionEvent | null) => void) | null = null;
  /** Live events that arrived while the backlog was read; delivered after it, those past the cursor only. */
  private held: MissionEvent[] | null;
  closed = false;

  constructor(
    readonly filter: EventFilter,
    private cursor: number,
    catchingUp: boolean,
    private readonly onClose: (s: Subscriber) => void,
  ) {
    this.held = catchingUp ? [] : null;
  }

  /** From the reader: a new event (any type; this subscriber's filter decides). */
  offer(e: MissionEvent): void {
    if (this.closed) return;
    if (this.held) {
      this.held.push(e);
      if (this.held.length > MAX_BACKLOG) this.close();
      return;
    }
    this.deliver(e);
  }

  /** From the catch-up: an event of the backlog, in order. */
  deliver(e: MissionEvent): void {
    const id = Number(e.id);
    if (this.closed || id <= this.cursor || !matches(e, this.filter)) return;
    this.cursor = id;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(e);
      return;
    }
    this.queue.push(e);
    if (this.queue.length > MAX_BACKLOG) this.close();
  }

  get position(): number {
    return this.cursor;
  }

  /** The backlog is read: what arrived meanwhile follows, and then the live feed. */
  caughtUp(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const e of held) this.deliver(e);
  }

  private room: (() => void) | null = null;

  /** Resolves once the reader has taken what was queued down to `size` (the backlog waits for a slow reader). */
  until(size: number): Promise<void> {
    if (this.queue.length <= size || this.closed) return Promise.resolve();
    return new Promise((resolve) => (this.room = () => (this.queue.length <= size || this.closed) && (this.room = null, resolve())));
  }

  next(): Promise<MissionEvent | null> {
    if (this.queue.length) {
      const e = this.queue.shift()!;
      this.room?.();
      return Promise.resolve(e);
    }
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.room?.();
    const w = this.waiting;
    this.waiting = null;
    w?.(null);
    this.onClose(this);
  }
}

export interface EventStreamOptions {
  /** How often the reader looks without a notification (a missed NOTIFY, a reconnect). */
  pollMs?: number;
}

export class EventStream {
  private head = 0;
  private readonly subscribers = new Set<Subscriber>();
  private readonly listeners = new Set<(e: MissionEvent) => void>();
  private reading: Promise<void> | null = null;
  private again = false;
  private timer?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private unlisten?: () => Promise<void>;
  private started: Promise<void> | null = null;

  constructor(
    private readonly sql: Sql,
    private readonly logger: Logger,
    private readonly opts: EventStreamOptions = {},
  ) {}

  /** Starts following the table from its newest event (idempotent; the first subscriber starts it too). */
  start(): Promise<void> {
    this.started ??= (async () => {
      this.head = await latestEventId(this.sql);
      const listener = await this.sql.listen('mc_events', () => this.poke(), () => this.poke());
      this.unlisten = () => listener.unlisten();
      this.timer = setInterval(() => this.poke(), this.opts.pollMs ?? 2000);
      this.timer.unref();
    })().catch((err) => {
      this.started = null; // the next subscriber tries again, and so does a retry while caches listen
      if (this.listeners.size && !this.retry) {
        this.retry = setTimeout(() => {
          this.retry = undefined;
          if (this.listeners.size) this.start().catch(() => {});
        }, 5000);
        this.retry.unref();
      }
      throw err;
    });
    return this.started;
  }

  /** Stops following (a later subscriber starts it again). */
  async stop(): Promise<void> {
    this.started = null;
    clearInterval(this.timer);
    clearTimeout(this.retry);
    this.retry = undefined;
    for (const s of [...this.subscribers]) s.close();
    await this.reading?.catch(() => {});
    await this.unlisten?.().catch(() => {});
    this.unlisten = undefined;
  }

  /**
   * Calls `fn` with every new event, before any subscriber hears of it: caches drop what an event made
   * stale before a page that the same event woke asks for it again. Starts the reader; returns the undo.
   */
  onEvent(fn: (e: MissionEvent) => void): () => void {
    this.listeners.add(fn);
    void this.start().catch((err) => this.logger.warn({ err: (err as Error).message }, 'event stream: could not start; caches expire by time only'));
    return () => this.listeners.delete(fn);
  }

  /** How many subscribers are connected (for tests and metrics). */
  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Subscribes to the events of one workspace (the default one unless named) matching `filter`: those
   * after `after` when given (a resume), else those from now on.
   */
  async subscribe(filter: Omit<EventFilter, 'workspaceId'>, after?: number, ws?: WorkspaceRef): Promise<Subscription> {
    await this.start();
    const [pin] = ws ? [ws] : await this.sql<{ id: string }[]>`select ${workspaceIdOf(this.sql)}::text as id`;
    const pinned: EventFilter = { ...filter, workspaceId: pin!.id };
    const resume = after !== undefined;
    const s = new Subscriber(pinned, resume ? after : this.head, resume, (x) => this.subscribers.delete(x));
    this.subscribers.add(s);
    if (resume) {
      // The first page before answering (a database that is down fails the subscription), the rest as the
      // reader takes them: a long absence is caught up page by page, never all held in memory.
      let page: MissionEvent[];
      try {
        page = await listEvents(this.sql, { ...pinned, after: s.position }, PAGE);
      } catch (err) {
        s.close();
        throw err;
      }
      void (async () => {
        for (;;) {
          for (const e of page) s.deliver(e);
          if (page.length < PAGE || s.closed) break;
          await s.until(PAGE);
          page = await listEvents(this.sql, { ...pinned, after: s.position }, PAGE);
        }
        s.caughtUp();
      })().catch((err) => {
        this.logger.warn({ err: (err as Error).message }, 'event stream: catching a subscriber up failed; it reconnects');
        s.close();
      });
    }
    return s;
  }

  /** Reads what is new (again, if asked while reading). */
  poke(): void {
    if (!this.started) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.read()
      .catch((err) => this.logger.warn({ err: (err as Error).message }, 'event stream: reading new events failed; retrying'))
      .finally(() => {
        this.reading = null;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  private async read(): Promise<void> {
    for (;;) {
      const page = await listEvents(this.sql, { after: this.head }, PAGE);
      for (const e of page) {
        this.head = Number(e.id);
        for (const fn of this.listeners) {
          try {
            fn(e);
          } catch (err) {
            this.logger.warn({ err: (err as Error).message }, 'event stream: a listener failed');
          }
        }
        for (const s of this.subscribers) s.offer(e);
      }
      if (page.length < PAGE) return;
    }
  }
}

const streams = new WeakMap<Sql, EventStream>();

/** The one stream of a process's database pool: every route and page that follows events shares it. */
export function eventStreamOf(sql: Sql, logger: Logger): EventStream {
  let stream = streams.get(sql);
  if (!stream) streams.set(sql, (stream = new EventStream(sql, logger)));
  return stream;
}

// A local HTTP receiver standing in for a webhook endpoint: records what it gets.
// Like a real idempotent API it applies each Idempotency-Key once (a request
// repeating a key is counted as a retry, answered 200, and not applied again),
// and a test can hold responses open (`holdMs`, or `holdNext()` for a request it
// wants to act on while the sender waits for the answer).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  headers: http.IncomingHttpHeaders;
  body: unknown;
  /** The Idempotency-Key header, or null when the request had none. */
  key: string | null;
  /** True when this key had been applied before: the sender retried it. */
  retry: boolean;
  at: number;
}

export interface HeldRequest {
  request: ReceivedRequest;
  /** Sends the held answer (a no-op once the sender hung up). */
  release(): void;
}

export interface Receiver {
  url: string;
  /** Every request, in arrival order, retries included. */
  received: ReceivedRequest[];
  /** Each key applied, once, with the body that applied it. */
  applied: Map<string, unknown>;
  /** How many requests repeated a key already applied. */
  retries(): number;
  /**
   * Holds the answer to the next request that brings a new key matching `filter` until released:
   * the sender is then between sending and learning that it was delivered.
   */
  holdNext(filter?: (r: ReceivedRequest) => boolean, timeoutMs?: number): Promise<HeldRequest>;
  close(): Promise<void>;
}

export async function startReceiver(status = 200, opts: { holdMs?: number } = {}): Promise<Receiver> {
  const received: ReceivedRequest[] = [];
  const applied = new Map<string, unknown>();
  const waiters: { filter: (r: ReceivedRequest) => boolean; resolve: (h: HeldRequest) => void }[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const header = req.headers['idempotency-key'];
      const key = typeof header === 'string' ? header : null;
      const body = JSON.parse(data || 'null');
      const request: ReceivedRequest = { headers: req.headers, body, key, retry: key !== null && applied.has(key), at: Date.now() };
      received.push(request);
      if (key !== null && !request.retry && status < 300) applied.set(key, body);
      const answer = () => {
        if (!res.destroyed && !res.writableEnded) res.writeHead(status, { 'Content-Type': 'text/plain' }).end('ok');
      };
      const waiter = !request.retry ? waiters.findIndex((w) => w.filter(request)) : -1;
      if (waiter >= 0) return waiters.splice(waiter, 1)[0]!.resolve({ request, release: answer });
      if (opts.holdMs) setTimeout(answer, opts.holdMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    applied,
    retries: () => received.filter((r) => r.retry).length,
    holdNext: (filter = () => true, timeoutMs = 30_000) =>
      new Promise<HeldRequest>((resolve, reject) => {
        const waiter = {
          filter,
          resolve: (h: HeldRequest) => {
            clearTimeout(timer);
            resolve(h);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no new request reached the receiver within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      }),
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

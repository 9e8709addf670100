// A server-sent-events client for tests: reads a real HTTP stream (fetch),
// parses its frames, and waits for the events a test expects.

export interface SseFrame {
  id?: string;
  event: string;
  data: string;
}

export interface SseClient {
  readonly status: number;
  /** Every frame received so far (keepalive comments excluded). */
  readonly frames: SseFrame[];
  /** Waits until `count` frames match `pick`, and returns them. */
  waitFor(pick: (f: SseFrame) => boolean, count?: number, timeoutMs?: number): Promise<SseFrame[]>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const frames: SseFrame[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  const wake = () => {
    for (const w of waiters) w();
  };
  if (res.ok && res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const raw = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const frame: SseFrame = { event: 'message', data: '' };
            const data: string[] = [];
            for (const line of raw.split('\n')) {
              if (!line || line.startsWith(':')) continue;
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'id') frame.id = value;
              else if (field === 'event') frame.event = value;
              else if (field === 'data') data.push(value);
            }
            if (!data.length && frame.id === undefined && frame.event === 'message') continue;
            frame.data = data.join('\n');
            frames.push(frame);
            wake();
          }
        }
      } catch {
        // aborted by close(), or the server went away
      } finally {
        ended = true;
        wake();
      }
    })();
  }
  return {
    status: res.status,
    frames,
    async waitFor(pick, count = 1, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = frames.filter(pick);
        if (found.length >= count) return found.slice(0, count);
        if (ended) throw new Error(`the stream ended with ${found.length} of ${count} expected frames: ${JSON.stringify(frames.slice(-5))}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out with ${found.length} of ${count} expected frames: ${JSON.stringify(frames.slice(-5))}`);
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            waiters.delete(done);
            resolve();
          };
          const timer = setTimeout(done, left);
          waiters.add(done);
        });
      }
    },
    close: () => abort.abort(),
  };
}

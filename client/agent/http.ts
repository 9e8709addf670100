// The HTTP plumbing of the shipped agent client: error answers, backoff, waits.

/** An error answer from Mission Control (`{ error: { code, message } }`), with its HTTP status. */
export class AgentClientError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'AgentClientError';
  }
}

/** Reads `{ error: { code, message } }`, or makes do with the status when the body is something else. */
export async function errorFrom(response: Response): Promise<AgentClientError> {
  const body = (await response.json().catch(() => null)) as { error?: { code?: unknown; message?: unknown } } | null;
  const { code, message } = body?.error ?? {};
  const fallback = `Mission Control answered HTTP ${response.status}`;
  return new AgentClientError(response.status, typeof code === 'string' ? code : `http_${response.status}`, typeof message === 'string' ? message : fallback);
}

/** 0.5 s doubling to 15 s, each wait between half and all of it so that agents do not retry in step. */
export function backoffMs(attempt: number): number {
  const ceiling = Math.min(15_000, 500 * 2 ** Math.min(attempt, 5));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => (clearTimeout(timer), signal?.removeEventListener('abort', done), resolve());
    const timer = setTimeout(done, ms);
    if (signal?.aborted) done();
    else signal?.addEventListener('abort', done);
  });
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

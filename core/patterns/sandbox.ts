// What the domain needs from a sandbox: run a pattern's code on an input with
// a ctx, and check code without running it. activities/sandbox implements it
// with SES in worker threads; nothing in core/ knows how.

export type PatternErrorKind =
  | 'syntax' // the code does not parse or is not a function
  | 'output' // the result is not plain JSON data within the size limit
  | 'runtime' // the pattern threw
  | 'timeout' // stopped at its time limit
  | 'memory' // stopped at its memory limit
  | 'blocked' // an outbound send was refused by the safety settings
  | 'crashed' // the sandbox thread died for another reason
  | 'cancelled'; // the run was cancelled from outside

export interface SourcePosition {
  line: number;
  column: number;
}

/** What can go wrong running a pattern, as a value with a kind; the kind decides whether retrying may help. */
export class PatternError extends Error {
  constructor(
    readonly kind: PatternErrorKind,
    message: string,
    readonly position?: SourcePosition,
    readonly logs: string[] = [],
  ) {
    super(message);
    this.name = 'PatternError';
  }

  /** Errors that running again cannot fix. */
  get retryable(): boolean {
    return !['syntax', 'output', 'blocked', 'cancelled'].includes(this.kind);
  }
}

export type ShapeCheck = { ok: true } | { ok: false; message: string; position?: SourcePosition };

/** What a pattern sees as ctx beyond its input. */
export interface RunContext {
  previous?: Record<string, unknown>;
  notes?: string | null;
  attempt?: number;
  task?: { id: string; name: string } | null;
  mission?: { id: string; name: string; workflowId: string; runId: string; input?: unknown } | null;
}

export interface RunRequest {
  code: string;
  input: unknown;
  context?: RunContext;
  timeoutMs: number;
  /** The host side of ctx.outbound.send; absent means outbound is unavailable. */
  onOutbound?: (channel: string, payload: unknown) => Promise<unknown>;
  /** The host side of ctx.outreach.<op>(...args) (core/outreach/host.ts); absent means ctx.outreach is unavailable. */
  onOutreach?: (op: string, args: unknown[]) => Promise<unknown>;
  signal?: AbortSignal;
}

export interface RunResult {
  output: unknown;
  logs: string[];
  logsTruncated: boolean;
  durationMs: number;
}

export interface PatternSandbox {
  /** Runs the code; rejects with a PatternError. */
  run(req: RunRequest): Promise<RunResult>;
  /** Checks code without running it. */
  check(code: string): Promise<ShapeCheck>;
  /** How many patterns it runs at once: the worker sizes its activity slots to this. */
  readonly capacity: number;
}

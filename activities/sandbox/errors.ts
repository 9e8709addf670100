// What can go wrong running a pattern, as values with a kind. The kind
// decides whether Temporal may retry (see activities/pattern-run.ts).

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

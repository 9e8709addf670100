// Runs one pattern version in the sandbox and records the run: the shared
// path of POST /api/inject and of a mission task. Outbound attempts go
// through the host's safety checks; the run, its outbound attempts and the
// statistics are recorded once per execution key.
import type { Actor } from '../audit/audit-log';
import { recordRun, type KeptOutput } from './pattern-runs';
import type { EventInput } from '../events/events';
import type { PatternConfig } from './schemas';
import type { Sql } from '../../db/sql';
import { isConnectionError } from '../../db/sql';
import { sendOutbound, OutboundBlockedError, OutboundUncertainError, type Adapters, type OutboundAttempt } from '../safety/outbound';
import { PatternError, type PatternSandbox, type RunContext } from './sandbox';
import { outreachHost } from '../outreach/host';


/** Outbound attempts one run may make; a pattern that loops on send stops here, not at its timeout. */
export const MAX_SENDS_PER_RUN = 100;

export interface RunnableVersion {
  patternId: string;
  patternName: string;
  versionId: string;
  version: number;
  code: string;
  config: PatternConfig;
}

export interface PatternRunDeps {
  sql: Sql;
  sandbox: PatternSandbox;
  adapters: Adapters;
}

export interface PatternRunRequest {
  pattern: RunnableVersion;
  input: unknown;
  context?: RunContext;
  executionKey: string;
  /** Outbound sends are keyed by this plus their number, so every attempt of one task run sends at most once. */
  effectsKey?: string;
  source: 'inject' | 'mission';
  actor: Actor;
  timeoutMs?: number;
  missionId?: string | null;
  workflowId?: string | null;
  taskId?: string | null;
  attempt?: number;
  /** Aborted when the attempt was cancelled or timed out: nothing more is sent or recorded. */
  signal?: AbortSignal;
  /**
   * Where the output is kept instead of the run's row (a mission task's reference), written in the statement
   * that records the run. When another attempt kept its output first, this one is not recorded (statistics
   * count once) and `recorded` is false.
   */
  keepOutput?: (output: unknown) => KeptOutput;
  /** The event a successful run stands for (a mission task completed, or waiting for approval), written with its record. */
  succeededEvent?: EventInput;
  /** The workspace the run belongs to: its record is kept there, and its sends obey that workspace's safety settings. Omitted → the default workspace. */
  workspaceId?: string;
}

export interface PatternRunResult {
  output: unknown;
  logs: string[];
  logsTruncated: boolean;
  durationMs: number;
  outbound: OutboundAttempt[];
  pattern: { id: string; name: string; version: number; versionId: string };
  /** False when this execution (or, with keepOutput, another attempt of it) was recorded before. */
  recorded: boolean;
}

/** A failed run: the PatternError plus what the run did before it failed. */
export class PatternRunError extends PatternError {
  constructor(
    cause: PatternError,
    readonly outbound: OutboundAttempt[],
    readonly durationMs: number,
  ) {
    super(cause.kind, cause.message, cause.position, cause.logs);
  }
}

export async function runPattern(deps: PatternRunDeps, req: PatternRunRequest): Promise<PatternRunResult> {
  const { pattern } = req;
  const outbound: OutboundAttempt[] = [];
  let blocked = false;
  let hostFailure: Error | undefined;
  let sends = 0;
  const started = performance.now();
  const stopped = () => {
    if (req.signal?.aborted) throw new PatternError('cancelled', 'The run was stopped before it finished.');
  };
  const record = (status: 'succeeded' | 'failed', extra: { output?: unknown; logs: string[]; durationMs: number; error?: PatternError }, more: { kept?: KeptOutput; event?: EventInput } = {}) =>
    recordRun(deps.sql, {
      executionKey: req.executionKey,
      patternId: pattern.patternId,
      versionId: pattern.versionId,
      patternName: pattern.patternName,
      version: pattern.version,
      source: req.source,
      missionId: req.missionId,
      workflowId: req.workflowId,
      taskId: req.taskId,
      attempt: req.attempt,
      status,
      errorKind: extra.error?.kind ?? null,
      errorMessage: extra.error?.message ?? null,
      output: extra.output,
      logs: extra.logs,
      outbound,
      durationMs: extra.durationMs,
      actor: req.actor.name,
      workspaceId: req.workspaceId,
    }, more);

  const outreach = req.source === 'mission' && req.workspaceId
    ? outreachHost({ sql: deps.sql, workspaceId: req.workspaceId, actor: req.actor, effectsKey: req.effectsKey ?? req.executionKey, workflowId: req.workflowId, taskId: req.taskId })
    : null;
  const outreachCalls = async (op: string, args: unknown[]) => {
    stopped();
    try {
      return await outreach!(op, args);
    } catch (err) {
      if (isConnectionError(err)) hostFailure ??= err as Error; // the database, not the pattern: the attempt fails as such
      throw err;
    }
  };

  try {
    const result = await deps.sandbox.run({
      code: pattern.code,
      input: req.input,
      context: req.context,
      timeoutMs: req.timeoutMs ?? pattern.config.timeout,
      signal: req.signal,
      // Mission tasks only (in their run's workspace): a test run (POST /api/inject) creates no leads or drafts.
      onOutreach: outreach ? outreachCalls : undefined,
      onOutbound: async (channel, payload) => {
        stopped();
        const n = ++sends;
        if (n > MAX_SENDS_PER_RUN) throw new Error(`A run may send at most ${MAX_SENDS_PER_RUN} outbound messages.`);
        try {
          const { attempt, reply } = await sendOutbound(deps, {
            channel,
            payload,
            idempotencyKey: `${req.effectsKey ?? req.executionKey}#${n}`,
            patternId: pattern.patternId,
            executionKey: req.executionKey,
            actor: req.actor,
            signal: req.signal,
            workspaceId: req.workspaceId,
          });
          outbound.push(attempt);
          return reply;
        } catch (err) {
          if (isConnectionError(err) || err instanceof OutboundUncertainError) hostFailure ??= err as Error;
          const attempt = (err as { attempt?: OutboundAttempt }).attempt;
          if (attempt) outbound.push(attempt);
          if (err instanceof OutboundBlockedError) blocked = true;
          throw err;
        }
      },
    });
    // An attempt that was stopped (its activity timed out or was cancelled) records nothing: another attempt takes over.
    stopped();
    const recorded = await record('succeeded', { output: result.output, logs: result.logs, durationMs: result.durationMs }, {
      kept: req.keepOutput?.(result.output), event: req.succeededEvent,
    });
    return {
      output: result.output,
      logs: result.logs,
      logsTruncated: result.logsTruncated,
      durationMs: result.durationMs,
      outbound,
      pattern: { id: pattern.patternId, name: pattern.patternName, version: pattern.version, versionId: pattern.versionId },
      recorded,
    };
  } catch (err) {
    // The host failing (the database, or a send whose fate is unknown) is not the pattern's failure:
    // nothing is recorded, and the caller retries the whole run on the host's budget.
    if (hostFailure) throw hostFailure;
    if (isConnectionError(err)) throw err;
    const base = err instanceof PatternError ? err : new PatternError('crashed', (err as Error).message);
    // A run that failed after one of its sends was refused cannot succeed by retrying.
    const cause = blocked && base.kind === 'runtime' ? new PatternError('blocked', base.message, undefined, base.logs) : base;
    const durationMs = performance.now() - started;
    if (cause.kind !== 'cancelled') await record('failed', { logs: cause.logs, durationMs, error: cause });
    throw new PatternRunError(cause, outbound, durationMs);
  }
}

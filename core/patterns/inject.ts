// POST /api/inject and the UI's "test run": run one pattern (by id, or chosen
// from a container by a policy) on an input, audited, rate-limited per user.
// Only the workspace's own patterns and containers can be run, and the run
// is recorded, audited and held to the safety settings in that workspace.
import { randomUUID } from 'node:crypto';
import { PatternRunError, runPattern, type PatternRunDeps, type PatternRunResult } from './run-pattern';
import { AppError } from '../../lib/errors';
import { appendAudit, type Actor } from '../audit/audit-log';
import { getContainer } from './containers';
import { getPattern } from './patterns';
import { hitRateLimit } from '../access/rate-limit';
import type { WorkspaceRef } from '../access/users';
import type { InjectInput } from './schemas';
import { choosePattern, loadCandidates, NoCandidateError } from './selection';

export class PatternFailedError extends AppError {
  constructor(err: PatternRunError, pattern: { id: string; name: string; version: number }) {
    super(422, `pattern_${err.kind}`, err.message, {
      kind: err.kind,
      pattern,
      logs: err.logs,
      outbound: err.outbound,
      durationMs: Math.round(err.durationMs * 100) / 100,
      ...(err.position ? { position: err.position } : {}),
    });
  }
}

export interface InjectResult extends PatternRunResult {
  executionKey: string;
  selectedBy: string;
}

export async function inject(
  deps: PatternRunDeps, input: InjectInput, actor: Actor, opts: { ratePerMinute: number }, ws?: WorkspaceRef,
): Promise<InjectResult> {
  await hitRateLimit(deps.sql, `inject:${actor.id ?? actor.name}`, opts.ratePerMinute, 60);
  let chosen;
  let selectedBy: string;
  if (input.patternId) {
    const p = await getPattern(deps.sql, input.patternId, ws);
    if (!p.isActive) throw new AppError(409, 'pattern_inactive', `Pattern "${p.name}" is inactive; activate it to run it.`);
    chosen = { patternId: p.id, patternName: p.name, versionId: p.versionId, version: p.version, code: p.code, config: p.config };
    selectedBy = 'patternId';
  } else {
    const container = await getContainer(deps.sql, input.containerId!, ws);
    const candidates = await loadCandidates(deps.sql, container.id, ws);
    if (!candidates.length) throw new NoCandidateError(container.name);
    const c = choosePattern(candidates, input.policy, Math.random);
    chosen = { patternId: c.id, patternName: c.name, versionId: c.versionId, version: c.version, code: c.code, config: c.config };
    selectedBy = input.policy;
  }
  const executionKey = `inject:${randomUUID()}`;
  const audit = (outcome: string, extra: Record<string, unknown>) =>
    appendAudit(deps.sql, {
      actor, action: 'pattern.injected', entityType: 'pattern', entityId: chosen.patternId,
      details: { version: chosen.version, selectedBy, outcome, executionKey, ...extra }, workspaceId: ws?.id,
    });
  try {
    const result = await runPattern(deps, {
      pattern: chosen, input: input.input, executionKey, source: 'inject', actor, timeoutMs: input.timeoutMs, workspaceId: ws?.id,
    });
    await audit('succeeded', { durationMs: result.durationMs, outbound: result.outbound.map((o) => `${o.channel}:${o.status}`) });
    return { ...result, executionKey, selectedBy };
  } catch (err) {
    if (!(err instanceof PatternRunError)) throw err;
    await audit('failed', { kind: err.kind, error: err.message });
    throw new PatternFailedError(err, { id: chosen.patternId, name: chosen.patternName, version: chosen.version });
  }
}

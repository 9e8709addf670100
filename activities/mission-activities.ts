// The activities of missionWorkflow. Every one is safe to retry: runs,
// audit entries and alerts carry keys made from the workflow run, so a
// retried activity records nothing twice and a task that already succeeded
// is not run again.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { appendAudit, SYSTEM_ACTOR, type Actor } from '../core/audit/audit-log';
import { buildPlan } from '../core/missions/missions';
import { countFailedRuns, findSucceededRun } from '../core/patterns/pattern-runs';
import type { SelectionPolicy } from '../core/patterns/schemas';
import { choosePattern, loadCandidates } from '../core/patterns/selection';
import type { Sql } from '../db/sql';
import type { Logger } from '../lib/logger';
import type { MissionTrigger } from '../lib/names';
import type { DecisionAction, MissionPlan, PinnedPattern } from '../workflows/messages';
import type { Adapters } from '../core/safety/outbound';
import { PatternRunError, runPattern } from '../core/patterns/run-pattern';
import type { SandboxPool } from './sandbox';

export interface RunTaskInput {
  missionId: string;
  missionName: string;
  taskId: string;
  taskName: string;
  /** Which run of this task within the workflow run (request_changes runs it again). */
  execSeq: number;
  pattern: PinnedPattern;
  input: unknown;
  previous: Record<string, unknown>;
  notes: string[];
  runInput: unknown;
  maxPatternAttempts: number;
  startedBy: Actor | null;
}

export interface RunTaskResult {
  output: unknown;
  logs: string[];
  durationMs: number;
  attempt: number;
  outbound: { channel: string; status: string }[];
  /** True when an earlier attempt had already succeeded and its recorded result is returned. */
  replayed: boolean;
}

export const DECISION_EVENTS: Record<DecisionAction, string> = {
  approve: 'approval.approved',
  reject: 'approval.rejected',
  request_changes: 'approval.changes_requested',
  edit_inline_approve: 'approval.edited_and_approved',
  approve_with_notes: 'approval.approved_with_notes',
};

const ERROR_TYPES: Record<string, string> = {
  syntax: 'PatternSyntax', output: 'PatternOutput', blocked: 'PatternBlocked', runtime: 'PatternRuntime',
  timeout: 'PatternTimeout', memory: 'PatternMemory', crashed: 'PatternCrashed', cancelled: 'PatternCancelled',
};

export interface MissionActivityDeps {
  sql: Sql;
  sandbox: SandboxPool;
  adapters: Adapters;
  logger: Logger;
}

function runKey(): { workflowId: string; runId: string; base: string } {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('mission activities run only inside a workflow');
  const { workflowId, runId } = execution;
  return { workflowId, runId, base: `${workflowId}/${runId}` };
}

async function actorByName(sql: Sql, name: string): Promise<Actor & { role?: string; disabled?: boolean }> {
  const [u] = await sql<{ id: string; username: string; role: string; disabled: boolean }[]>`
    select id, username, role, disabled from users where lower(username) = lower(${name})`;
  return u ? { id: u.id, name: u.username, role: u.role, disabled: u.disabled } : { id: null, name };
}

export function createMissionActivities(deps: MissionActivityDeps) {
  const { sql, logger } = deps;

  // A version's code never changes (db/migrations/0002_patterns.sql), so it is read once.
  const codeCache = new Map<string, string>();
  const codeOf = async (versionId: string): Promise<string | null> => {
    const cached = codeCache.get(versionId);
    if (cached !== undefined) return cached;
    const [row] = await sql<{ code: string }[]>`select code from pattern_versions where id = ${versionId}`;
    if (!row) return null;
    if (codeCache.size >= 500) codeCache.delete(codeCache.keys().next().value!);
    codeCache.set(versionId, row.code);
    return row.code;
  };

  return {
    /** The plan of a run started by a schedule or a trigger, read when the run starts (and so kept in its history). */
    async loadPlan(input: { missionId: string; trigger: MissionTrigger; startedBy?: Actor }): Promise<MissionPlan> {
      const { workflowId } = runKey();
      let plan: MissionPlan;
      try {
        // A paused mission starts nothing, even when its schedule is triggered from outside the app.
        const [mission] = await sql<{ status: string; name: string }[]>`select status, name from missions where id = ${input.missionId}`;
        if (mission?.status === 'paused') throw new Error(`Mission "${mission.name}" is paused; resume it before running it.`);
        plan = await buildPlan(sql, input.missionId);
      } catch (err) {
        throw ApplicationFailure.create({ type: 'Validation', message: (err as Error).message, nonRetryable: true });
      }
      await appendAudit(sql, {
        actor: input.startedBy ?? { id: null, name: input.trigger === 'scheduled' ? 'scheduler' : 'trigger' },
        action: 'mission.executed', entityType: 'mission', entityId: input.missionId,
        details: { workflowId, trigger: input.trigger }, idempotencyKey: `mission.executed:${workflowId}`,
      });
      return plan;
    },

    /** Chooses the pattern of a policy task; the choice is recorded in the workflow's history. */
    async selectPattern(input: { containerId: string; policy: SelectionPolicy; taskId: string }): Promise<PinnedPattern> {
      const candidates = await loadCandidates(sql, input.containerId);
      if (!candidates.length) {
        throw ApplicationFailure.create({ type: 'Validation', message: 'The container has no active pattern to choose from.', nonRetryable: true });
      }
      const c = choosePattern(candidates, input.policy, Math.random);
      return { patternId: c.id, patternName: c.name, versionId: c.versionId, version: c.version, config: c.config };
    },

    async runMissionTask(input: RunTaskInput): Promise<RunTaskResult> {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const { workflowId, runId, base } = runKey();
      const prefix = `${base}/${input.taskId}/${input.execSeq}/`;
      const at = { workflowId, taskId: input.taskId, keyPrefix: prefix };
      // Only a retry can find its task already done (a worker lost after recording, before reporting).
      const prior = attempt > 1 ? await findSucceededRun(sql, at) : null;
      if (prior) {
        return { output: prior.output, logs: prior.logs, durationMs: prior.durationMs, attempt: prior.attempt, outbound: summarise(prior.outbound), replayed: true };
      }
      const code = await codeOf(input.pattern.versionId);
      if (code === null) throw ApplicationFailure.create({ type: 'Validation', message: `Pattern version ${input.pattern.version} no longer exists.`, nonRetryable: true });
      const beat = setInterval(() => ctx.heartbeat({ attempt }), 1000);
      try {
        const result = await runPattern(deps, {
          pattern: { ...input.pattern, code },
          input: input.input,
          context: {
            previous: input.previous,
            notes: input.notes.length ? input.notes.join('\n\n') : null,
            attempt,
            task: { id: input.taskId, name: input.taskName },
            mission: { id: input.missionId, name: input.missionName, workflowId, runId, input: input.runInput } as never,
          },
          executionKey: `${prefix}${attempt}`,
          effectsKey: prefix,
          source: 'mission',
          actor: input.startedBy ?? SYSTEM_ACTOR,
          missionId: input.missionId,
          workflowId,
          taskId: input.taskId,
          attempt,
          signal: ctx.cancellationSignal,
        });
        return { output: result.output, logs: result.logs, durationMs: result.durationMs, attempt, outbound: summarise(result.outbound), replayed: false };
      } catch (err) {
        if (!(err instanceof PatternRunError)) throw err;
        if (err.kind === 'cancelled' && ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        const failures = await countFailedRuns(sql, at);
        const exhausted = failures >= input.maxPatternAttempts;
        throw ApplicationFailure.create({
          type: ERROR_TYPES[err.kind] ?? 'PatternRuntime',
          message: exhausted && err.retryable && input.maxPatternAttempts > 1 ? `${err.message} (after ${failures} attempts)` : err.message,
          nonRetryable: !err.retryable || exhausted,
          details: [{ kind: err.kind, attempt, failures, logs: err.logs }],
        });
      } finally {
        clearInterval(beat);
      }
    },

    /** Only an active admin may decide (seed 002); the decision is audited once, refusals too. */
    async authorizeDecision(input: {
      actor: string; action: DecisionAction; taskId: string; taskName: string; execSeq: number; missionId: string; notes: string | null; edited: boolean;
    }): Promise<{ accepted: boolean; reason?: string; actor: Actor }> {
      const { workflowId, base } = runKey();
      const actor = await actorByName(sql, input.actor);
      const allowed = actor.role === 'ADMIN' && !actor.disabled;
      const reason = allowed ? undefined : actor.id ? `${actor.name} may not decide approvals; only admins may` : `no user named ${input.actor}`;
      await appendAudit(sql, {
        actor: { id: actor.id, name: actor.name },
        action: allowed ? DECISION_EVENTS[input.action] : 'approval.refused',
        entityType: 'run', entityId: workflowId,
        details: {
          missionId: input.missionId, taskId: input.taskId, taskName: input.taskName, action: input.action,
          ...(input.notes ? { notes: input.notes } : {}), ...(input.edited ? { edited: true } : {}), ...(reason ? { reason } : {}),
        },
        idempotencyKey: `${base}/${Context.current().info.activityId}`,
      });
      return { accepted: allowed, reason, actor: { id: actor.id, name: actor.name } };
    },

    async recordRunEvent(input: { key: string; action: string; actor: string; missionId: string; details: Record<string, unknown> }): Promise<void> {
      const { workflowId, runId, base } = runKey();
      const actor = await actorByName(sql, input.actor);
      await appendAudit(sql, {
        actor: { id: actor.id, name: actor.name }, action: input.action, entityType: 'run', entityId: workflowId,
        details: { missionId: input.missionId, runId, ...input.details }, idempotencyKey: `${base}/${input.key}`,
      });
    },

    async raiseAlert(input: { key: string; missionId: string; kind: string; message: string }): Promise<void> {
      const { workflowId, base } = runKey();
      const rows = await sql`
        insert into alerts (idempotency_key, mission_id, workflow_id, kind, message)
        values (${`${base}/alert/${input.key}`}, ${input.missionId}, ${workflowId}, ${input.kind}, ${input.message})
        on conflict (idempotency_key) do nothing returning id`;
      if (rows.length) logger.warn({ missionId: input.missionId, workflowId, kind: input.kind }, input.message);
    },
  };
}

function summarise(outbound: unknown[]): { channel: string; status: string }[] {
  return (outbound as { channel: string; status: string }[]).map((o) => ({ channel: o.channel, status: o.status }));
}

export type MissionActivities = ReturnType<typeof createMissionActivities>;

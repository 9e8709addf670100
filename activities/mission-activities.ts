// The activities of missionWorkflow: thin Temporal adapters over the domain.
// Every one is safe to retry: runs, outputs, audit entries and alerts carry
// keys made from the workflow run, so a retried activity records nothing
// twice and a task that already succeeded is not run again. A database that
// is down is not a pattern's failure: it is retried on its own budget.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { appendAudit, SYSTEM_ACTOR, type Actor } from '../core/audit/audit-log';
import { buildPlan } from '../core/missions/missions';
import { countFailedRuns, findSucceededRun } from '../core/patterns/pattern-runs';
import type { SelectionPolicy } from '../core/patterns/schemas';
import { choosePattern, loadCandidates } from '../core/patterns/selection';
import { isConnectionError, type Sql } from '../db/sql';
import { NotFoundError } from '../lib/errors';
import type { Logger } from '../lib/logger';
import type { MissionTrigger } from '../lib/names';
import type { DecisionAction, MissionPlan, OutputRef, PinnedPattern } from '../workflows/messages';
import { OutboundUncertainError, type Adapters } from '../core/safety/outbound';
import { PatternRunError, runPattern } from '../core/patterns/run-pattern';
import type { PatternSandbox } from '../core/patterns/sandbox';
import { earlierOutputs, referenceTo, resolveOutputs, storeOutput } from '../core/runs/outputs';
import { appendEvent, type EventInput } from '../core/events/events';
import { applyGateDecision } from '../core/outreach/gate';
import { raiseAlert as raiseAlertRow } from '../core/alerts/alerts';
import { explainLostAttempt } from '../core/collab/explain';
import { holdLoadedRun } from '../core/safety/global-pause-state';
import { recordExecution, recordPausedFiring, recordRunEntry } from '../core/schedules/scheduler-runs';
import { actorByName, containerWorkspace, missionWorkspaces } from './run-workspace';

export interface RunTaskInput {
  missionId: string;
  missionName: string;
  taskId: string;
  taskName: string;
  /** Which run of this task within the workflow run (request_changes runs it again). */
  execSeq: number;
  pattern: PinnedPattern;
  input: unknown;
  /** The task's order: ctx.previous holds the outputs of the tasks before it. */
  order?: number;
  /**
   * This release's runs: the outputs of every task of an earlier order but these (which did not complete) are
   * read from the database; a task with no earlier order gets neither this nor `previous`. Runs of the first
   * release pass `previous` instead: the values themselves, or (when their workflow code is this release's,
   * with previousByRef) references or `{ value }`.
   */
  earlier?: { before: number; excluded: string[] };
  previous?: Record<string, OutputRef | { value: unknown }> | Record<string, unknown>;
  previousByRef?: boolean;
  notes: string[];
  runInput: unknown;
  maxPatternAttempts: number;
  startedBy: Actor | null;
  /** The task waits for a decision on its output (its success is then no `task.completed`: the run records `approval.requested`). */
  requiresApproval?: boolean;
}

export interface RunTaskResult {
  /** The output's reference (this release); runs of the first release got `output` and `logs` inline. */
  outputRef?: OutputRef;
  output?: unknown;
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

/** Enough of Temporal's WorkflowService to read a run's latest events. */
export interface RunHistoryReader {
  namespace: string;
  workflowService: {
    getWorkflowExecutionHistoryReverse(req: {
      namespace: string; execution: { workflowId: string; runId: string }; maximumPageSize: number; nextPageToken?: Uint8Array | null;
    }): Promise<{ history?: { events?: { workflowExecutionCancelRequestedEventAttributes?: { cause?: string | null; identity?: string | null } | null }[] | null } | null; nextPageToken?: Uint8Array | null }>;
  };
}

export interface MissionActivityDeps {
  sql: Sql;
  sandbox: PatternSandbox;
  history?: RunHistoryReader;
  adapters: Adapters;
  logger: Logger;
}

/** How often a task's attempt heartbeats (task-runner.ts gives it a 5 s heartbeat timeout). */
const HEARTBEAT_INTERVAL_MS = 1000;

function runKey(): { workflowId: string; runId: string; base: string } {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('mission activities run only inside a workflow');
  const { workflowId, runId } = execution;
  return { workflowId, runId, base: `${workflowId}/${runId}` };
}

/**
 * The database (or a send whose fate is unknown) failing is the host's problem, not the pattern's:
 * the attempt fails as `Infrastructure`, which the task activities retry without limit, backing off to 30 s.
 */
function hostFailure(err: unknown): never {
  if (err instanceof ApplicationFailure) throw err;
  if (isConnectionError(err) || err instanceof OutboundUncertainError) {
    const attempt = Context.current().info.attempt;
    throw ApplicationFailure.create({
      type: 'Infrastructure', message: (err as Error).message || String(err), nonRetryable: false,
      nextRetryDelay: Math.min(30_000, 500 * 2 ** Math.min(attempt - 1, 6)),
    });
  }
  throw err;
}

/** Wraps an activity so that an outage retries it on the host's budget. */
function guarded<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      return hostFailure(err);
    }
  };
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

  // A run belongs to its mission's workspace: everything it reads is read there, everything it records kept there.
  const workspaceOf = missionWorkspaces(sql);

  /** Who asked for a run's cancellation and why, from its WorkflowExecutionCancelRequested event. */
  async function cancelRequest(workflowId: string, runId: string): Promise<{ actor: string | null; reason: string | null } | null> {
    if (!deps.history) return null;
    let nextPageToken: Uint8Array | null | undefined;
    for (let page = 0; page < 20; page++) {
      const res = await deps.history.workflowService.getWorkflowExecutionHistoryReverse({
        namespace: deps.history.namespace, execution: { workflowId, runId }, maximumPageSize: 100, nextPageToken,
      });
      const found = res.history?.events?.find((e) => e.workflowExecutionCancelRequestedEventAttributes);
      if (found) {
        const a = found.workflowExecutionCancelRequestedEventAttributes!;
        // The app cancels as "mission-control:<username>"; the CLI's identity names its user and host.
        const identity = a.identity?.startsWith('mission-control:') ? a.identity.slice('mission-control:'.length) : a.identity || null;
        return { actor: identity, reason: a.cause || null };
      }
      nextPageToken = res.nextPageToken;
      if (!nextPageToken?.length) break;
    }
    return null;
  }

  async function runTask(input: RunTaskInput, ctx: Context): Promise<RunTaskResult> {
    const attempt = ctx.info.attempt;
    const { workflowId, runId, base } = runKey();
    const workspaceId = await workspaceOf(input.missionId);
    const prefix = `${base}/${input.taskId}/${input.execSeq}/`;
    // Outputs are keyed within their workflow id: short references, as every later task's input carries them.
    const outputKey = `${runId}/${input.taskId}/${input.execSeq}`;
    const at = { workflowId, taskId: input.taskId, keyPrefix: prefix };
    // Only a retry can find its task already done (a worker lost after recording, before reporting).
    const prior = attempt > 1 ? await findSucceededRun(sql, at) : null;
    if (prior) {
      const [kept] = await sql<{ output: unknown }[]>`select output from task_outputs where workflow_id = ${workflowId} and ref = ${outputKey}`;
      return { outputRef: referenceTo(outputKey, kept ? kept.output : prior.output), durationMs: prior.durationMs, attempt: prior.attempt, outbound: summarise(prior.outbound), replayed: true };
    }
    const event = (type: string, key: string, payload: Record<string, unknown> = {}): EventInput => ({
      type, entityType: 'task', entityId: input.taskId, taskId: input.taskId, missionId: input.missionId, runId: workflowId,
      actor: (input.startedBy ?? SYSTEM_ACTOR).name, key: `${prefix}${key}`, workspaceId,
      payload: { taskName: input.taskName, missionName: input.missionName, execSeq: input.execSeq, attempt, ...payload },
    });
    const pattern = { id: input.pattern.patternId, name: input.pattern.patternName, version: input.pattern.version };
    // A retry after a lost worker says so on the run (best effort: the explanation never stands in the task's way).
    await explainLostAttempt(sql, workspaceId, { workflowId, taskId: input.taskId, taskName: input.taskName }, attempt, prefix).catch(() => {});
    // Written as each attempt starts (once per attempt), so it always comes before the attempt's end.
    const [code, previous] = await Promise.all([
      codeOf(input.pattern.versionId),
      input.earlier
        ? earlierOutputs(sql, workflowId, input.earlier.before, input.earlier.excluded)
        : input.previousByRef
          ? resolveOutputs(sql, workflowId, (input.previous ?? {}) as Record<string, OutputRef | { value: unknown }>)
          : Promise.resolve((input.previous ?? {}) as Record<string, unknown>),
      appendEvent(sql, event('task.started', `started/${attempt}`, { pattern })),
    ]);
    if (code === null) throw ApplicationFailure.create({ type: 'Validation', message: `Pattern version ${input.pattern.version} no longer exists.`, nonRetryable: true });
    const place = { taskId: input.taskId, taskName: input.taskName, order: input.order ?? 0 };
    let reference: OutputRef | undefined;
    try {
      const result = await runPattern(deps, {
        pattern: { ...input.pattern, code },
        input: input.input,
        context: {
          previous,
          notes: input.notes.length ? input.notes.join('\n\n') : null,
          attempt,
          task: { id: input.taskId, name: input.taskName },
          mission: { id: input.missionId, name: input.missionName, workflowId, runId, input: input.runInput },
        },
        executionKey: `${prefix}${attempt}`,
        effectsKey: prefix,
        source: 'mission',
        actor: input.startedBy ?? SYSTEM_ACTOR,
        missionId: input.missionId,
        workflowId,
        taskId: input.taskId,
        attempt,
        workspaceId,
        signal: ctx.cancellationSignal,
        // The output is stored once, under the task execution's reference, in the statement that records the run.
        // A task behind an approval gate is not complete yet: the run says approval.requested once it waits.
        succeededEvent: input.requiresApproval ? undefined : event('task.completed', 'done', { pattern }),
        keepOutput: (output) => {
          reference = referenceTo(outputKey, output);
          return { workflowId, ref: outputKey, ...place, bytes: reference.bytes, output };
        },
      });
      if (result.recorded && reference) return { outputRef: reference, durationMs: result.durationMs, attempt, outbound: summarise(result.outbound), replayed: false };
      // Another attempt of this execution got there first (it outlived its timeout): its output is the one.
      const [stored] = await sql<{ output: unknown }[]>`select output from task_outputs where workflow_id = ${workflowId} and ref = ${outputKey}`;
      return { outputRef: referenceTo(outputKey, stored ? stored.output : result.output), durationMs: result.durationMs, attempt, outbound: summarise(result.outbound), replayed: false };
    } catch (err) {
      if (!(err instanceof PatternRunError)) throw err;
      if (err.kind === 'cancelled' && ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
      const failures = await countFailedRuns(sql, at);
      const exhausted = failures >= input.maxPatternAttempts;
      const final = !err.retryable || exhausted;
      await appendEvent(sql, event(final ? 'task.failed' : 'task.attempt_failed', `failed/${attempt}`, { pattern, kind: err.kind, error: err.message, failures, final }));
      throw ApplicationFailure.create({
        type: ERROR_TYPES[err.kind] ?? 'PatternRuntime',
        message: exhausted && err.retryable && input.maxPatternAttempts > 1 ? `${err.message} (after ${failures} attempts)` : err.message,
        nonRetryable: final,
        details: [{ kind: err.kind, attempt, failures, logs: err.logs }],
      });
    }
  }

  return {
    /** The plan of a run started by a schedule or a trigger, read when the run starts (and so kept in its history). */
    loadPlan: guarded(async (input: { missionId: string; trigger: MissionTrigger; startedBy?: Actor }): Promise<MissionPlan> => {
      const { workflowId } = runKey();
      let plan: MissionPlan;
      let workspaceId: string | undefined;
      try {
        // A paused mission starts nothing, even when its schedule is triggered from outside the app.
        const [mission] = await sql<{ status: string; name: string; workspaceId: string; archived: boolean }[]>`
          select m.status, m.name, m.workspace_id as "workspaceId", w.archived_at is not null as archived
          from missions m join workspaces w on w.id = m.workspace_id where m.id = ${input.missionId}`;
        workspaceId = mission?.workspaceId;
        if (mission?.archived) throw new Error(`The workspace of mission "${mission.name}" is archived; nothing runs in it.`);
        if (mission?.status === 'paused') {
          const message = `Mission "${mission.name}" is paused; resume it before running it.`;
          if (input.trigger === 'scheduled') {
            await recordPausedFiring(sql, {
              type: 'scheduler.job.skipped', entityType: 'run', entityId: workflowId, runId: workflowId, missionId: input.missionId,
              actor: 'scheduler', payload: { reason: message, missionName: mission.name }, key: `${workflowId}/skipped`, workspaceId,
            }, { workflowId, missionId: input.missionId, workspaceId: mission.workspaceId });
          }
          throw new Error(message);
        }
        if (!workspaceId) throw new NotFoundError('Mission');
        plan = await buildPlan(sql, input.missionId, { id: workspaceId });
      } catch (err) {
        if (isConnectionError(err)) throw err; // an outage delays the run; it is not the plan's fault
        throw ApplicationFailure.create({ type: 'Validation', message: (err as Error).message, nonRetryable: true });
      }
      // A firing of the schedule: its record (core/schedules/scheduler-runs.ts) commits with the entry and its scheduler.job.started.
      await recordExecution(sql, {
        actor: input.startedBy ?? { id: null, name: input.trigger === 'scheduled' ? 'scheduler' : 'trigger' },
        action: 'mission.executed', entityType: 'mission', entityId: input.missionId,
        details: { workflowId, trigger: input.trigger }, idempotencyKey: `mission.executed:${workflowId}`, workspaceId,
      }, input.trigger === 'scheduled' ? { workflowId, missionId: input.missionId, workspaceId: workspaceId! } : null);
      return holdLoadedRun(sql, plan, workspaceId!, workflowId); // the plan, and the global pause it starts under, if on
    }),

    /** Chooses the pattern of a policy task; the choice is recorded in the workflow's history. */
    selectPattern: guarded(async (input: { missionId?: string; containerId: string; policy: SelectionPolicy; taskId: string }): Promise<PinnedPattern> => {
      // Runs started before this release name no mission here: their container's own workspace is theirs.
      const workspaceId = input.missionId
        ? await workspaceOf(input.missionId)
        : await containerWorkspace(sql, input.containerId);
      const candidates = await loadCandidates(sql, input.containerId, { id: workspaceId });
      if (!candidates.length) {
        throw ApplicationFailure.create({ type: 'Validation', message: 'The container has no active pattern to choose from.', nonRetryable: true });
      }
      const c = choosePattern(candidates, input.policy, Math.random);
      return { patternId: c.id, patternName: c.name, versionId: c.versionId, version: c.version, config: c.config };
    }),

    async runMissionTask(input: RunTaskInput): Promise<RunTaskResult> {
      const ctx = Context.current();
      // Heartbeats are timed from the attempt's first moment, on their own timer: an attempt that waits on
      // the database is still alive, and one that Temporal gave up on learns it (its cancellation signal
      // fires) and stops. The first beat goes after 1 s, well inside the 5 s heartbeat timeout: most tasks
      // end sooner and so cost Temporal no heartbeat at all.
      const beat = setInterval(() => ctx.heartbeat({ attempt: ctx.info.attempt }), HEARTBEAT_INTERVAL_MS);
      try {
        return await runTask(input, ctx);
      } catch (err) {
        return hostFailure(err);
      } finally {
        clearInterval(beat);
      }
    },

    /** Stores a reviewer's edited output, so the run carries only its reference. */
    storeOutput: guarded(async (input: { missionId?: string; taskId: string; taskName: string; order: number; execSeq: number; output: unknown }): Promise<OutputRef> => {
      const { workflowId, runId } = runKey();
      const workspaceId = input.missionId ? await workspaceOf(input.missionId) : undefined;
      const { first: _first, ...ref } = await storeOutput(sql, `${runId}/${input.taskId}/${input.execSeq}/edited`, workflowId, input, input.output, workspaceId);
      return ref;
    }),

    /** Only an active admin may decide (seed 002); the decision is audited once, refusals too. */
    authorizeDecision: guarded(async (input: {
      actor: string; action: DecisionAction; taskId: string; taskName: string; execSeq: number; missionId: string; notes: string | null; edited: boolean;
    }): Promise<{ accepted: boolean; reason?: string; actor: Actor }> => {
      const { workflowId, base } = runKey();
      const workspaceId = await workspaceOf(input.missionId);
      const actor = await actorByName(sql, input.actor, workspaceId);
      const allowed = actor.role === 'ADMIN' && !actor.disabled;
      const reason = allowed ? undefined
        : !actor.id ? `no user named ${input.actor}`
        : !actor.role ? `${actor.name} is not a member of this run's workspace`
        : `${actor.name} may not decide approvals; only admins may`;
      await appendAudit(sql, {
        actor: { id: actor.id, name: actor.name },
        action: allowed ? DECISION_EVENTS[input.action] : 'approval.refused',
        entityType: 'run', entityId: workflowId,
        details: {
          missionId: input.missionId, taskId: input.taskId, taskName: input.taskName, action: input.action,
          ...(input.notes ? { notes: input.notes } : {}), ...(input.edited ? { edited: true } : {}), ...(reason ? { reason } : {}),
        },
        idempotencyKey: `${base}/${Context.current().info.activityId}`, workspaceId,
      });
      // The drafts the task wrote take the gate's decision (core/outreach/gate.ts): one decision, held by the run.
      if (allowed) {
        await applyGateDecision(sql, {
          workflowId, taskId: input.taskId, action: input.action, notes: input.notes, actor: { id: actor.id, name: actor.name }, workspaceId,
        }, (draftId, err) => logger.warn({ draftId, workflowId, err: err.message }, 'a draft did not take its gate\'s decision'));
      }
      return { accepted: allowed, reason, actor: { id: actor.id, name: actor.name } };
    }),

    recordRunEvent: guarded(async (input: { key: string; action: string; actor: string; missionId: string; details: Record<string, unknown> }): Promise<void> => {
      const { workflowId, runId, base } = runKey();
      // The workflow cannot see who asked for its cancellation, or why: its history can.
      const request = input.action === 'run.cancelled' ? await cancelRequest(workflowId, runId) : null;
      if (request?.reason) input.details = { ...input.details, reason: request.reason };
      const workspaceId = await workspaceOf(input.missionId);
      const actor = await actorByName(sql, request?.actor ?? input.actor, workspaceId);
      // An end moves the run's firing record on, if the schedule started it (scheduler.job.completed|failed).
      await recordRunEntry(sql, {
        actor: { id: actor.id, name: actor.name }, action: input.action, entityType: 'run', entityId: workflowId,
        details: { missionId: input.missionId, runId, ...input.details }, idempotencyKey: `${base}/${input.key}`, workspaceId,
      }, { workflowId, missionId: input.missionId });
    }),

    raiseAlert: guarded(async (input: { key: string; missionId: string; kind: string; message: string }): Promise<void> => {
      const { workflowId, base } = runKey();
      const workspaceId = await workspaceOf(input.missionId);
      // The alert and its event, in one statement, in the run's workspace; its actions open the run and run the mission again.
      const failed = input.kind === 'mission_failed';
      const { raised } = await raiseAlertRow(sql, {
        workspaceId, key: `${base}/alert/${input.key}`, source: 'run', kind: input.kind, severity: failed ? 'error' : 'warning',
        title: failed ? 'A run failed' : 'An approval timed out', message: input.message, missionId: input.missionId, workflowId, actor: 'system',
        actions: [{ kind: 'open', label: 'View logs', href: `/runs/${encodeURIComponent(workflowId)}` }, { kind: 'run_mission', label: 'Run the mission again' }],
      });
      if (raised) logger.warn({ missionId: input.missionId, workflowId, kind: input.kind }, input.message);
    }),
  };
}

function summarise(outbound: unknown[]): { channel: string; status: string }[] {
  return (outbound as { channel: string; status: string }[]).map((o) => ({ channel: o.channel, status: o.status }));
}

export type MissionActivities = ReturnType<typeof createMissionActivities>;

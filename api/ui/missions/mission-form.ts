// The planner's form, both ways: a mission (or the values a user typed) as
// form values, and submitted values as a validated mission input with
// per-field errors that the form shows next to each control.
import { z } from 'zod';
import { missionInput, type MissionInput } from '../../../core/missions/schemas';
import type { Mission, MissionTask } from '../../../core/missions/missions';
import { SELECTION_POLICIES } from '../../../core/patterns/schemas';
import { checked, rows, str, type FormValue } from '../common';

export interface TaskRow {
  key: string;
  id: string;
  name: string;
  order: string;
  /** "pattern:<id>", "policy:<name>", or on an agent: "agent:<id>", "agent:mission" (the mission's own), "capability:<definitionId>:<capability>". */
  source: string;
  input: string;
  approval: boolean;
  timeout: string;
  /** A task on an agent: its attempt's timeout (s), retries, what a final failure does, and its heartbeat timeout (s). */
  agentTimeout: string;
  agentRetries: string;
  agentFailure: string;
  agentHeartbeat: string;
}

export interface PlannerValues {
  name: string;
  description: string;
  type: string;
  priority: string;
  containerId: string;
  /** The agent the mission is assigned to ('' for none). */
  agentId: string;
  maxConcurrency: string;
  retryPolicy: string;
  retryDelayMs: string;
  alertOnFailure: boolean;
  onApprovalTimeout: string;
  scheduled: boolean;
  cron: string;
  timezone: string;
  startDate: string;
  endDate: string;
  overlap: string;
  tasks: TaskRow[];
}

export type FieldErrors = Record<string, string>;

const AGENT_ROW_DEFAULTS = { agentTimeout: '300', agentRetries: '0', agentFailure: 'retry', agentHeartbeat: '30' };

/** Where a task runs, as the planner's source control says it. */
function sourceOf(t: MissionTask): string {
  if (t.agent) {
    const a = t.agent;
    return a.selection === 'mission' ? 'agent:mission' : a.selection === 'fixed' ? `agent:${a.agentId}` : `capability:${a.definitionId}:${a.capability}`;
  }
  return t.patternId ? `pattern:${t.patternId}` : `policy:${t.selection}`;
}

/** The source control's value as a task's agent, or null for a pattern or a policy. */
function agentOf(t: TaskRow): Record<string, unknown> | null {
  const [kind, ...rest] = t.source.split(':');
  if (kind !== 'agent' && kind !== 'capability') return null;
  const settings = {
    timeoutSeconds: numberOr(t.agentTimeout, 300), retryCount: numberOr(t.agentRetries, 0), failureAction: t.agentFailure || 'retry',
    heartbeatTimeoutSeconds: numberOr(t.agentHeartbeat, 30),
  };
  if (kind === 'capability') return { selection: 'capability', definitionId: rest[0], capability: rest.slice(1).join(':'), ...settings };
  return rest[0] === 'mission' ? { selection: 'mission', ...settings } : { selection: 'fixed', agentId: rest[0], ...settings };
}

export function newTaskRow(key: string, order = 0): TaskRow {
  return { key, id: '', name: '', order: String(order), source: 'policy:default_first', input: '{}', approval: false, timeout: '', ...AGENT_ROW_DEFAULTS };
}

export function emptyValues(containerId = ''): PlannerValues {
  return {
    name: '', description: '', type: 'manual', priority: 'medium', containerId, agentId: '', maxConcurrency: '1', retryPolicy: 'exponential',
    retryDelayMs: '1000', alertOnFailure: true, onApprovalTimeout: 'reject', scheduled: false, cron: '0 9 * * 1-5',
    timezone: 'America/Toronto', startDate: '', endDate: '', overlap: 'skip', tasks: [newTaskRow('t0')],
  };
}

export function valuesOf(m: Mission): PlannerValues {
  return {
    name: m.name, description: m.description, type: m.type, priority: m.priority, containerId: m.containerId, agentId: m.agentId ?? '',
    maxConcurrency: String(m.config.maxConcurrency), retryPolicy: m.config.retryPolicy, retryDelayMs: String(m.config.retryDelayMs),
    alertOnFailure: m.config.alertOnFailure, onApprovalTimeout: m.config.onApprovalTimeout,
    scheduled: !!m.schedule, cron: m.schedule?.cron ?? '0 9 * * 1-5', timezone: m.schedule?.timezone ?? 'America/Toronto',
    startDate: m.schedule?.startDate?.slice(0, 10) ?? '', endDate: m.schedule?.endDate?.slice(0, 10) ?? '', overlap: m.schedule?.overlap ?? 'skip',
    tasks: (m.tasks ?? []).map((t, i) => ({
      key: `t${i}`, id: t.id, name: t.name, order: String(t.order),
      source: sourceOf(t),
      input: JSON.stringify(t.input ?? {}, null, 2), approval: t.requiresApproval, timeout: t.approvalTimeoutSeconds ? String(t.approvalTimeoutSeconds) : '',
      ...(t.agent ? {
        agentTimeout: String(t.agent.timeoutSeconds), agentRetries: String(t.agent.retryCount), agentFailure: t.agent.failureAction,
        agentHeartbeat: String(t.agent.heartbeatTimeoutSeconds),
      } : AGENT_ROW_DEFAULTS),
    })),
  };
}

/**
 * Ticking "Run on a schedule" is the deliberate choice, so a manual mission with a schedule is
 * scheduled (the page's script does the same as it is ticked); a triggered one keeps its trigger.
 */
export function typeWithSchedule(type: string, scheduled: boolean): string {
  return scheduled && type === 'manual' ? 'scheduled' : type;
}

export const SCHEDULE_MISSING = 'A scheduled mission needs its schedule: tick “Run on a schedule”, or choose the type manual.';

export function valuesFromForm(form: Record<string, FormValue>): PlannerValues {
  return {
    name: str(form, 'name'), description: str(form, 'description'), type: typeWithSchedule(str(form, 'type'), checked(form, 'scheduled')), priority: str(form, 'priority'),
    containerId: str(form, 'containerId'), agentId: str(form, 'agentId'), maxConcurrency: str(form, 'maxConcurrency'), retryPolicy: str(form, 'retryPolicy'),
    retryDelayMs: str(form, 'retryDelayMs'), alertOnFailure: checked(form, 'alertOnFailure'), onApprovalTimeout: str(form, 'onApprovalTimeout'),
    scheduled: checked(form, 'scheduled'), cron: str(form, 'cron'), timezone: str(form, 'timezone'),
    startDate: str(form, 'startDate'), endDate: str(form, 'endDate'), overlap: str(form, 'overlap') || 'skip',
    tasks: rows(form, 'tasks').map((r) => ({
      key: r._key!, id: r.id ?? '', name: r.name ?? '', order: r.order ?? '0', source: r.source ?? '', input: r.input ?? '',
      approval: r.approval === 'on' || r.approval === 'true', timeout: r.timeout ?? '',
      agentTimeout: r.agentTimeout ?? AGENT_ROW_DEFAULTS.agentTimeout, agentRetries: r.agentRetries ?? AGENT_ROW_DEFAULTS.agentRetries,
      agentFailure: r.agentFailure ?? AGENT_ROW_DEFAULTS.agentFailure, agentHeartbeat: r.agentHeartbeat ?? AGENT_ROW_DEFAULTS.agentHeartbeat,
    })),
  };
}

/** Midnight of a calendar date in a time zone, as an ISO instant. */
export function zonedMidnight(date: string, timeZone: string): string {
  const utc = new Date(`${date}T00:00:00Z`);
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(utc);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asZone = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
  return new Date(utc.getTime() - (asZone - utc.getTime())).toISOString();
}

const numberOr = (text: string, fallback: number) => (text.trim() === '' ? fallback : Number(text));

/** A task's agent setting, named as its control: the timeout, retries, failure action or heartbeat; the rest is the source. */
const agentField = (key: string | undefined) =>
  ({ timeoutSeconds: 'agentTimeout', retryCount: 'agentRetries', failureAction: 'agentFailure', heartbeatTimeoutSeconds: 'agentHeartbeat' } as Record<string, string>)[key ?? ''] ?? 'source';

/** Turns the planner's values into a mission input, or field errors keyed by the form's own names. */
export function parsePlanner(v: PlannerValues, status: 'draft' | 'active'): { input?: MissionInput; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const type = typeWithSchedule(v.type, v.scheduled);
  // Without a schedule there is no telling when it should run: say so rather than guess.
  if (type === 'scheduled' && !v.scheduled) errors.type = SCHEDULE_MISSING;
  const tasks = v.tasks.map((t) => {
    let input: unknown = {};
    try {
      input = t.input.trim() ? JSON.parse(t.input) : {};
    } catch (err) {
      errors[`tasks.${t.key}.input`] = `Not valid JSON: ${(err as Error).message}`;
    }
    const [kind, value] = t.source.split(':');
    const policy = (SELECTION_POLICIES as readonly string[]).includes(value ?? '') ? value : 'default_first';
    const agent = agentOf(t);
    return {
      ...(t.id ? { id: t.id } : {}), name: t.name, order: numberOr(t.order, 0), input,
      ...(agent ? { patternId: null, agent } : kind === 'pattern' ? { patternId: value, selection: 'fixed' } : { patternId: null, selection: policy }),
      requiresApproval: t.approval, approvalTimeoutSeconds: t.timeout ? Number(t.timeout) : null,
    };
  });
  let schedule: unknown = null;
  if (v.scheduled) {
    const tz = v.timezone || 'UTC';
    const zoned = (d: string) => {
      try {
        return zonedMidnight(d, tz);
      } catch {
        return d; // the schema reports the bad time zone
      }
    };
    schedule = { cron: v.cron, timezone: tz, overlap: v.overlap, ...(v.startDate ? { startDate: zoned(v.startDate) } : {}), ...(v.endDate ? { endDate: zoned(v.endDate) } : {}) };
  }
  const body = {
    name: v.name, description: v.description, type, priority: v.priority, containerId: v.containerId, agentId: v.agentId || null, status,
    config: {
      maxConcurrency: numberOr(v.maxConcurrency, 1), retryPolicy: v.retryPolicy, retryDelayMs: numberOr(v.retryDelayMs, 1000),
      alertOnFailure: v.alertOnFailure, onApprovalTimeout: v.onApprovalTimeout,
    },
    schedule, tasks,
  };
  const parsed = missionInput.safeParse(body);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [head, index, ...rest] = issue.path.map(String);
      const key = head === 'tasks' && index !== undefined ? `tasks.${v.tasks[Number(index)]?.key ?? index}.${rest[0] === 'patternId' || rest[0] === 'selection' ? 'source' : rest[0] === 'agent' ? agentField(rest[1]) : (rest[0] ?? 'name')}`
        : head === 'config' || head === 'schedule' ? (index ?? head) : (head ?? 'form');
      errors[key] ??= issue.message;
    }
  }
  return Object.keys(errors).length ? { errors } : { input: parsed.data!, errors };
}

export const plannerQuery = z.object({ containerId: z.preprocess((v) => (v === '' ? undefined : v), z.uuid('Not a valid container id.').optional()) });

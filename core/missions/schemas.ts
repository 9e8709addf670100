// Mission and task inputs (seed 000, with seed 004's priority), validated once
// at the edge for the API and the planner form alike.
import { z } from 'zod';
import { noteText, text } from '../../lib/text';
import { cronError } from '../schedules/cron';
import { timeZoneError } from '../schedules/time-zones';
import { jsonValue, listQuery, SELECTION_POLICIES } from '../patterns/schemas';

export const MISSION_TYPES = ['manual', 'scheduled', 'triggered'] as const;
export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
export const RETRY_POLICIES = ['none', 'linear', 'exponential'] as const;
export const TIMEOUT_ACTIONS = ['reject', 'approve', 'fail'] as const;
export const OVERLAP_POLICIES = ['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'terminate_other', 'allow_all'] as const;

export const missionConfig = z
  .object({
    maxConcurrency: z.number().int().min(1).max(50).default(1),
    retryPolicy: z.enum(RETRY_POLICIES).default('exponential'),
    alertOnFailure: z.boolean().default(true),
    onApprovalTimeout: z.enum(TIMEOUT_ACTIONS).default('reject'),
    retryDelayMs: z.number().int().min(100).max(600_000).default(1000),
  })
  .strict();
export type MissionConfigInput = z.infer<typeof missionConfig>;

// Exactly what Temporal's scheduler accepts (core/schedules/): a bad value is refused
// here, not by Temporal halfway through saving the mission.
const timeZone = text().superRefine((tz, ctx) => {
  const problem = timeZoneError(tz);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const cron = text()
  .trim()
  .superRefine((value, ctx) => {
    const problem = cronError(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `${problem}; for example "0 9 * * 1-5"` });
  });

export const scheduleInput = z
  .object({
    cron,
    timezone: timeZone.default('UTC'),
    startDate: z.iso.datetime({ offset: true }).optional(),
    endDate: z.iso.datetime({ offset: true }).optional(),
    overlap: z.enum(OVERLAP_POLICIES).default('skip'),
    paused: z.boolean().default(false),
    note: noteText().optional(),
  })
  .strict()
  .refine((s) => !s.startDate || !s.endDate || new Date(s.startDate) < new Date(s.endDate), { message: 'endDate must be after startDate', path: ['endDate'] });
export type ScheduleInput = z.infer<typeof scheduleInput>;

export const agentTaskInput = z
  .object({
    /** fixed: agentId; capability: any connected agent of definitionId with it, least busy first; mission: the mission's own agent (its agentId). */
    selection: z.enum(['fixed', 'capability', 'mission']),
    agentId: z.uuid('agentId must be an agent id.').optional(),
    capability: text().trim().min(1).max(64).optional(),
    definitionId: z.uuid('definitionId must be an agent definition id.').optional(),
    timeoutSeconds: z.number().int().min(1).max(86_400).default(300),
    retryCount: z.number().int().min(0).max(10).default(0),
    failureAction: z.enum(['skip', 'retry', 'abort']).default('retry'),
    heartbeatTimeoutSeconds: z.number().int().min(3).max(3600).default(30),
  })
  .strict()
  .refine((a) => a.selection !== 'fixed' || a.agentId, { message: 'A fixed agent task names its agentId.', path: ['agentId'] })
  .refine((a) => a.selection !== 'capability' || (a.capability && a.definitionId), { message: 'A capability task names its capability and its definitionId.', path: ['capability'] });
export type AgentTaskInput = z.infer<typeof agentTaskInput>;

export const taskInput = z
  .object({
    id: z.uuid().optional(),
    name: text().trim().min(1, 'Give the task a name.').max(120),
    order: z.number().int().min(0).max(10_000),
    patternId: z.uuid().nullable().optional(),
    selection: z.enum(['fixed', ...SELECTION_POLICIES]).optional(),
    input: jsonValue.default({}),
    requiresApproval: z.boolean().default(false),
    approvalTimeoutSeconds: z.number().int().min(1).max(30 * 86_400).nullable().optional(),
    /** Runs the task on an agent instead of a pattern (issue 11). */
    agent: agentTaskInput.nullable().optional(),
  })
  .strict()
  .refine((t) => !t.agent || !t.patternId, { message: 'A task runs on an agent or a pattern, not both.', path: ['agent'] })
  .transform((t) => ({ ...t, selection: t.agent ? 'default_first' as const : t.selection ?? (t.patternId ? 'fixed' : 'default_first') }))
  .refine((t) => (t.selection === 'fixed') === !!t.patternId, {
    message: 'A task runs either a fixed pattern (patternId) or a selection policy over the container, not both.',
    path: ['patternId'],
  });
export type TaskInput = z.infer<typeof taskInput>;

const base = {
  name: text().trim().min(1, 'Give the mission a name.').max(120),
  description: text().trim().max(2000),
  type: z.enum(MISSION_TYPES),
  priority: z.enum(PRIORITIES),
  containerId: z.uuid('containerId must be a container id.'),
  config: missionConfig,
  schedule: scheduleInput.nullable(),
  tasks: z.array(taskInput).max(200),
  /** The agent the mission is assigned to (seed 004): its tasks with selection "mission" run there. */
  agentId: z.uuid('agentId must be an agent id.').nullable(),
};

export const missionInput = z
  .object({
    ...base,
    description: base.description.default(''),
    priority: base.priority.default('medium'),
    config: base.config.default(missionConfig.parse({})),
    schedule: base.schedule.optional(),
    tasks: base.tasks.default([]),
    agentId: base.agentId.default(null),
    status: z.enum(['draft', 'active']).default('draft'),
  })
  .strict();
export type MissionInput = z.infer<typeof missionInput>;

export const missionPatch = z
  .object({
    name: base.name.optional(),
    description: base.description.optional(),
    type: base.type.optional(),
    priority: base.priority.optional(),
    containerId: base.containerId.optional(),
    config: missionConfig.partial().optional(),
    schedule: base.schedule.optional(),
    tasks: base.tasks.optional(),
    agentId: base.agentId.optional(),
    status: z.enum(['draft', 'active']).optional(),
  })
  .strict();
export type MissionPatch = z.infer<typeof missionPatch>;

export const missionListQuery = listQuery.extend({
  type: z.enum(MISSION_TYPES).optional(),
  priority: z.enum(PRIORITIES).optional(),
  status: z.enum(['draft', 'active', 'paused']).optional(),
  containerId: z.uuid().optional(),
  q: text().trim().max(120).optional(),
});

export const executeInput = z.object({ input: jsonValue.optional() }).strict();

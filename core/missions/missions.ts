// Missions and their tasks in PostgreSQL: definitions only. Runs live in
// Temporal; `buildPlan` takes the snapshot a run works from. Each mission is in one
// workspace: to every function taking `ws`, a mission of another workspace is one that
// does not exist, and its container and patterns must be in the mission's workspace.
import type { Sql, TxSql } from '../../db/sql';
import { rethrowConstraint } from '../../db/errors';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/errors';
import type { MissionPlan, PinnedAgent, PinnedPattern, PlanTask } from '../../workflows/messages';
import { appendAudit, type Actor } from '../audit/audit-log';
import type { AgentTaskInput, MissionConfigInput, MissionInput, MissionPatch, ScheduleInput, TaskInput } from './schemas';
import { randomSecret } from '../access/credentials';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { markSchedulePending } from './mission-sync';

export interface MissionTask {
  id: string;
  name: string;
  order: number;
  selection: 'fixed' | 'default_first' | 'random' | 'success_weighted';
  patternId: string | null;
  patternName: string | null;
  input: unknown;
  requiresApproval: boolean;
  approvalTimeoutSeconds: number | null;
  agent: AgentTaskInput | null;
  /** A fixed agent task's agent, by name. */
  agentName: string | null;
}

export interface Mission {
  id: string;
  /** The workspace it belongs to; its runs and its schedule carry it as WorkspaceId. */
  workspaceId: string;
  name: string;
  description: string;
  type: 'manual' | 'scheduled' | 'triggered';
  priority: 'low' | 'medium' | 'high' | 'urgent';
  status: 'draft' | 'active' | 'paused';
  containerId: string;
  containerName: string;
  /** The agent it is assigned to, if any (its name even once removed). */
  agentId: string | null;
  agentName: string | null;
  config: MissionConfigInput;
  schedule: ScheduleInput | null;
  hasTriggerSecret: boolean;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  taskCount: number;
  tasks?: MissionTask[];
}

const columns = (sql: TxSql) => sql`
  m.id, m.workspace_id as "workspaceId", m.name, m.description, m.type, m.priority, m.status, m.container_id as "containerId", c.name as "containerName",
  m.agent_id as "agentId", (select a.name from agents a where a.id = m.agent_id) as "agentName", m.config, m.schedule, (m.trigger_secret is not null) as "hasTriggerSecret", m.created_by as "createdBy",
  m.created_at as "createdAt", m.updated_at as "updatedAt",
  (select count(*)::int from mission_tasks t where t.mission_id = m.id) as "taskCount"`;

export async function listMissions(
  sql: TxSql,
  q: { type?: string; priority?: string; status?: string; containerId?: string; q?: string; scheduled?: boolean; limit: number; offset: number },
  ws?: WorkspaceRef,
): Promise<{ items: Mission[]; total: number }> {
  const where = sql`
    where m.workspace_id = ${workspaceIdOf(sql, ws)}
      ${q.scheduled ? sql`and m.schedule is not null` : sql``}
      ${q.type ? sql`and m.type = ${q.type}` : sql``}
      ${q.priority ? sql`and m.priority = ${q.priority}` : sql``}
      ${q.status ? sql`and m.status = ${q.status}` : sql``}
      ${q.containerId ? sql`and m.container_id = ${q.containerId}` : sql``}
      ${q.q ? sql`and m.name ilike ${'%' + q.q.replace(/[%_\\]/g, '\\$&') + '%'}` : sql``}`;
  const items = await sql<Mission[]>`
    select ${columns(sql)} from missions m join containers c on c.id = m.container_id ${where}
    order by array_position(array['urgent','high','medium','low'], m.priority), lower(m.name)
    limit ${q.limit} offset ${q.offset}`;
  const [{ total }] = (await sql`select count(*)::int as total from missions m ${where}`) as [{ total: number }];
  return { items, total };
}

export async function listTasks(sql: TxSql, missionId: string): Promise<MissionTask[]> {
  return sql<MissionTask[]>`
    select t.id, t.name, t.task_order as "order", t.selection, t.pattern_id as "patternId", p.name as "patternName",
           t.input, t.requires_approval as "requiresApproval", t.approval_timeout_seconds as "approvalTimeoutSeconds", t.agent,
           (select a.name from agents a where a.id = (t.agent ->> 'agentId')::uuid) as "agentName"
    from mission_tasks t left join patterns p on p.id = t.pattern_id
    where t.mission_id = ${missionId} order by t.task_order, t.created_at, lower(t.name)`;
}

export async function getMission(sql: TxSql, id: string, ws?: WorkspaceRef): Promise<Mission> {
  const [row] = await sql<Mission[]>`
    select ${columns(sql)} from missions m join containers c on c.id = m.container_id
    where m.id = ${id} and m.workspace_id = ${workspaceIdOf(sql, ws)}`;
  if (!row) throw new NotFoundError('Mission');
  return { ...row, tasks: await listTasks(sql, id) };
}

/** System paths only (the reconciler, schedule sync, signed triggers): by id, in whatever workspace; the row names it. */
export async function getMissionAnyWorkspace(sql: TxSql, id: string): Promise<Mission> {
  const [{ workspaceId } = { workspaceId: null }] = await sql<{ workspaceId: string }[]>`select workspace_id as "workspaceId" from missions where id = ${id}`;
  if (!workspaceId) throw new NotFoundError('Mission');
  return getMission(sql, id, { id: workspaceId });
}

/** The mission's agent must be one of its workspace's, not removed. */
async function assertAgent(tx: TxSql, agentId: string | null, ws?: WorkspaceRef): Promise<void> {
  if (!agentId) return;
  const [a] = await tx`select 1 from agents where id = ${agentId} and deleted_at is null and workspace_id = ${workspaceIdOf(tx, ws)}`;
  if (!a) throw new ValidationError('agentId: the agent does not exist.', [{ path: 'agentId', message: 'the agent does not exist' }]);
}

/** A task's pattern must exist (in the mission's workspace), be active and belong to the mission's container. */
async function validateTasks(tx: TxSql, containerId: string, tasks: TaskInput[], agentId: string | null, ws?: WorkspaceRef): Promise<void> {
  const names = new Set<string>();
  for (const [i, t] of tasks.entries()) {
    const key = t.name.toLowerCase();
    if (names.has(key)) throw new ValidationError(`tasks.${i}.name: another task is already named "${t.name}".`, [{ path: `tasks.${i}.name`, message: 'duplicate task name' }]);
    names.add(key);
    if (t.agent?.selection === 'mission') {
      if (!agentId) throw new ValidationError(`tasks.${i}.agent: the task runs on the mission's agent, and the mission has none; assign it one (agentId) or choose the agent.`, [{ path: `tasks.${i}.agent`, message: 'the mission has no agent' }]);
      continue;
    }
    if (t.agent) {
      const a = t.agent;
      const [found] = a.selection === 'fixed'
        ? await tx`select 1 from agents where id = ${a.agentId!} and deleted_at is null and workspace_id = ${workspaceIdOf(tx, ws)}`
        : await tx`select 1 from agent_definitions where id = ${a.definitionId!} and workspace_id = ${workspaceIdOf(tx, ws)}`;
      const what = a.selection === 'fixed' ? 'agentId: the agent' : 'definitionId: the agent definition';
      if (!found) throw new ValidationError(`tasks.${i}.agent.${what} does not exist.`, [{ path: `tasks.${i}.agent`, message: `${what} does not exist` }]);
      continue;
    }
    if (!t.patternId) continue;
    const [p] = await tx<{ containerId: string; isActive: boolean; name: string }[]>`
      select container_id as "containerId", is_active as "isActive", name from patterns where id = ${t.patternId} and workspace_id = ${workspaceIdOf(tx, ws)}`;
    const problem = !p ? 'does not exist' : p.containerId !== containerId ? `("${p.name}") belongs to another container` : !p.isActive ? `("${p.name}") is inactive` : null;
    if (problem) throw new ValidationError(`tasks.${i}.patternId: the pattern ${problem}.`, [{ path: `tasks.${i}.patternId`, message: `the pattern ${problem}` }]);
  }
}

/** Makes the mission's tasks exactly `tasks`: those with a known id are updated in place, keeping their ids. */
async function syncTasks(tx: TxSql, missionId: string, tasks: TaskInput[]): Promise<void> {
  const keep = tasks.map((t) => t.id).filter((id): id is string => !!id);
  await tx`delete from mission_tasks where mission_id = ${missionId} ${keep.length ? tx`and id not in ${tx(keep)}` : tx``}`;
  for (const t of tasks) {
    const values = {
      name: t.name, order: t.order, selection: t.selection, patternId: t.patternId ?? null, input: tx.json((t.input ?? {}) as never),
      approval: t.requiresApproval, timeout: t.approvalTimeoutSeconds ?? null, agent: t.agent ? tx.json(t.agent as never) : null,
    };
    const [updated] = t.id
      ? await tx`
          update mission_tasks set name = ${values.name}, task_order = ${values.order}, selection = ${values.selection},
            pattern_id = ${values.patternId}, input = ${values.input}, requires_approval = ${values.approval},
            approval_timeout_seconds = ${values.timeout}, agent = ${values.agent}
          where id = ${t.id} and mission_id = ${missionId} returning id`
      : [];
    if (t.id && !updated) throw new ValidationError(`Task ${t.id} does not belong to this mission.`);
    if (!updated) {
      await tx`
        insert into mission_tasks (mission_id, name, task_order, selection, pattern_id, input, requires_approval, approval_timeout_seconds, agent)
        values (${missionId}, ${values.name}, ${values.order}, ${values.selection}, ${values.patternId}, ${values.input}, ${values.approval}, ${values.timeout}, ${values.agent})`;
    }
  }
}

async function assertContainer(tx: TxSql, id: string, ws?: WorkspaceRef): Promise<void> {
  const [c] = await tx`select 1 from containers where id = ${id} and workspace_id = ${workspaceIdOf(tx, ws)}`;
  if (!c) throw new ValidationError('containerId: the container does not exist.', [{ path: 'containerId', message: 'the container does not exist' }]);
}

/**
 * Runs inside the write's transaction: PostgreSQL work only. Temporal is never called
 * from here; a write that changes the schedule marks it pending (mission_sync) and the
 * caller applies it after the commit (core/schedules/sync.ts), as the reconciler does.
 */
export type AfterWrite = (tx: TxSql, mission: Mission) => Promise<void>;

/** What the Temporal Schedule is made from: its definition, the action's memo and search attributes, the paused state. */
const scheduleFacts = (m: Mission) => JSON.stringify([m.schedule, m.name, m.containerId, m.priority, m.status]);

export async function createMission(
  sql: Sql, input: MissionInput, actor: Actor, afterWrite?: AfterWrite, ws?: WorkspaceRef,
): Promise<{ mission: Mission; triggerSecret: string | null }> {
  try {
    return await sql.begin(async (tx) => {
      await assertContainer(tx, input.containerId, ws);
      await assertAgent(tx, input.agentId, ws);
      await validateTasks(tx, input.containerId, input.tasks, input.agentId, ws);
      const triggerSecret = input.type === 'triggered' ? randomSecret(32) : null;
      const [row] = await tx<{ id: string }[]>`
        insert into missions (name, description, type, priority, status, container_id, agent_id, config, schedule, trigger_secret, created_by, workspace_id)
        values (${input.name}, ${input.description}, ${input.type}, ${input.priority}, ${input.status}, ${input.containerId}, ${input.agentId},
                ${tx.json(input.config)}, ${input.schedule ? tx.json(input.schedule) : null}, ${triggerSecret}, ${actor.name}, ${workspaceIdOf(tx, ws)})
        returning id`;
      await syncTasks(tx, row!.id, input.tasks);
      const mission = await getMission(tx, row!.id, ws);
      await appendAudit(tx, {
        actor, action: 'mission.created', entityType: 'mission', entityId: mission.id,
        details: { name: mission.name, type: mission.type, tasks: input.tasks.length }, workspaceId: mission.workspaceId,
      });
      if (mission.schedule) await markSchedulePending(tx, mission.id);
      await afterWrite?.(tx, mission);
      return { mission, triggerSecret };
    });
  } catch (err) {
    rethrowConstraint(err, { unique: `A mission named "${input.name}" already exists.` });
  }
}

export async function updateMission(
  sql: Sql, id: string, patch: MissionPatch, actor: Actor, afterWrite?: AfterWrite, ws?: WorkspaceRef,
): Promise<Mission> {
  try {
    return await sql.begin(async (tx) => {
      const [locked] = await tx`select id from missions where id = ${id} and workspace_id = ${workspaceIdOf(tx, ws)} for update`;
      if (!locked) throw new NotFoundError('Mission');
      const before = await getMission(tx, id, ws);
      const containerId = patch.containerId ?? before.containerId;
      if (patch.containerId) await assertContainer(tx, containerId, ws);
      const agentId = patch.agentId === undefined ? before.agentId : patch.agentId;
      if (patch.agentId) await assertAgent(tx, agentId, ws);
      const tasks = patch.tasks ?? (patch.containerId || patch.agentId !== undefined ? before.tasks!.map(taskToInput) : undefined);
      if (tasks) await validateTasks(tx, containerId, tasks, agentId, ws);
      // Pause and resume go through setMissionPaused, which also pauses the runs.
      if (patch.status && before.status === 'paused') throw new ConflictError(`Mission "${before.name}" is paused; resume it instead of changing its status.`);
      const type = patch.type ?? before.type;
      // An existing schedule keeps its paused state and note: only pausing and unpausing change them.
      const schedule = patch.schedule === undefined ? before.schedule
        : patch.schedule && before.schedule ? { ...patch.schedule, paused: before.schedule.paused, note: before.schedule.note } : patch.schedule;
      await tx`
        update missions set
          name = ${patch.name ?? before.name}, description = ${patch.description ?? before.description}, type = ${type},
          priority = ${patch.priority ?? before.priority}, container_id = ${containerId}, agent_id = ${agentId},
          status = ${patch.status ?? before.status},
          config = ${tx.json({ ...before.config, ...patch.config })},
          schedule = ${schedule ? tx.json(schedule) : null},
          trigger_secret = case when ${type} = 'triggered' then coalesce(trigger_secret, ${randomSecret(32)}) else trigger_secret end,
          updated_at = now()
        where id = ${id} and workspace_id = ${before.workspaceId}`;
      if (patch.tasks) await syncTasks(tx, id, patch.tasks);
      const mission = await getMission(tx, id, ws);
      const { tasks: _t, ...changes } = patch;
      await appendAudit(tx, {
        actor, action: 'mission.updated', entityType: 'mission', entityId: id,
        details: { changes, ...(patch.tasks ? { tasks: patch.tasks.length } : {}) }, workspaceId: mission.workspaceId,
      });
      if ((before.schedule || mission.schedule) && scheduleFacts(before) !== scheduleFacts(mission)) await markSchedulePending(tx, id);
      await afterWrite?.(tx, mission);
      return mission;
    });
  } catch (err) {
    rethrowConstraint(err, { unique: `A mission named "${patch.name}" already exists.` });
  }
}

export function taskToInput(t: MissionTask): TaskInput {
  return {
    id: t.id, name: t.name, order: t.order, patternId: t.patternId, selection: t.selection, input: t.input,
    requiresApproval: t.requiresApproval, approvalTimeoutSeconds: t.approvalTimeoutSeconds, ...(t.agent ? { agent: t.agent } : {}),
  };
}

export async function deleteMission(sql: Sql, id: string, actor: Actor, beforeDelete?: AfterWrite, ws?: WorkspaceRef): Promise<void> {
  await sql.begin(async (tx) => {
    const mission = await getMission(tx, id, ws);
    await beforeDelete?.(tx, mission);
    await tx`delete from missions where id = ${id} and workspace_id = ${mission.workspaceId}`;
    // The mission_sync row outlives the mission until its schedule is gone from Temporal.
    if (mission.schedule) await markSchedulePending(tx, id);
    await appendAudit(tx, { actor, action: 'mission.deleted', entityType: 'mission', entityId: id, details: { name: mission.name }, workspaceId: mission.workspaceId });
  });
}

/** By id: its callers have found the mission in their workspace (or are system code). */
export async function setMissionStatus(tx: TxSql, id: string, status: Mission['status']): Promise<void> {
  await tx`update missions set status = ${status}, updated_at = now() where id = ${id}`;
}

export async function rotateTriggerSecret(sql: Sql, id: string, actor: Actor, ws?: WorkspaceRef): Promise<string> {
  const secret = randomSecret(32);
  await sql.begin(async (tx) => {
    const [row] = await tx<{ workspaceId: string }[]>`
      update missions set trigger_secret = ${secret}, updated_at = now()
      where id = ${id} and workspace_id = ${workspaceIdOf(tx, ws)} returning workspace_id as "workspaceId"`;
    if (!row) throw new NotFoundError('Mission');
    await appendAudit(tx, { actor, action: 'mission.trigger_secret_rotated', entityType: 'mission', entityId: id, workspaceId: row.workspaceId });
  });
  return secret;
}

/** By id in any workspace: the signed trigger route has no session; the signature is the credential. */
export async function triggerSecretOf(sql: TxSql, id: string): Promise<string | null> {
  const [row] = await sql<{ secret: string | null }[]>`select trigger_secret as secret from missions where id = ${id}`;
  if (!row) throw new NotFoundError('Mission');
  return row.secret;
}

/** An agent task pinned to its definition's current version, with its settings in milliseconds. */
async function pinAgent(sql: TxSql, taskName: string, task: AgentTaskInput, mission: Mission): Promise<PinnedAgent> {
  // The mission's agent is pinned as it is when the run starts: a later reassignment changes the next runs only.
  if (task.selection === 'mission' && !mission.agentId) throw new ConflictError(`Task "${taskName}" runs on the mission's agent, and the mission has none now; assign it one.`);
  const a = task.selection === 'mission' ? { ...task, selection: 'fixed' as const, agentId: mission.agentId! } : { ...task, selection: task.selection as 'fixed' | 'capability' };
  const workspaceId = mission.workspaceId;
  const [d] = await sql<{ id: string; name: string; version: number; status: string }[]>`
    select d.id, d.name, d.current_version as version, d.status from agent_definitions d
    where d.workspace_id = ${workspaceId} and d.id = ${a.selection === 'fixed'
      ? sql`(select definition_id from agents where id = ${a.agentId!} and deleted_at is null and workspace_id = ${workspaceId})`
      : sql`${a.definitionId!}::uuid`}`;
  if (!d) throw new ConflictError(`Task "${taskName}" runs on an agent that no longer exists; change the task.`);
  if (d.status === 'deprecated') throw new ConflictError(`Task "${taskName}" runs on ${d.name}, which is deprecated; change the task.`);
  return {
    selection: a.selection, ...(a.agentId ? { agentId: a.agentId } : {}), ...(a.capability ? { capability: a.capability } : {}),
    definitionId: d.id, definitionName: d.name, definitionVersion: d.version,
    config: { timeout: a.timeoutSeconds * 1000, retryCount: a.retryCount, failureAction: a.failureAction }, heartbeatTimeoutMs: a.heartbeatTimeoutSeconds * 1000,
  };
}

/** The snapshot a run works from: every fixed task pinned to its pattern's current version. */
export async function buildPlan(sql: TxSql, missionId: string, ws?: WorkspaceRef): Promise<MissionPlan> {
  const mission = await getMission(sql, missionId, ws);
  if (mission.tasks!.length === 0) throw new ConflictError(`Mission "${mission.name}" has no tasks yet; add at least one before running it.`);
  const tasks: PlanTask[] = [];
  for (const t of mission.tasks!) {
    let pattern: PlanTask['pattern'] = null;
    if (t.patternId) {
      const [p] = await sql<{ name: string; isActive: boolean; versionId: string; version: number; config: PinnedPattern['config'] }[]>`
        select p.name, p.is_active as "isActive", v.id as "versionId", v.version, v.config
        from patterns p join pattern_versions v on v.id = p.current_version_id
        where p.id = ${t.patternId} and p.workspace_id = ${mission.workspaceId}`;
      if (!p?.isActive) throw new ConflictError(`Task "${t.name}" uses pattern "${p?.name ?? t.patternName}", which is inactive; activate it or change the task.`);
      pattern = { patternId: t.patternId, patternName: p.name, versionId: p.versionId, version: p.version, config: p.config };
    }
    tasks.push({
      id: t.id, name: t.name, order: t.order, selection: t.selection, pattern, input: t.input,
      requiresApproval: t.requiresApproval, approvalTimeoutSeconds: t.approvalTimeoutSeconds,
      ...(t.agent ? { agent: await pinAgent(sql, t.name, t.agent, mission) } : {}),
    });
  }
  return {
    missionId: mission.id, missionName: mission.name, containerId: mission.containerId, priority: mission.priority,
    config: mission.config, tasks,
  };
}

// Whether an agent is there and what it is doing: hello opens a session,
// heartbeats carry its status and resource usage, and an agent that misses its
// heartbeats is OFFLINE within three intervals (sweepOffline, run by every web
// replica: one conditional UPDATE, so a change is recorded once however many
// replicas sweep). Each change of status is one `agent.status_changed` event,
// written in the statement that changes it.
import { randomUUID } from 'node:crypto';
import type { Sql, TxSql } from '../../db/sql';
import { ConflictError, NotFoundError } from '../../lib/errors';
import type { AgentStatus, ReportedStatus } from '../../client/agent/protocol';
import { appendAudit, type Actor } from '../audit/audit-log';
import { EVENT_COLUMNS } from '../events/events';
import { getAgent, wakeAgent, type Agent } from './agents';
import { pruneMetrics } from './metrics';

/** Heartbeats missed before an agent counts as OFFLINE: with the sweep's period (500 ms) on top, within three intervals of 1 s or more. */
export const MISSED_HEARTBEATS = 2.25;

export type StatusReason = 'hello' | 'heartbeat' | 'missed_heartbeats' | 'goodbye' | 'operator';

/**
 * Sets the status where it differs, and writes the event of the change in the same statement;
 * returns the status before (null when nothing changed).
 */
async function changeStatus(sql: TxSql, agentId: string, to: AgentStatus, reason: StatusReason, actor: string, extra: Record<string, unknown> = {}): Promise<AgentStatus | null> {
  const [row] = await sql<{ from: AgentStatus }[]>`
    with old as (select id, status, workspace_id, name from agents where id = ${agentId} for update),
    changed as (
      update agents a set status = ${to}, status_seq = a.status_seq + 1, status_changed_at = now()
      from old where a.id = old.id and old.status <> ${to}
      returning old.status as "from", a.workspace_id, a.name, a.status_seq
    ),
    event as (
      insert into events (${sql.unsafe(EVENT_COLUMNS)})
      select 'agent.status_changed', 'agent', ${agentId}, null, null, null, ${actor},
             jsonb_build_object('from', c."from", 'to', ${to}::text, 'reason', ${reason}::text, 'name', c.name) || ${sql.json(extra as never)},
             'agent-status/' || ${agentId} || '/' || c.status_seq, c.workspace_id
      from changed c
    )
    select "from" from changed`;
  return row?.from ?? null;
}

export interface HelloInput {
  version?: string;
  capabilities?: string[];
  metadata?: Record<string, unknown>;
  heartbeatIntervalMs?: number;
  kind?: 'http' | 'worker';
}

/** Opens a session (superseding any other), records what the agent says of itself, and brings it online. */
export async function hello(sql: Sql, agentId: string, input: HelloInput): Promise<{ agent: Agent; sessionId: string }> {
  const sessionId = randomUUID();
  return sql.begin(async (tx) => {
    const before = await getAgent(tx, agentId);
    await tx`
      update agents set session_id = ${sessionId}, last_heartbeat_at = now(), version = ${input.version ?? before.version},
             capabilities = ${input.capabilities ?? before.capabilities}, metadata = ${tx.json((input.metadata ?? before.metadata) as never)},
             heartbeat_interval_ms = ${input.heartbeatIntervalMs ?? before.heartbeatIntervalMs}, kind = ${input.kind ?? before.kind}, updated_at = now()
      where id = ${agentId}`;
    const described = JSON.stringify([before.version, before.capabilities, before.metadata]) !== JSON.stringify([input.version ?? before.version, input.capabilities ?? before.capabilities, input.metadata ?? before.metadata]);
    if (described) {
      await appendAudit(tx, {
        actor: { id: null, name: `agent:${before.name}` }, action: 'agent.registered', entityType: 'agent', entityId: agentId,
        details: { name: before.name, version: input.version ?? before.version, capabilities: input.capabilities ?? before.capabilities }, workspaceId: before.workspaceId,
      });
    }
    if (before.status === 'OFFLINE') await changeStatus(tx, agentId, before.paused ? 'PAUSED' : 'IDLE', 'hello', `agent:${before.name}`);
    else await wakeAgent(tx, agentId, before.workspaceId, `hello/${sessionId}`); // a stream of the session it supersedes ends now
    return { agent: await getAgent(tx, agentId), sessionId };
  });
}

export interface HeartbeatInput {
  sessionId: string;
  status: ReportedStatus;
  currentTask?: string | null;
  resourceUsage?: Record<string, number>;
}

/** What a heartbeat answers the agent, and the task attempts it holds whose liveness goes on to Temporal. */
export interface HeartbeatOutcome {
  answer: { status: AgentStatus; paused: boolean; heartbeatIntervalMs: number };
  relay: { id: string; taskToken: Buffer }[];
}

/**
 * Records a heartbeat of the current session in one statement (a fleet sends many): the row, the status
 * an operator's pause allows with its event where it changed (as changeStatus writes it), and the held
 * task attempts due a relay (at most one a second each). A superseded session is told so (409).
 */
export async function heartbeat(sql: Sql, agentId: string, input: HeartbeatInput): Promise<HeartbeatOutcome> {
  const [row] = await sql<{ status: AgentStatus; paused: boolean; interval: number; relay: { id: string; token: string }[] }[]>`
    with old as (
      select id, status, paused_at is not null as paused from agents
      where id = ${agentId} and deleted_at is null and session_id = ${input.sessionId}
      for update
    ),
    -- the status it shows for what it reports: an operator's pause wins over anything but ERROR
    next as (
      select id, status as "from", paused, case when paused and ${input.status}::text <> 'ERROR' then 'PAUSED' else ${input.status}::text end as "to"
      from old
    ),
    beat as (
      update agents a set last_heartbeat_at = now(), current_task = ${input.currentTask ?? null},
             resource_usage = ${sql.json((input.resourceUsage ?? {}) as never)},
             status = n."to", status_seq = a.status_seq + (n."from" <> n."to")::int,
             status_changed_at = case when n."from" <> n."to" then now() else a.status_changed_at end
      from next n where a.id = n.id
      returning n."from", n."to", n.paused, a.name, a.status_seq, a.workspace_id, a.heartbeat_interval_ms
    ),
    event as (
      insert into events (${sql.unsafe(EVENT_COLUMNS)})
      select 'agent.status_changed', 'agent', ${agentId}, null, null, null, 'agent:' || b.name,
             jsonb_build_object('from', b."from", 'to', b."to", 'reason', 'heartbeat', 'name', b.name),
             'agent-status/' || ${agentId} || '/' || b.status_seq, b.workspace_id
      from beat b where b."from" <> b."to"
    ),
    relay as (
      update agent_tasks t set last_relayed_at = now()
      from beat
      where t.agent_id = ${agentId} and t.status in ('delivered', 'running') and t.task_token is not null
        and (t.last_relayed_at is null or t.last_relayed_at < now() - interval '1 second')
      returning t.id, t.task_token
    )
    select b."to" as status, b.paused, b.heartbeat_interval_ms as interval,
           coalesce((select json_agg(json_build_object('id', r.id, 'token', encode(r.task_token, 'base64'))) from relay r), '[]') as relay
    from beat b`;
  if (!row) {
    const [exists] = await sql`select 1 from agents where id = ${agentId} and deleted_at is null`;
    if (!exists) throw new NotFoundError('Agent');
    throw new ConflictError('This session was superseded by a newer hello (or never opened): say hello again.', { code: 'superseded' });
  }
  return {
    answer: { status: row.status, paused: row.paused, heartbeatIntervalMs: row.interval },
    relay: row.relay.map((r) => ({ id: r.id, taskToken: Buffer.from(r.token, 'base64') })),
  };
}

/** The agent says it is leaving: OFFLINE now rather than after its missed heartbeats. */
export async function goodbye(sql: Sql, agentId: string): Promise<void> {
  await sql.begin(async (tx) => {
    const a = await getAgent(tx, agentId);
    await tx`update agents set session_id = null, current_task = null where id = ${agentId}`;
    await changeStatus(tx, agentId, 'OFFLINE', 'goodbye', `agent:${a.name}`);
  });
}

/**
 * Marks OFFLINE every agent whose last heartbeat is older than MISSED_HEARTBEATS intervals; returns how many.
 * Safe on every replica at once: each row changes (and writes its event) only while it is not OFFLINE yet.
 */
export async function sweepOffline(sql: Sql): Promise<number> {
  const rows = await sql<{ id: string }[]>`
    select id from agents
    where deleted_at is null and status <> 'OFFLINE'
      and (last_heartbeat_at is null or last_heartbeat_at < now() - heartbeat_interval_ms * ${MISSED_HEARTBEATS}::float8 * interval '1 millisecond')`;
  let changed = 0;
  for (const { id } of rows) {
    const from = await sql.begin((tx) => changeStatusIfStale(tx, id));
    if (from) changed++;
  }
  return changed;
}

async function changeStatusIfStale(tx: TxSql, id: string): Promise<AgentStatus | null> {
  // Checked again under the row lock: a heartbeat that arrived since the scan keeps the agent online.
  const [stale] = await tx`
    select 1 from agents where id = ${id} and status <> 'OFFLINE'
      and (last_heartbeat_at is null or last_heartbeat_at < now() - heartbeat_interval_ms * ${MISSED_HEARTBEATS}::float8 * interval '1 millisecond')
    for update`;
  if (!stale) return null;
  await tx`update agents set session_id = null, current_task = null where id = ${id}`;
  return changeStatus(tx, id, 'OFFLINE', 'missed_heartbeats', 'system');
}

/** An operator holds an agent (PAUSED, its stream says so) or lets it go on; audited. */
export async function setAgentPaused(sql: Sql, id: string, paused: boolean, actor: Actor, ws: { id: string }, reason?: string): Promise<Agent> {
  return sql.begin(async (tx) => {
    const a = await getAgent(tx, id, ws);
    if (a.paused === paused) return a;
    await tx`update agents set paused_at = ${paused ? tx`now()` : null}, paused_by = ${paused ? actor.name : null} where id = ${id}`;
    await appendAudit(tx, { actor, action: paused ? 'agent.paused' : 'agent.resumed', entityType: 'agent', entityId: id, details: { name: a.name, ...(reason ? { reason } : {}) }, workspaceId: a.workspaceId });
    if (a.status !== 'OFFLINE') await changeStatus(tx, id, paused ? 'PAUSED' : 'IDLE', 'operator', actor.name);
    await wakeAgent(tx, id, a.workspaceId, `${paused ? 'paused' : 'resumed'}/${id}/${Date.now()}`); // its stream says so now
    return getAgent(tx, id, ws);
  });
}

/**
 * Sweeps for silent agents every `intervalMs` (and prunes old metrics hourly) on this replica; any number of
 * replicas may run it. A sweep that fails (the database down) is tried again at the next tick.
 */
export function startPresenceSweeper(
  deps: { sql: Sql; logger: { warn(o: object, msg: string): void }; metricsRetentionHours: number },
  opts: { intervalMs?: number } = {},
): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  let lastError: string | null = null;
  let lastPrune = 0;
  const tick = () => {
    const prune = Date.now() - lastPrune > 3_600_000;
    running = Promise.all([sweepOffline(deps.sql), prune ? pruneMetrics(deps.sql, deps.metricsRetentionHours).then(() => (lastPrune = Date.now())) : null])
      .then(() => void (lastError = null))
      .catch((err) => {
        if ((err as Error).message !== lastError) deps.logger.warn({ err: (err as Error).message }, 'agent presence sweep failed; retrying');
        lastError = (err as Error).message;
      })
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, opts.intervalMs ?? 500).unref();
      });
  };
  timer = setTimeout(tick, opts.intervalMs ?? 500).unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

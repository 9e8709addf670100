// What each region of the agent pages shows, loaded in the request's workspace,
// with the fingerprint (`version`) its live element sends back as `?v=` so that a
// refresh finds nothing new and gets a 204. Metrics and the run log are read by
// agent id: callers have found the agent in their workspace first (getAgent).
import type { Sql } from '../../../db/sql';
import { WORK_CHANGED, listAgents, type Agent } from '../../../core/agents/agents';
import { listCommands, type AgentCommand } from '../../../core/agents/commands';
import { listConfigurations, listConfigurationVersions, type AgentConfiguration } from '../../../core/agents/configurations';
import { getDefinition, listDefinitions, type AgentDefinition } from '../../../core/agents/definitions';
import { metricSeries } from '../../../core/agents/metrics';
import { agentRunLog, type AgentRunLogEntry } from '../../../core/agents/run-log';
import { listAudit } from '../../../core/audit/audit-log';
import { listEvents, type MissionEvent } from '../../../core/events/events';
import { lineDiff } from '../../../lib/line-diff';
import { ROLE_RANK, type Role } from '../../../lib/names';
import { contentVersion } from '../common';
import { ALL_STATUSES, eventLine, statusWords, type EventLine, type StatusWords } from './agent-words';
import { metricLine, mostReported, type MetricLine } from './charts';

type Ws = { id: string };
const WINDOW_MINUTES = 60;
/** An agent event the pages never show: it only wakes the agent's own stream. */
const INTERNAL = WORK_CHANGED;

export interface FleetCard {
  agent: Agent;
  status: StatusWords;
  spark: MetricLine | null;
}

export async function loadFleet(sql: Sql, ws: Ws) {
  const [agents, definitions] = await Promise.all([listAgents(sql, {}, ws), listDefinitions(sql, ws)]);
  const cards: FleetCard[] = await Promise.all(agents.map(async (agent) => {
    const { series } = await metricSeries(sql, agent.id, { minutes: WINDOW_MINUTES, steps: 30 });
    const top = mostReported(series);
    return { agent, status: statusWords(agent.status), spark: top && metricLine(top, WINDOW_MINUTES, 120, 28) };
  }));
  const counts = ALL_STATUSES.map((s) => ({ ...s, count: agents.filter((a) => a.status === s.status).length }));
  return { cards, definitions, counts, version: contentVersion({ cards, definitions }) };
}
export type Fleet = Awaited<ReturnType<typeof loadFleet>>;

/** The header of an agent's page: its status, usage, metrics, and who paused it. */
export async function loadOverview(sql: Sql, agent: Agent, ws: Ws) {
  const [metrics, pause] = await Promise.all([
    metricSeries(sql, agent.id, { minutes: WINDOW_MINUTES, steps: 60 }),
    agent.paused ? listAudit(sql, { action: 'agent.paused', entityType: 'agent', entityId: agent.id, limit: 1 }, ws) : Promise.resolve([]),
  ]);
  const charts = metrics.series.map((s) => metricLine(s, WINDOW_MINUTES, 280, 72));
  const pausedBy = pause[0] ? { actor: pause[0].actor, at: pause[0].at, reason: typeof pause[0].details?.reason === 'string' ? pause[0].details.reason : null } : null;
  const data = { agent, status: statusWords(agent.status), charts, pausedBy, minutes: WINDOW_MINUTES };
  return { ...data, version: contentVersion(data) };
}
export type Overview = Awaited<ReturnType<typeof loadOverview>>;

export async function loadCommands(sql: Sql, agent: Agent, ws: Ws) {
  const [commands, runs] = await Promise.all([listCommands(sql, { agentId: agent.id, limit: 50 }, ws), agentRunLog(sql, agent.id, 50)]);
  const data: { agentId: string; commands: AgentCommand[]; runs: AgentRunLogEntry[] } = { agentId: agent.id, commands, runs };
  return { ...data, version: contentVersion(data) };
}
export type Commands = Awaited<ReturnType<typeof loadCommands>>;

/** The newest `limit` events about the agent, newest first. */
export async function loadEvents(sql: Sql, agent: Agent, ws: Ws, limit = 50) {
  const events = await newestEvents(sql, agent.id, ws, limit);
  const data: { agentId: string; events: EventLine[] } = { agentId: agent.id, events: events.map(eventLine) };
  return { ...data, version: contentVersion(data) };
}
export type Events = Awaited<ReturnType<typeof loadEvents>>;

// listEvents reads oldest first after a cursor: the cursor is set just before the limit-th newest shown event.
async function newestEvents(sql: Sql, agentId: string, ws: Ws, limit: number): Promise<MissionEvent[]> {
  const [row] = await sql<{ first: string | null }[]>`
    select min(id)::text as first from (
      select id from events
      where entity_type = 'agent' and entity_id = ${agentId} and workspace_id = ${ws.id} and type <> ${INTERNAL}
      order by id desc limit ${limit}) newest`;
  if (!row?.first) return [];
  const filter = { entityType: 'agent', entityId: agentId, workspaceId: ws.id };
  const out: MissionEvent[] = [];
  const PAGE = 500;
  for (let after = Number(row.first) - 1; ;) {
    const page = await listEvents(sql, { ...filter, after }, PAGE);
    out.push(...page.filter((e) => e.type !== INTERNAL));
    if (page.length < PAGE) break;
    after = Number(page.at(-1)!.id);
  }
  return out.slice(-limit).reverse();
}

/** The assigned configuration, the ones that could be, and the assigned one's versions with what each changed. */
export async function loadConfiguration(sql: Sql, agent: Agent, ws: Ws) {
  const [choices, versions] = await Promise.all([
    listConfigurations(sql, ws, { definitionId: agent.definitionId }),
    agent.configurationId ? listConfigurationVersions(sql, agent.configurationId, ws) : Promise.resolve([]),
  ]);
  const shown = versions.slice(0, 10);
  const history = shown.map((v, i) => {
    const before = versions[i + 1];
    return { ...v, diff: before ? { from: before.version, ...lineDiff(before.yaml, v.yaml) } : null };
  });
  const data = {
    agent: {
      id: agent.id, name: agent.name, definitionName: agent.definitionName, configurationId: agent.configurationId, configurationName: agent.configurationName,
      configVersion: agent.configVersion, configAppliedVersion: agent.configAppliedVersion, configStatus: agent.configStatus, configMessage: agent.configMessage,
    },
    choices: choices.map((c: AgentConfiguration) => ({ id: c.id, name: c.name, status: c.status, currentVersion: c.currentVersion })),
    history, more: versions.length - shown.length,
  };
  return { ...data, version: contentVersion(data) };
}
export type Configuration = Awaited<ReturnType<typeof loadConfiguration>>;

export interface CommandChoice {
  type: string;
  description: string;
  role: Role;
  timeoutMs: number;
  payloadSchema: Record<string, unknown>;
  /** The user's role in the workspace reaches the command's. */
  allowed: boolean;
}

/** The commands the agent's definition accepts, each with whether `role` may send it. */
export async function commandChoices(sql: Sql, agent: Agent, role: Role, ws: Ws): Promise<{ definition: AgentDefinition; choices: CommandChoice[] }> {
  const definition = await getDefinition(sql, agent.definitionId, ws);
  const choices = definition.commands.map((c) => ({
    type: c.type, description: c.description, role: c.role, timeoutMs: c.timeoutMs, payloadSchema: c.payloadSchema, allowed: ROLE_RANK[role] >= ROLE_RANK[c.role],
  }));
  return { definition, choices };
}

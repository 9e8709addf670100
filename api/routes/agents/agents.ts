// /api/agent-definitions, /api/agents, /api/agent-configurations: defining kinds
// of agent, registering agents (token and signing secret shown once), sending
// them commands and reading what they did and reported. Every route acts in the
// caller's workspace; anything of another workspace is not found.
import { Hono } from 'hono';
import { z } from 'zod';
import { AGENT_STATUSES } from '../../../client/agent/protocol';
import { actorOf } from '../../../core/access/users';
import { agentSigningKey, createAgent, deleteAgent, getAgent, listAgents, rotateAgentToken, updateAgent } from '../../../core/agents/agents';
import { COMMAND_STATUSES, getCommand, listCommands } from '../../../core/agents/commands';
import {
  addConfigurationVersion, assignConfiguration, createConfiguration, getConfiguration, listConfigurations, listConfigurationVersions,
} from '../../../core/agents/configurations';
import { addDefinitionVersion, createDefinition, getDefinition, listDefinitions, listDefinitionVersions, updateDefinition } from '../../../core/agents/definitions';
import { metricSeries } from '../../../core/agents/metrics';
import { setAgentPaused } from '../../../core/agents/presence';
import { agentRunLog } from '../../../core/agents/run-log';
import {
  agentCreateSchema, agentPatchSchema, commandRequestSchema, configurationCreateSchema, configurationVersionSchema,
  definitionCreateSchema, definitionPatchSchema, definitionVersionSchema,
} from '../../../core/agents/schemas';
import { sendCommand } from '../../../core/agents/send-command';
import { reasonText, text } from '../../../lib/text';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

const idParam = (what: string) => z.object({ id: z.uuid(`Not a valid ${what} id.`) });

export function agentDefinitionRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const byId = valid('param', idParam('agent definition'));
  app.get('/', authorize('VIEWER'), async (c) => c.json({ definitions: await listDefinitions(deps.sql, currentWorkspace(c)) }));
  app.post('/', authorize('ADMIN'), valid('json', definitionCreateSchema), async (c) =>
    c.json({ definition: await createDefinition(deps.sql, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c)) }, 201));
  app.get('/:id', authorize('VIEWER'), byId, async (c) => {
    const ws = currentWorkspace(c);
    const definition = await getDefinition(deps.sql, c.req.valid('param').id, ws);
    return c.json({ definition, versions: await listDefinitionVersions(deps.sql, definition.id, ws) });
  });
  app.patch('/:id', authorize('ADMIN'), byId, valid('json', definitionPatchSchema), async (c) =>
    c.json({ definition: await updateDefinition(deps.sql, c.req.valid('param').id, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c)) }));
  app.post('/:id/versions', authorize('ADMIN'), byId, valid('json', definitionVersionSchema), async (c) =>
    c.json({ definition: await addDefinitionVersion(deps.sql, c.req.valid('param').id, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c)) }, 201));
  return app;
}

const listQuery = z.object({
  status: z.enum(AGENT_STATUSES).optional(),
  capability: text().max(64).optional(),
  definitionId: z.uuid('definitionId must be a definition id (a UUID).').optional(),
});
const commandsQuery = z.object({ status: z.enum(COMMAND_STATUSES).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) });
const metricsQuery = z.object({ minutes: z.coerce.number().int().min(5).max(10_080).default(60), steps: z.coerce.number().int().min(2).max(500).default(60) });

export function agentRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const byId = valid('param', idParam('agent'));
  const key = () => agentSigningKey(deps.sql, deps.config.MC_AGENT_SIGNING_KEY);

  app.get('/', authorize('VIEWER'), valid('query', listQuery), async (c) => c.json({ agents: await listAgents(deps.sql, c.req.valid('query'), currentWorkspace(c)) }));
  app.post('/', authorize('ADMIN'), valid('json', agentCreateSchema), async (c) =>
    c.json(await createAgent(deps.sql, c.req.valid('json'), actorOf(c.get('user')!), await key(), currentWorkspace(c)), 201));
  app.get('/:id', authorize('VIEWER'), byId, async (c) => c.json({ agent: await getAgent(deps.sql, c.req.valid('param').id, currentWorkspace(c)) }));
  app.patch('/:id', authorize('ADMIN'), byId, valid('json', agentPatchSchema), async (c) =>
    c.json({ agent: await updateAgent(deps.sql, c.req.valid('param').id, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c)) }));
  app.delete('/:id', authorize('ADMIN'), byId, async (c) => {
    await deleteAgent(deps.sql, c.req.valid('param').id, actorOf(c.get('user')!), currentWorkspace(c));
    return c.json({ deleted: true });
  });
  app.post('/:id/token', authorize('ADMIN'), byId, async (c) =>
    c.json(await rotateAgentToken(deps.sql, c.req.valid('param').id, actorOf(c.get('user')!), await key(), currentWorkspace(c))));
  for (const [path, paused] of [['pause', true], ['resume', false]] as const) {
    app.post(`/:id/${path}`, authorize('OPERATOR'), byId, valid('json', z.strictObject({ reason: reasonText().optional() }).default({})), async (c) =>
      c.json({ agent: await setAgentPaused(deps.sql, c.req.valid('param').id, paused, actorOf(c.get('user')!), currentWorkspace(c), c.req.valid('json').reason) }));
  }
  app.put('/:id/configuration', authorize('ADMIN'), byId, valid('json', z.strictObject({ configurationId: z.uuid('Not a valid configuration id.').nullable() })), async (c) => {
    const ws = currentWorkspace(c);
    await assignConfiguration(deps.sql, c.req.valid('param').id, c.req.valid('json').configurationId, actorOf(c.get('user')!), ws);
    return c.json({ agent: await getAgent(deps.sql, c.req.valid('param').id, ws) });
  });

  // Commands: the least role is the one the agent's definition declares for the command's type (checked in sendCommand).
  app.post('/:id/commands', authorize('VIEWER'), byId, valid('json', commandRequestSchema), async (c) => {
    const body = c.req.valid('json');
    const user = c.get('user')!;
    const ws = currentWorkspace(c);
    const { command, settled } = await sendCommand(
      deps, { agentId: c.req.valid('param').id, type: body.type, payload: body.payload, timeoutMs: body.timeoutMs, source: 'api' },
      { ...actorOf(user), role: ws.role }, ws, body.wait,
    );
    if (!settled) c.header('Location', `/api/agents/${command.agentId}/commands/${command.id}`);
    return c.json({ command }, settled ? 200 : 202);
  });
  app.get('/:id/commands', authorize('VIEWER'), byId, valid('query', commandsQuery), async (c) => {
    const agent = await getAgent(deps.sql, c.req.valid('param').id, currentWorkspace(c));
    return c.json({ commands: await listCommands(deps.sql, { ...c.req.valid('query'), agentId: agent.id }, currentWorkspace(c)) });
  });
  app.get('/:id/commands/:commandId', authorize('VIEWER'), valid('param', z.object({ id: z.uuid('Not a valid agent id.'), commandId: z.uuid('Not a valid command id.') })), async (c) => {
    const p = c.req.valid('param');
    return c.json({ command: await getCommand(deps.sql, p.commandId, currentWorkspace(c), p.id) });
  });
  app.get('/:id/metrics', authorize('VIEWER'), byId, valid('query', metricsQuery), async (c) => {
    const agent = await getAgent(deps.sql, c.req.valid('param').id, currentWorkspace(c));
    return c.json(await metricSeries(deps.sql, agent.id, c.req.valid('query')));
  });
  app.get('/:id/runs', authorize('VIEWER'), byId, valid('query', z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) })), async (c) => {
    const agent = await getAgent(deps.sql, c.req.valid('param').id, currentWorkspace(c));
    return c.json({ runs: await agentRunLog(deps.sql, agent.id, c.req.valid('query').limit) });
  });
  return app;
}

export function agentConfigurationRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const byId = valid('param', idParam('configuration'));
  app.get('/', authorize('VIEWER'), async (c) => c.json({ configurations: await listConfigurations(deps.sql, currentWorkspace(c)) }));
  app.post('/', authorize('ADMIN'), valid('json', configurationCreateSchema), async (c) =>
    c.json({ configuration: await createConfiguration(deps.sql, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c)) }, 201));
  app.get('/:id', authorize('VIEWER'), byId, async (c) => {
    const ws = currentWorkspace(c);
    const configuration = await getConfiguration(deps.sql, c.req.valid('param').id, ws);
    return c.json({ configuration, versions: await listConfigurationVersions(deps.sql, configuration.id, ws) });
  });
  app.post('/:id/versions', authorize('ADMIN'), byId, valid('json', configurationVersionSchema), async (c) =>
    c.json({ configuration: await addConfigurationVersion(deps.sql, c.req.valid('param').id, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c)) }, 201));
  return app;
}

// Agents in the UI (/agents): the fleet, a card per agent with its status in
// colour and in words, its last heartbeat and a sparkline of what it reports
// most, refreshed when the event stream says an agent changed; the kinds of
// agent (definitions). Admins register agents (the token and signing secret are
// shown once, in the answer to that post, never in a URL) and define kinds.
// Each agent's own page is agent-page.ts. Everything is in the session's workspace.
import { Hono, type Context } from 'hono';
import { actorOf } from '../../../core/access/users';
import { agentSigningKey, createAgent, type AgentCredentials } from '../../../core/agents/agents';
import { createDefinition, listDefinitions } from '../../../core/agents/definitions';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { readForm } from '../common';
import { flash, formProblem, isHtmx } from '../form-problem';
import { agentDetailPages, liveQuery } from './agent-page';
import { loadFleet } from './agent-data';
import {
  DEFINITION_DEFAULTS, REGISTER_DEFAULTS, definitionInput, definitionValues, registerInput, registerValues, type DefinitionValues, type RegisterValues,
} from './agent-forms';

interface RegisterState { values: RegisterValues; error?: string; created?: { name: string; id: string } & AgentCredentials }
interface DefinitionState { values: DefinitionValues; error?: string; created?: string }

export function agentPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();
  const me = (c: Context<AppEnv>) => c.get('user')!;

  /** The kinds an agent can be registered as (a deprecated one cannot). */
  const registrable = async (c: Context<AppEnv>) => (await listDefinitions(deps.sql, currentWorkspace(c))).filter((d) => d.status !== 'deprecated');

  const page = async (c: Context<AppEnv>, state: { register?: RegisterState; definition?: DefinitionState } = {}, status = 200) => {
    const fleet = await loadFleet(deps.sql, currentWorkspace(c));
    return renderer.respond(c, { page: 'pages/agents/agents', partial: 'partials/agents/fleet' }, {
      title: 'Agents', fleet, kinds: fleet.definitions.filter((d) => d.status !== 'deprecated'),
      register: state.register ?? { values: REGISTER_DEFAULTS }, definition: state.definition ?? { values: DEFINITION_DEFAULTS },
    }, status);
  };

  app.get('/agents', authorize('VIEWER'), (c) => page(c));

  // The cards and the kinds again, for the live element: 204 while nothing changed.
  app.get('/agents/list', authorize('VIEWER'), valid('query', liveQuery), async (c) => {
    const fleet = await loadFleet(deps.sql, currentWorkspace(c));
    if (c.req.valid('query').v === fleet.version) return c.body(null, 204);
    return renderer.fragment(c, 'partials/agents/fleet', { fleet });
  });

  app.post('/agents', authorize('ADMIN'), async (c) => {
    const values = registerValues(await readForm(c));
    try {
      const input = registerInput(values);
      const instanceKey = await agentSigningKey(deps.sql, deps.config.MC_AGENT_SIGNING_KEY);
      const { agent, token, signingSecret } = await createAgent(deps.sql, input, actorOf(me(c)), instanceKey, currentWorkspace(c));
      // The credentials are in this answer only: nothing may keep it.
      c.header('Cache-Control', 'no-store');
      const register: RegisterState = { values: { ...REGISTER_DEFAULTS, definitionId: values.definitionId }, created: { name: agent.name, id: agent.id, token, signingSecret } };
      if (!isHtmx(c)) return page(c, { register }, 201);
      flash(c, 'ok', `Registered ${agent.name}. Copy its token and signing secret now: they are not shown again.`);
      return renderer.fragment(c, 'partials/agents/register-form', { register, kinds: await registrable(c) }, 201);
    } catch (err) {
      const p = formProblem(err);
      if (!p || isHtmx(c)) throw err;
      return page(c, { register: { values, error: p.message } }, p.status);
    }
  });

  app.post('/agents/definitions', authorize('ADMIN'), async (c) => {
    const values = definitionValues(await readForm(c));
    try {
      const d = await createDefinition(deps.sql, definitionInput(values), actorOf(me(c)), currentWorkspace(c));
      const created = `Defined ${d.name} (${d.status}, version 1) with ${d.commands.length} command${d.commands.length === 1 ? '' : 's'}.`;
      if (!isHtmx(c)) return page(c, { definition: { values: DEFINITION_DEFAULTS, created } }, 201);
      flash(c, 'ok', created);
      // The register form lists the new kind, chosen; the kinds' table follows by the event stream.
      return renderer.fragment(c, 'partials/agents/admin-forms', {
        definition: { values: DEFINITION_DEFAULTS, created }, register: { values: { ...REGISTER_DEFAULTS, definitionId: d.id } }, kinds: await registrable(c),
      }, 201);
    } catch (err) {
      const p = formProblem(err);
      if (!p || isHtmx(c)) throw err;
      return page(c, { definition: { values, error: p.message } }, p.status);
    }
  });

  app.route('/', agentDetailPages(deps, renderer));
  return app;
}

// One agent's page (/agents/:id): its status and what it reports (live), its
// metrics over the last hour, commands sent to it and its run log (live), its
// configuration with each version's changes, and its events (live). Anyone may
// send a command their role reaches (the definition says which, sendCommand
// checks); operators pause and resume it; admins rotate its token (shown
// once, in the answer) and remove it, and configure it (agent-config.ts).
// Another workspace's agent is not found.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { actorOf } from '../../../core/access/users';
import { agentSigningKey, deleteAgent, getAgent, rotateAgentToken, type Agent, type AgentCredentials } from '../../../core/agents/agents';
import type { AgentCommand } from '../../../core/agents/commands';
import { setAgentPaused } from '../../../core/agents/presence';
import { sendCommand } from '../../../core/agents/send-command';
import { reasonText, text } from '../../../lib/text';
import { currentWorkspace, type AppDeps, type AppEnv, type CurrentWorkspace } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { readForm, redirect, str } from '../common';
import { flash, flashing, formProblem, isHtmx } from '../form-problem';
import { commandChoices, loadCommands, loadConfiguration, loadEvents, loadOverview } from './agent-data';
import { agentConfigPages, EDITOR_DEFAULTS, type EditorState } from './agent-config';
import { COMMAND_DEFAULTS, commandInput, commandValues, type CommandValues } from './agent-forms';

const idParam = z.object({ id: z.uuid('Not a valid agent id.') });
export const liveQuery = z.object({ v: text().max(40).optional() });
const pauseForm = z.object({ reason: reasonText().optional() });
/** How long the page waits for an agent's answer before saying it is still waiting. */
const WAIT_SECONDS = 10;

/** What became of a command sent from the form. */
export type CommandOutcome =
  | { kind: 'settled' | 'waiting'; command: AgentCommand }
  | { kind: 'refused'; status: number; message: string };

export function agentDetailPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();
  const me = (c: Context<AppEnv>) => c.get('user')!;

  const page = async (
    c: Context<AppEnv>, id: string, extra: { outcome?: CommandOutcome; values?: CommandValues; credentials?: AgentCredentials; editor?: EditorState } = {}, status = 200,
  ) => {
    const ws = currentWorkspace(c);
    const agent = await getAgent(deps.sql, id, ws);
    const [overview, commands, events, configuration, sendable] = await Promise.all([
      loadOverview(deps.sql, agent, ws), loadCommands(deps.sql, agent, ws), loadEvents(deps.sql, agent, ws),
      loadConfiguration(deps.sql, agent, ws), commandChoices(deps.sql, agent, ws.role, ws),
    ]);
    return renderer.respond(c, { page: 'pages/agents/agent', partial: 'partials/agents/overview' }, {
      title: agent.name, agent, overview, commands, events, configuration, choices: sendable.choices,
      values: extra.values ?? COMMAND_DEFAULTS, outcome: extra.outcome ?? null, credentials: extra.credentials ?? null, editor: extra.editor ?? EDITOR_DEFAULTS,
    }, status);
  };

  app.get('/agents/:id', authorize('VIEWER'), valid('param', idParam), (c) => page(c, c.req.valid('param').id));

  // The live regions, each again on its own: 204 while what it shows is unchanged.
  const regions = [
    ['status', 'overview', loadOverview],
    ['configuration', 'configuration', loadConfiguration],
    ['commands', 'commands', loadCommands],
    ['events', 'events', loadEvents],
  ] as const;
  for (const [path, name, load] of regions) {
    app.get(`/agents/:id/${path}`, authorize('VIEWER'), valid('param', idParam), valid('query', liveQuery), async (c) => {
      const ws = currentWorkspace(c);
      const data = await load(deps.sql, await getAgent(deps.sql, c.req.valid('param').id, ws), ws);
      if (c.req.valid('query').v === data.version) return c.body(null, 204);
      return renderer.fragment(c, `partials/agents/${name}`, { [name]: data });
    });
  }

  const overviewOf = async (c: Context<AppEnv>, agent: Agent, ws: CurrentWorkspace) =>
    renderer.fragment(c, 'partials/agents/overview', { overview: await loadOverview(deps.sql, agent, ws) });

  // The least role is the one the definition declares for the command's type: sendCommand checks it and audits a refusal.
  app.post('/agents/:id/commands', authorize('VIEWER'), valid('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    const ws = currentWorkspace(c);
    const values = commandValues(await readForm(c));
    let outcome: CommandOutcome;
    try {
      const body = commandInput(values);
      const { command, settled } = await sendCommand(deps, { agentId: id, ...body, source: 'ui' }, { ...actorOf(me(c)), role: ws.role }, ws, WAIT_SECONDS);
      outcome = { kind: settled ? 'settled' : 'waiting', command };
    } catch (err) {
      const p = formProblem(err);
      if (!p || p.status === 404) throw err;
      outcome = { kind: 'refused', status: p.status, message: p.message };
    }
    // htmx swaps only a 2xx: a refusal is shown in the result region like any other outcome (the plain post keeps its status).
    if (isHtmx(c)) return renderer.fragment(c, 'partials/agents/command-result', { outcome });
    return page(c, id, { outcome, values }, outcome.kind === 'refused' ? outcome.status : 200);
  });

  for (const [path, paused] of [['pause', true], ['resume', false]] as const) {
    app.post(`/agents/:id/${path}`, authorize('OPERATOR'), valid('param', idParam), async (c) => {
      const { id } = c.req.valid('param');
      const ws = currentWorkspace(c);
      const { reason } = pauseForm.parse({ reason: (paused && str(await readForm(c), 'reason')) || undefined });
      const agent = await flashing(c, () => setAgentPaused(deps.sql, id, paused, actorOf(me(c)), ws, reason));
      if (!isHtmx(c)) return redirect(c, `/agents/${id}`);
      flash(c, 'ok', paused ? `Paused ${agent.name}: it is told to hold until resumed.` : `Resumed ${agent.name}.`);
      return overviewOf(c, agent, ws);
    });
  }

  app.post('/agents/:id/token', authorize('ADMIN'), valid('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    const ws = currentWorkspace(c);
    const instanceKey = await agentSigningKey(deps.sql, deps.config.MC_AGENT_SIGNING_KEY);
    const credentials = await flashing(c, () => rotateAgentToken(deps.sql, id, actorOf(me(c)), instanceKey, ws));
    // The new token is in this answer only: nothing may keep it.
    c.header('Cache-Control', 'no-store');
    if (!isHtmx(c)) return page(c, id, { credentials });
    flash(c, 'ok', 'New token and signing secret made; the old ones stopped working. Copy them now: they are not shown again.');
    return renderer.fragment(c, 'partials/agents/admin-actions', { agent: await getAgent(deps.sql, id, ws), credentials });
  });

  app.post('/agents/:id/delete', authorize('ADMIN'), valid('param', idParam), async (c) => {
    await flashing(c, () => deleteAgent(deps.sql, c.req.valid('param').id, actorOf(me(c)), currentWorkspace(c)));
    return redirect(c, '/agents');
  });

  app.route('/', agentConfigPages(deps, renderer, (c, id, editor, status) => page(c, id, { editor }, status)));
  return app;
}

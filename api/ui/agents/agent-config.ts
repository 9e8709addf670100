// An agent's configuration from its page (admins): assign one of its kind's
// configurations, write a new one in YAML (created and assigned in one go), or
// save a new version of the assigned one. The YAML is checked against the
// kind's config schema by core/agents/configurations.ts, whose message names
// the line and column; the form keeps what was typed. Every agent the
// configuration is assigned to is sent the new version.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { actorOf } from '../../../core/access/users';
import { getAgent } from '../../../core/agents/agents';
import { addConfigurationVersion, assignConfiguration, createConfiguration, getConfiguration } from '../../../core/agents/configurations';
import { configurationCreateSchema, configurationVersionSchema } from '../../../core/agents/schemas';
import { ConflictError } from '../../../lib/errors';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { readForm, redirect, str } from '../common';
import { flash, flashing, formProblem, isHtmx, raw } from '../form-problem';
import { loadConfiguration } from './agent-data';
import { labelled, parsed } from './agent-forms';

const idParam = z.object({ id: z.uuid('Not a valid agent id.') });
const assignForm = z.object({ configurationId: z.union([z.literal(''), z.uuid('Choose one of the configurations listed.')]) });

/** What the editor's two forms hold, and what went wrong with the last post. */
export interface EditorState {
  name: string;
  yaml: string;
  /** The new version's YAML: the current version's until something else is typed. */
  versionYaml?: string;
  note: string;
  error?: { form: 'create' | 'version'; message: string };
}
export const EDITOR_DEFAULTS: EditorState = { name: '', yaml: '', note: '' };

export function agentConfigPages(deps: AppDeps, renderer: Renderer, page: (c: Context<AppEnv>, id: string, editor: EditorState, status: number) => Promise<Response>) {
  const app = new Hono<AppEnv>();
  const me = (c: Context<AppEnv>) => c.get('user')!;

  /** The editor after a post: htmx gets it in place (200, so that it is swapped), a plain post the whole page with the status. */
  const editorAnswer = async (c: Context<AppEnv>, id: string, editor: EditorState, status: number) => {
    if (!isHtmx(c)) return page(c, id, editor, status);
    const configuration = await loadConfiguration(deps.sql, await getAgent(deps.sql, id, currentWorkspace(c)), currentWorkspace(c));
    return renderer.fragment(c, 'partials/agents/configuration-editor', { configuration, editor });
  };

  app.post('/agents/:id/configuration', authorize('ADMIN'), valid('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    const ws = currentWorkspace(c);
    const chosen = assignForm.parse({ configurationId: str(await readForm(c), 'configurationId') }).configurationId || null;
    await flashing(c, () => assignConfiguration(deps.sql, id, chosen, actorOf(me(c)), ws));
    if (!isHtmx(c)) return redirect(c, `/agents/${id}#configuration`);
    const configuration = await loadConfiguration(deps.sql, await getAgent(deps.sql, id, ws), ws);
    flash(c, 'ok', chosen ? `Assigned “${configuration.agent.configurationName}” v${configuration.agent.configVersion}; the agent is sent it now.` : 'The agent has no configuration now.');
    return renderer.fragment(c, 'partials/agents/configuration', { configuration });
  });

  app.post('/agents/:id/configurations', authorize('ADMIN'), valid('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    const ws = currentWorkspace(c);
    const form = await readForm(c);
    const editor: EditorState = { ...EDITOR_DEFAULTS, name: str(form, 'name'), yaml: raw(form, 'yaml') };
    try {
      const agent = await getAgent(deps.sql, id, ws);
      const input = parsed(configurationCreateSchema, { definitionId: agent.definitionId, name: editor.name, yaml: editor.yaml }, labelled({ name: 'Configuration name', yaml: 'YAML' }));
      const made = await createConfiguration(deps.sql, input, actorOf(me(c)), ws);
      await assignConfiguration(deps.sql, id, made.id, actorOf(me(c)), ws);
      flash(c, 'ok', `Made “${made.name}” v1 and assigned it to ${agent.name}; the agent is sent it now.`);
      return await editorAnswer(c, id, EDITOR_DEFAULTS, 201);
    } catch (err) {
      const p = formProblem(err);
      if (!p || p.status === 404) throw err;
      return editorAnswer(c, id, { ...editor, error: { form: 'create', message: p.message } }, p.status);
    }
  });

  app.post('/agents/:id/configuration/versions', authorize('ADMIN'), valid('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    const ws = currentWorkspace(c);
    const form = await readForm(c);
    const editor: EditorState = { ...EDITOR_DEFAULTS, versionYaml: raw(form, 'yaml'), note: str(form, 'note') };
    try {
      const agent = await getAgent(deps.sql, id, ws);
      if (!agent.configurationId) throw new ConflictError('This agent has no configuration to add a version to: make one or assign one first.');
      const input = parsed(configurationVersionSchema, { yaml: editor.versionYaml, note: editor.note || undefined }, labelled({ yaml: 'New version (YAML)', note: 'Note' }));
      const before = await getConfiguration(deps.sql, agent.configurationId, ws);
      const saved = await addConfigurationVersion(deps.sql, before.id, input, actorOf(me(c)), ws);
      flash(c, 'ok', `Saved “${saved.name}” v${saved.currentVersion}; every agent it is assigned to is sent it now.`);
      return await editorAnswer(c, id, EDITOR_DEFAULTS, 201);
    } catch (err) {
      const p = formProblem(err);
      if (!p || p.status === 404) throw err;
      return editorAnswer(c, id, { ...editor, error: { form: 'version', message: p.message } }, p.status);
    }
  });

  return app;
}

// Workspaces in the UI: /workspaces lists the user's workspaces, switches the session between
// them and makes new ones (for anyone signed in, a member of the current one or not any more);
// the settings page's Workspace section renames and archives the current one, keeps seed 003's
// settings, and adds and removes members, for its admins.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { switchSessionWorkspace, loginWorkspace } from '../../../core/access/sessions';
import { actorOf } from '../../../core/access/users';
import {
  addMember, archiveWorkspace, createWorkspace, listMyWorkspaces, memberWorkspaceOf, removeMember, renameWorkspace, updateWorkspaceSettings,
} from '../../../core/access/workspaces';
import { ValidationError } from '../../../lib/errors';
import { ROLES } from '../../../lib/names';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { openRunsOf } from '../../routes/access/workspaces';
import { valid } from '../../validate';
import { readForm, redirect, str } from '../common';
import { flash, flashing, formProblem, isHtmx, raw } from '../form-problem';

const idParam = z.object({ id: z.uuid('Not a valid id.') });
const workspaceId = z.uuid('Choose one of your workspaces.');
const role = z.enum(ROLES, { message: `Choose a role: ${ROLES.slice(0, -1).join(', ')} or ${ROLES.at(-1)}.` });
const optionalNumber = (label: string) => (v: string) => {
  if (!v.trim()) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ValidationError(`${label} must be a number.`);
  return n;
};

export function workspacePages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();
  const me = (c: Context<AppEnv>) => c.get('user')!;

  const page = async (c: Context<AppEnv>, extra: { error?: string; name?: string } = {}, status = 200) =>
    renderer.respond(c, { page: 'pages/access/workspaces', partial: 'pages/access/workspaces' }, {
      title: 'Workspaces', mine: await listMyWorkspaces(deps.sql, me(c).id), current: c.get('workspace')?.id ?? null, name: '', ...extra,
    }, status);

  app.get('/workspaces', authorize('signed-in'), (c) => page(c));

  app.post('/workspaces', authorize('signed-in'), async (c) => {
    const name = str(await readForm(c), 'name');
    try {
      const user = me(c);
      const ws = await createWorkspace(deps.sql, name, { ...actorOf(user), id: user.id });
      await switchSessionWorkspace(deps.sql, c.get('session')!.id, ws);
      return redirect(c, '/settings');
    } catch (err) {
      const p = formProblem(err);
      if (!p) throw err;
      return page(c, { error: p.message, name }, p.status);
    }
  });

  app.post('/workspaces/switch', authorize('signed-in'), async (c) => {
    const id = workspaceId.parse(str(await readForm(c), 'workspaceId'));
    const ws = await memberWorkspaceOf(deps.sql, me(c).id, id);
    await switchSessionWorkspace(deps.sql, c.get('session')!.id, ws);
    return redirect(c, '/');
  });

  // ---- the current workspace, on the settings page (admins) ----

  // Back to the settings page, read anew. htmx follows a redirect to the page it is on plus a #section by
  // scrolling, without loading it again: its forms go to the page itself; a plain post lands on the section.
  const back = (c: Context<AppEnv>, section: 'workspace' | 'users', message: string) => {
    flash(c, 'ok', message);
    return redirect(c, isHtmx(c) ? '/settings' : `/settings#${section}`);
  };

  app.post('/settings/workspace', authorize('ADMIN'), async (c) => {
    const name = str(await readForm(c), 'name');
    const ws = await flashing(c, () => renameWorkspace(deps.sql, currentWorkspace(c), name, actorOf(me(c))));
    return back(c, 'workspace', `The workspace is now called “${ws.name}”.`);
  });

  app.post('/settings/workspace/archive', authorize('ADMIN'), async (c) => {
    const ws = currentWorkspace(c);
    const archived = await flashing(c, () => archiveWorkspace(deps.sql, ws, actorOf(me(c)), openRunsOf(deps, ws)));
    // The session goes on in another workspace of the user's, when they have one.
    const next = await loginWorkspace(deps.sql, me(c).id);
    if (next) await switchSessionWorkspace(deps.sql, c.get('session')!.id, next);
    flash(c, 'ok', `Archived “${archived.name}”.`);
    return redirect(c, next ? '/' : '/workspaces');
  });

  app.post('/settings/workspace/settings', authorize('ADMIN'), async (c) => {
    const form = await readForm(c);
    const provider = str(form, 'provider').trim();
    const model = str(form, 'model').trim();
    await flashing(c, async () => {
      const llm = provider || model
        ? { provider, model, temperature: optionalNumber('Temperature')(str(form, 'temperature')), max_tokens: optionalNumber('Max tokens')(str(form, 'maxTokens')) }
        : null;
      const clean = llm && Object.fromEntries(Object.entries(llm).filter(([, v]) => v !== undefined));
      return updateWorkspaceSettings(deps.sql, currentWorkspace(c), { default_llm_config: clean, timezone: raw(form, 'timezone') || 'UTC' }, actorOf(me(c)));
    });
    return back(c, 'workspace', 'Saved the workspace settings.');
  });

  app.post('/settings/members', authorize('ADMIN'), async (c) => {
    const form = await readForm(c);
    const user = await flashing(c, () => addMember(deps.sql, currentWorkspace(c), { username: str(form, 'username'), role: role.parse(str(form, 'role')) }, actorOf(me(c))));
    return back(c, 'users', `Added ${user.username} (${user.role}).`);
  });

  app.post('/settings/members/:id/remove', authorize('ADMIN'), valid('param', idParam), async (c) => {
    await flashing(c, () => removeMember(deps.sql, currentWorkspace(c), c.req.valid('param').id, actorOf(me(c))));
    return back(c, 'users', 'Removed them from this workspace.');
  });

  return app;
}

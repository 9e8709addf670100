// Workspaces over the API: the caller's workspaces and a new one (any member may make one and
// becomes its owner and admin); the request's own workspace (`/api/workspace`: the token's, or
// the session's) renamed and archived by its admins, its members added and removed, and seed
// 003's JSON settings read by its members and changed by its admins. A token never leaves the
// workspace it was made in: to act in a new workspace, make a token there.
import { Hono } from 'hono';
import { z } from 'zod';
import { actorOf } from '../../../core/access/users';
import {
  addMember, archiveWorkspace, createWorkspace, getWorkspace, getWorkspaceSettings, listMyWorkspaces, removeMember,
  renameWorkspace, updateWorkspaceSettings, workspaceNameSchema,
} from '../../../core/access/workspaces';
import { countRunsByExecutionStatus } from '../../../core/runs/visibility';
import { ROLES } from '../../../lib/names';
import { text } from '../../../lib/text';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

const nameBody = z.object({ name: workspaceNameSchema }).strict();
const memberBody = z.object({ username: text().trim().min(1, 'Name the account to add.').max(64), role: z.enum(ROLES) }).strict();
const userParam = z.object({ id: z.uuid('Not a valid id.') });
const settingsBody = z.record(z.string(), z.unknown());

/** How many of the workspace's runs are still open in Temporal (an archive waits for none). */
export const openRunsOf = (deps: AppDeps, ws: { id: string; isDefault: boolean }) => async () =>
  (await countRunsByExecutionStatus(deps.temporal, { workspace: ws })).Running ?? 0;

export function workspaceRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/workspaces', authorize('VIEWER'), async (c) =>
    c.json({ workspaces: await listMyWorkspaces(deps.sql, c.get('user')!.id), current: currentWorkspace(c).id }));

  app.post('/workspaces', authorize('VIEWER'), valid('json', nameBody), async (c) => {
    const me = c.get('user')!;
    const workspace = await createWorkspace(deps.sql, c.req.valid('json').name, { ...actorOf(me), id: me.id });
    return c.json({ workspace, note: 'You are its owner and admin. Switch to it in the UI, or make an API token there to act in it.' }, 201);
  });

  app.get('/workspace', authorize('VIEWER'), async (c) => {
    const ws = currentWorkspace(c);
    const [workspace, settings] = await Promise.all([getWorkspace(deps.sql, ws), getWorkspaceSettings(deps.sql, ws)]);
    return c.json({ workspace: { ...workspace, role: ws.role }, settings });
  });

  app.patch('/workspace', authorize('ADMIN'), valid('json', nameBody), async (c) =>
    c.json({ workspace: await renameWorkspace(deps.sql, currentWorkspace(c), c.req.valid('json').name, actorOf(c.get('user')!)) }));

  app.post('/workspace/archive', authorize('ADMIN'), async (c) => {
    const ws = currentWorkspace(c);
    return c.json({ workspace: await archiveWorkspace(deps.sql, ws, actorOf(c.get('user')!), openRunsOf(deps, ws)) });
  });

  app.get('/workspace/settings', authorize('VIEWER'), async (c) => c.json({ settings: await getWorkspaceSettings(deps.sql, currentWorkspace(c)) }));

  app.patch('/workspace/settings', authorize('ADMIN'), valid('json', settingsBody), async (c) =>
    c.json({ settings: await updateWorkspaceSettings(deps.sql, currentWorkspace(c), c.req.valid('json'), actorOf(c.get('user')!)) }));

  app.post('/workspace/members', authorize('ADMIN'), valid('json', memberBody), async (c) =>
    c.json({ user: await addMember(deps.sql, currentWorkspace(c), c.req.valid('json'), actorOf(c.get('user')!)) }, 201));

  app.delete('/workspace/members/:id', authorize('ADMIN'), valid('param', userParam), async (c) => {
    await removeMember(deps.sql, currentWorkspace(c), c.req.valid('param').id, actorOf(c.get('user')!));
    return c.json({ removed: true });
  });

  return app;
}

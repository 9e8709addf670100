// Settings (/settings): the workspace's safety switches (dry-run, the five channels and
// global pause), changed by admins only and read by everyone; users and API tokens for
// admins (settings-access.ts). A safety change reloads the page, so the
// layout's live-sending banner shows the new state.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { getSafety, setChannel, setDryRun } from '../../../core/safety/settings';
import { disableGlobalPause, enableGlobalPause } from '../../../core/safety/global-pause';
import { reasonText } from '../../../lib/text';
import { CHANNELS } from '../../../core/patterns/schemas';
import { listApiTokens } from '../../../core/access/tokens';
import { actorOf, listUsers } from '../../../core/access/users';
import { getWorkspace, getWorkspaceSettings } from '../../../core/access/workspaces';
import { ROLES } from '../../../lib/names';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { hasRole, authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { readForm, redirect, safetyBanner, str } from '../common';
import { flashing } from '../form-problem';
import { accessPages } from '../access/settings-access';

export const PEOPLE_PER_PAGE = 50;

const offset = z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).max(1_000_000).default(0));
const pageQuery = z.object({ uoffset: offset, toffset: offset });
const pauseReason = reasonText().min(1, 'Say why everything is paused.');
const onOff = z.enum(['true', 'false'], { message: 'Choose on or off.' }).transform((v) => v === 'true');

export interface SettingsExtra {
  userError?: string;
  userValues?: { username: string; role: string; displayName: string };
  tokenError?: string;
  tokenValues?: { name: string; userId: string; expiresInDays: string };
  createdToken?: { token: string; name: string; username: string; expiresAt: Date | null };
}

export function settingsPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  /** The data of the whole page; users and tokens only for admins. */
  const load = async (c: Context<AppEnv>, extra: SettingsExtra = {}) => {
    const q = pageQuery.parse({ uoffset: c.req.query('uoffset'), toffset: c.req.query('toffset') });
    const ws = currentWorkspace(c);
    const [settings, workspaceInfo, workspaceSettings, safety] = await Promise.all([
      getSafety(deps.sql, ws.id), getWorkspace(deps.sql, ws), getWorkspaceSettings(deps.sql, ws), safetyBanner(deps.sql, ws.id),
    ]);
    const admin = hasRole(c.get('user'), 'ADMIN');
    const [users, tokens] = admin ? await Promise.all([listUsers(deps.sql, ws), listApiTokens(deps.sql, {}, ws)]) : [[], []];
    return {
      title: 'Settings',
      settings,
      workspaceInfo,
      workspaceSettings,
      channels: CHANNELS,
      // Read fresh here (the layout's copy is cached for a second), so the banner matches the switches.
      safety,
      roles: ROLES,
      allUsers: users,
      users: users.slice(q.uoffset, q.uoffset + PEOPLE_PER_PAGE),
      userTotal: users.length,
      tokens: tokens.slice(q.toffset, q.toffset + PEOPLE_PER_PAGE),
      tokenTotal: tokens.length,
      uoffset: q.uoffset,
      toffset: q.toffset,
      perPage: PEOPLE_PER_PAGE,
      userValues: { username: '', role: 'VIEWER', displayName: '' },
      tokenValues: { name: '', userId: c.get('user')?.id ?? '', expiresInDays: '' },
      ...extra,
    };
  };

  const page = async (c: Context<AppEnv>, extra: SettingsExtra = {}, status = 200) =>
    renderer.respond(c, { page: 'pages/safety/settings', partial: 'partials/safety/settings-safety' }, await load(c, extra), status);

  app.get('/settings', authorize('VIEWER'), (c) => page(c));

  app.post('/settings/safety/dry-run', authorize('ADMIN'), async (c) => {
    const form = await readForm(c);
    await flashing(c, async () => setDryRun(deps.sql, onOff.parse(str(form, 'dryRun')), actorOf(c.get('user')!), currentWorkspace(c).id));
    return redirect(c, '/settings');
  });

  app.post('/settings/safety/channels/:channel', authorize('ADMIN'), valid('param', z.object({ channel: z.enum(CHANNELS) })), async (c) => {
    const form = await readForm(c);
    await flashing(c, async () => setChannel(deps.sql, c.req.valid('param').channel, onOff.parse(str(form, 'enabled')), actorOf(c.get('user')!), currentWorkspace(c).id));
    return redirect(c, '/settings');
  });

  app.post('/settings/safety/global-pause', authorize('ADMIN'), async (c) => {
    const form = await readForm(c);
    await flashing(c, async () => enableGlobalPause(deps.sql, deps.temporal, currentWorkspace(c), actorOf(c.get('user')!), pauseReason.parse(str(form, 'reason'))));
    return redirect(c, '/settings');
  });

  app.post('/settings/safety/global-resume', authorize('ADMIN'), async (c) => {
    await flashing(c, async () => disableGlobalPause(deps.sql, deps.temporal, currentWorkspace(c), actorOf(c.get('user')!)));
    return redirect(c, '/settings');
  });

  app.route('/', accessPages(deps, renderer, { load, page }));
  return app;
}

export type SettingsPage = {
  load: (c: Context<AppEnv>, extra?: SettingsExtra) => Promise<Record<string, unknown>>;
  page: (c: Context<AppEnv>, extra?: SettingsExtra, status?: number) => Promise<Response>;
};

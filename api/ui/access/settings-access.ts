// Users and API tokens of the current workspace on the settings page, for its
// admins only (the server checks; others get 403): create users (members of
// this workspace), change their role here, disable and enable; create tokens
// (acting in this workspace, shown once, in the response) and revoke them.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { createApiToken, expiryAfterDays, revokeApiToken } from '../../../core/access/tokens';
import { actorOf, createUser, updateUser } from '../../../core/access/users';
import { ROLES } from '../../../lib/names';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { newTokenSchema, newUserSchema } from '../../routes/access/access';
import { valid } from '../../validate';
import { readForm, redirect, str } from '../common';
import { flash, flashing, formProblem, intField, isHtmx } from '../form-problem';
import type { SettingsPage } from '../safety/settings';

const idParam = z.object({ id: z.uuid('Not a valid id.') });
const roleOf = (value: string) =>
  z.enum(ROLES, { message: `Choose a role: ${ROLES.slice(0, -1).join(', ')} or ${ROLES.at(-1)}.` }).parse(value);

export function accessPages(deps: AppDeps, renderer: Renderer, settings: SettingsPage) {
  const app = new Hono<AppEnv>();
  const actor = (c: Context<AppEnv>) => actorOf(c.get('user')!);

  /** The users section again (htmx) or the whole page (a plain post). */
  const users = async (c: Context<AppEnv>, message: string) => {
    if (!isHtmx(c)) return redirect(c, '/settings#users');
    flash(c, 'ok', message);
    return renderer.fragment(c, 'partials/access/settings-users', await settings.load(c));
  };

  app.post('/settings/users', authorize('ADMIN'), async (c) => {
    const form = await readForm(c);
    const userValues = { username: str(form, 'username'), role: str(form, 'role'), displayName: str(form, 'displayName') };
    try {
      const input = newUserSchema.parse({ ...userValues, displayName: userValues.displayName || undefined, password: str(form, 'password') });
      const user = await flashing(c, () => createUser(deps.sql, input, actor(c), currentWorkspace(c)));
      return users(c, `Created ${user.username} (${user.role}).`);
    } catch (err) {
      const p = formProblem(err);
      if (!p) throw err;
      if (isHtmx(c)) return flashing(c, () => Promise.reject(err));
      return settings.page(c, { userError: p.message, userValues }, p.status);
    }
  });

  app.post('/settings/users/:id/role', authorize('ADMIN'), valid('param', idParam), async (c) => {
    const form = await readForm(c);
    const user = await flashing(c, () => updateUser(deps.sql, c.req.valid('param').id, { role: roleOf(str(form, 'role')) }, actor(c), currentWorkspace(c)));
    return users(c, `${user.username} is now ${user.role}.`);
  });

  app.post('/settings/users/:id/disabled', authorize('ADMIN'), valid('param', idParam), async (c) => {
    const disabled = str(await readForm(c), 'disabled') === 'true';
    const user = await flashing(c, () => updateUser(deps.sql, c.req.valid('param').id, { disabled }, actor(c), currentWorkspace(c)));
    return users(c, `${user.username} is ${user.disabled ? 'disabled and signed out' : 'enabled'}.`);
  });

  // The new token is in this response only: never stored in plaintext, never put in a redirect.
  app.post('/settings/tokens', authorize('ADMIN'), async (c) => {
    const form = await readForm(c);
    const tokenValues = { name: str(form, 'name'), userId: str(form, 'userId'), expiresInDays: str(form, 'expiresInDays') };
    try {
      const body = newTokenSchema.parse({
        name: tokenValues.name,
        userId: tokenValues.userId || undefined,
        expiresInDays: intField(tokenValues.expiresInDays, 'Expiry (days)'),
      });
      const me = c.get('user')!;
      const { token, apiToken } = await flashing(c, () => createApiToken(deps.sql, {
        userId: body.userId ?? me.id,
        name: body.name,
        expiresAt: expiryAfterDays(body.expiresInDays),
      }, actor(c), currentWorkspace(c)));
      c.header('Cache-Control', 'no-store');
      const createdToken = { token, name: apiToken.name, username: apiToken.username, expiresAt: apiToken.expiresAt };
      if (isHtmx(c)) {
        flash(c, 'ok', `Created the token ${apiToken.name}; copy it now.`);
        return renderer.fragment(c, 'partials/access/settings-tokens', await settings.load(c, { createdToken }));
      }
      return settings.page(c, { createdToken }, 201);
    } catch (err) {
      const p = formProblem(err);
      if (!p) throw err;
      if (isHtmx(c)) return flashing(c, () => Promise.reject(err));
      return settings.page(c, { tokenError: p.message, tokenValues }, p.status);
    }
  });

  app.post('/settings/tokens/:id/revoke', authorize('ADMIN'), valid('param', idParam), async (c) => {
    await flashing(c, () => revokeApiToken(deps.sql, c.req.valid('param').id, actor(c), currentWorkspace(c)));
    if (!isHtmx(c)) return redirect(c, '/settings#tokens');
    flash(c, 'ok', 'Token revoked.');
    return renderer.fragment(c, 'partials/access/settings-tokens', await settings.load(c));
  });

  return app;
}

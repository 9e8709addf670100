// The inbox (/inbox): the signed-in member's notifications in the session's
// workspace, newest first, unread marked; "Mark read" one by one or all; their
// preferences (muted kinds, kinds by email and the address). The navigation's
// count (/live/nav/inbox) refreshes on each notification.delivered event.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import {
  getPreferences, KIND_WORDS, listNotifications, markAllRead, markRead, NOTIFICATION_KINDS, setPreferences, unreadCount, type NotificationKind, type Preferences,
} from '../../../core/collab/notifications';
import { ValidationError } from '../../../lib/errors';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { preferencesSchema } from '../../routes/collab/notifications';
import { readForm, redirect, str, type FormValue } from '../common';
import { flash, formProblem } from '../form-problem';
import { cursor, idParam } from '../outreach/campaign-pages';

const PER_PAGE = 50;
const list = (form: Record<string, FormValue>, key: string) => {
  const v = form[key];
  return (Array.isArray(v) ? v : v ? [v] : []) as NotificationKind[];
};

export function inboxPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();
  const me = (c: Context<AppEnv>) => ({ userId: c.get('user')!.id, ws: currentWorkspace(c) });

  /** The inbox; after a refused save, the preferences form shows what was sent, with why it was refused. */
  const page = async (c: Context<AppEnv>, before: string | undefined, refused?: { error: string; sent: Preferences; status: number }) => {
    const { userId, ws } = me(c);
    const [rows, unread, saved] = await Promise.all([
      listNotifications(deps.sql, userId, ws, { before, limit: PER_PAGE + 1 }), unreadCount(deps.sql, userId, ws), getPreferences(deps.sql, userId, ws),
    ]);
    const preferences = refused?.sent ?? saved;
    const prefsError = refused?.error ?? null;
    const status = refused?.status ?? 200;
    const items = rows.slice(0, PER_PAGE);
    return renderer.whole(c, 'pages/collab/inbox', {
      title: 'Inbox', items, unread, preferences, prefsError, kinds: NOTIFICATION_KINDS, kindWords: KIND_WORDS,
      before: before ?? null, older: rows.length > PER_PAGE ? items.at(-1)!.id : null,
    }, status);
  };

  app.get('/inbox', authorize('VIEWER'), valid('query', z.object({ before: cursor })), (c) => page(c, c.req.valid('query').before));
  app.post('/inbox/read-all', authorize('VIEWER'), async (c) => {
    const { userId, ws } = me(c);
    const n = await markAllRead(deps.sql, userId, ws);
    flash(c, 'ok', `${n} marked read.`);
    return redirect(c, '/inbox');
  });
  app.post('/inbox/preferences', authorize('VIEWER'), async (c) => {
    const form = await readForm(c);
    const { userId, ws } = me(c);
    const sent: Preferences = { muted: list(form, 'muted'), emailKinds: list(form, 'emailKinds'), email: str(form, 'email') || null };
    try {
      const r = preferencesSchema.safeParse(sent);
      if (!r.success) throw new ValidationError(r.error.issues[0]!.message);
      await setPreferences(deps.sql, userId, ws, r.data);
      return redirect(c, '/inbox');
    } catch (err) {
      const p = formProblem(err);
      if (!p) throw err;
      return page(c, undefined, { error: p.message, sent, status: p.status });
    }
  });
  // Opening a notification marks it read and goes where it points.
  app.post('/inbox/:id/read', authorize('VIEWER'), valid('param', idParam('notification')), async (c) => {
    const { userId, ws } = me(c);
    const n = await markRead(deps.sql, userId, ws, c.req.valid('param').id);
    const form = await readForm(c);
    return redirect(c, str(form, 'go') === 'open' && n.href?.startsWith('/') && !n.href.startsWith('//') ? n.href : '/inbox');
  });
  app.get('/live/nav/inbox', authorize('VIEWER'), async (c) => {
    const { userId, ws } = me(c);
    return renderer.fragment(c, 'partials/shared/nav-inbox', { unread: await unreadCount(deps.sql, userId, ws) });
  });
  return app;
}

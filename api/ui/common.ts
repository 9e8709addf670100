// Shared by the UI route modules: layout globals (the live-sending banner),
// form parsing, and answers for htmx and plain requests alike.
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { describeLive, getSafety, isLive } from '../../core/safety/settings';
import { getGlobalPause } from '../../core/safety/global-pause-state';
import type { TxSql } from '../../db/sql';
import { listMyWorkspaces } from '../../core/access/workspaces';
import { eventStreamOf } from '../../core/events/stream';
import { AppError, ValidationError } from '../../lib/errors';
import { jsonValue } from '../../core/patterns/schemas';
import type { AppDeps, AppEnv } from '../context';
import { waitingRuns } from './system/waiting';
import { unreadCount } from '../../core/collab/notifications';
import { UNREADABLE_FORM } from '../middleware/read-input';
import type { LayoutGlobals } from '../render';

/** What the layout's safety banner shows: live sending, and the workspace's global pause while it is on. */
export async function safetyBanner(sql: TxSql, workspaceId: string) {
  const [s, globalPause] = await Promise.all([getSafety(sql, workspaceId), getGlobalPause(sql, workspaceId)]);
  return { live: isLive(s), summary: describeLive(s), dryRun: s.dryRun, globalPause };
}

/**
 * Every page shows a banner while anything could reach the outside world in the request's workspace,
 * or while its global pause is on (read at most once a second per workspace, and again at once after a
 * safety change there) and, in the navigation, how many runs wait for a decision.
 */
export function layoutGlobals(deps: Pick<AppDeps, 'sql' | 'temporal' | 'logger'>): LayoutGlobals {
  const { sql, logger } = deps;
  const cached = new Map<string, { at: number; value: Record<string, unknown> }>();
  eventStreamOf(sql, logger).onEvent((e) => {
    if (!e.type.startsWith('safety.')) return;
    // A safety change is its workspace's own: only that workspace's banner is read again.
    if (e.workspaceId) cached.delete(e.workspaceId);
    else cached.clear();
  });
  return async (c) => {
    const user = c.get('user');
    if (!user) return {};
    // The header's workspace menu: the user's workspaces (sessions switch between them; a token stays in its own).
    const workspaces = c.get('session') ? listMyWorkspaces(sql, user.id) : Promise.resolve([]);
    const ws = c.get('workspace');
    // Signed in but no member of the session's workspace: that workspace's settings and runs are not theirs to see.
    if (!ws) return { workspaces: await workspaces };
    const waiting = waitingRuns(deps, ws);
    const unread = unreadCount(sql, user.id, ws);
    let entry = cached.get(ws.id);
    if (!entry || Date.now() - entry.at >= 1000) {
      entry = { at: Date.now(), value: { safety: await safetyBanner(sql, ws.id) } };
      cached.set(ws.id, entry);
    }
    return { ...entry.value, waiting: await waiting, unread: await unread, workspaces: await workspaces };
  };
}

export type FormValue = string | string[];

/**
 * The submitted form as plain strings (files are refused). The edge
 * (api/middleware/read-input.ts) has parsed it and held every value to the
 * text rule already; this reads that cached parse.
 */
export async function readForm(c: Context<AppEnv>): Promise<Record<string, FormValue>> {
  let body: Record<string, string | File | (string | File)[]>;
  try {
    body = await c.req.parseBody({ all: true });
  } catch {
    throw new ValidationError(UNREADABLE_FORM);
  }
  const out: Record<string, FormValue> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === '_csrf') continue;
    if (Array.isArray(v)) out[k] = v.map((x) => (typeof x === 'string' ? x : ''));
    else if (typeof v === 'string') out[k] = v;
    else throw new ValidationError('File uploads are not accepted here.');
  }
  return out;
}

export function str(form: Record<string, FormValue>, key: string): string {
  const v = form[key];
  return (Array.isArray(v) ? v[v.length - 1] : v)?.trim() ?? '';
}

export function checked(form: Record<string, FormValue>, key: string): boolean {
  const v = str(form, key);
  return v === 'on' || v === 'true' || v === '1';
}

/** Rows submitted as name="prefix[<key>][field]", in the order they appear. */
export function rows(form: Record<string, FormValue>, prefix: string): Record<string, string>[] {
  const byKey = new Map<string, Record<string, string>>();
  const re = new RegExp(`^${prefix}\\[([\\w-]{1,40})\\]\\[(\\w{1,40})\\]$`);
  for (const [k, v] of Object.entries(form)) {
    const m = re.exec(k);
    if (!m) continue;
    const row = byKey.get(m[1]!) ?? {};
    row[m[2]!] = (Array.isArray(v) ? v[v.length - 1] : v) ?? '';
    byKey.set(m[1]!, row);
  }
  return [...byKey.entries()].map(([key, row]) => ({ ...row, _key: key }));
}

/** Parses a JSON field and holds it to the rules of any JSON value (depth, size, text); the error names the field. */
export function jsonField(text: string, label: string): unknown {
  if (!text.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`${label}: not valid JSON (${(err as Error).message}).`, [{ path: label, message: 'not valid JSON' }]);
  }
  const checked = jsonValue.safeParse(value);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const where = issue.path.length ? ` (at ${issue.path.map(String).join('.')})` : '';
    throw new ValidationError(`${label}: ${issue.message}${where}.`, [{ path: label, message: issue.message }]);
  }
  return value;
}

/** After a change: htmx follows HX-Redirect; a plain form post gets a 303. */
export function redirect(c: Context<AppEnv>, to: string): Response {
  if (c.req.header('HX-Request')) {
    c.header('HX-Redirect', to);
    return c.body(null, 204);
  }
  return c.redirect(to, 303);
}

/** An error as the message a form shows next to itself. */
export function messageOf(err: unknown): string | null {
  return err instanceof AppError ? err.message : null;
}

/** A short fingerprint of what a live fragment shows, so polls can skip unchanged content. */
export function contentVersion(value: unknown): string {
  return createHash('sha1').update(JSON.stringify(value) ?? '').digest('base64url').slice(0, 16);
}

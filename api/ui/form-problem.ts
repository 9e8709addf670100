// What the pattern, schedule and settings pages do with a client's mistake:
// a plain form post re-renders with the message (4xx); an htmx request also
// gets the message as an HX-Trigger flash, because htmx does not swap a 4xx.
import type { Context } from 'hono';
import { ValidationError } from '../../lib/errors';
import type { AppEnv } from '../context';
import { toProblem, triggerHeader } from '../middleware/errors';
import type { FormValue } from './common';

export interface FormProblem {
  status: 400 | 403 | 404 | 409 | 413 | 422 | 429;
  message: string;
}

/** The client's mistake behind `err`, or null when it is our own fault (the caller rethrows). */
export function formProblem(err: unknown): FormProblem | null {
  const p = toProblem(err);
  return p && p.status >= 400 && p.status < 500 ? { status: p.status as FormProblem['status'], message: p.message } : null;
}


export function flash(c: Context<AppEnv>, kind: 'ok' | 'error', text: string): void {
  if (c.req.header('HX-Request')) c.header('HX-Trigger', triggerHeader({ flash: { kind, text } }));
}

export const isHtmx = (c: Context<AppEnv>) => c.req.header('HX-Request') === 'true';

/** Runs a change; on failure an htmx request also gets the message as a flash, then the error handler answers. */
export async function flashing<T>(c: Context<AppEnv>, change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (err) {
    const p = toProblem(err);
    flash(c, 'error', p?.message ?? `Something went wrong on our side (request ${c.get('requestId')}).`);
    throw err;
  }
}

/** A field exactly as typed (not trimmed), with the browser's CRLF line ends made LF. */
export function raw(form: Record<string, FormValue>, key: string): string {
  const v = form[key];
  return ((Array.isArray(v) ? v[v.length - 1] : v) ?? '').replace(/\r\n?/g, '\n');
}

/** A whole number from a form field; empty gives `fallback`. */
export function intField(value: string, label: string, fallback?: number): number | undefined {
  if (!value.trim()) return fallback;
  if (!/^\s*-?\d{1,9}\s*$/.test(value)) throw new ValidationError(`${label} must be a whole number.`);
  return Number(value);
}

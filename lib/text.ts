// The one rule for text that comes from outside, whatever carries it (a JSON
// body, a form, a query string): no NUL character, which PostgreSQL cannot
// store in text or jsonb, and no unpaired UTF-16 surrogate, which is not
// Unicode text at all (jsonb refuses it; UTF-8 cannot encode it). Every string
// schema is built on `text()`, and the edge (api/middleware/read-input.ts)
// applies the same rule to every value before any route sees it.
import { z } from 'zod';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `s` cannot be accepted as text, or null when it can. */
export function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'contains a NUL character (U+0000), which text cannot hold; remove it';
  const m = LONE_SURROGATE.exec(s);
  if (m) {
    const code = m[0].charCodeAt(0).toString(16).toUpperCase();
    return `contains an unpaired surrogate (U+${code}), which is not valid Unicode text; send it as UTF-8 text`;
  }
  return null;
}

/** A string that obeys the rule; chain `.trim()`, `.max()` and the rest as on `z.string()`. */
export function text(params?: Parameters<typeof z.string>[0]) {
  return z.string(params).superRefine((s, ctx) => {
    const problem = textProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/** The free-text fields that travel with an action into the audit log and Temporal. */
export const reasonText = () => text().trim().max(500, 'A reason is at most 500 characters.');
export const noteText = () => text().trim().max(500, 'A note is at most 500 characters.');
export const notesText = () => text().trim().max(5000, 'Notes are at most 5000 characters.');

export interface JsonProblem {
  kind: 'text' | 'depth';
  /** Where in the value, as zod paths are (keys and indexes); empty for depth. */
  path: (string | number)[];
  message: string;
}

/**
 * The first place where a parsed JSON value breaks the text rule (in a string
 * or a key), or where it is nested deeper than `maxDepth` containers. Walks
 * with its own stack, so no depth can overflow the call stack.
 */
export function jsonProblem(value: unknown, maxDepth = Infinity): JsonProblem | null {
  const stack: [unknown, (string | number)[]][] = [[value, []]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) return { kind: 'text', path, message: problem };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (path.length >= maxDepth) return { kind: 'depth', path: [], message: `is nested more than ${maxDepth} levels deep` };
    const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, x] = entries[i]!;
      if (typeof k === 'string') {
        const problem = textProblem(k);
        if (problem) return { kind: 'text', path, message: `a key ${problem}` };
      }
      stack.push([x, [...path, k]]);
    }
  }
  return null;
}

// Every body and query is validated once, at the edge, with a zod schema; a
// failure becomes a ValidationError (400) with each problem's path.
import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import { z } from 'zod';
import { ValidationError } from '../lib/errors';
import { describeIssues, issueDetail } from './middleware/errors';

/** Marks each validator with what it checks, so that the API's OpenAPI document is read from the routes themselves (api/openapi.ts). */
export const VALIDATES = Symbol.for('mission-control.validates');
export type Validates = { target: keyof ValidationTargets; schema: z.ZodType };

export function valid<T extends z.ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) {
  const middleware = zValidator(target, schema, (result) => {
    if (!result.success) {
      const issues = result.error.issues;
      throw new ValidationError(describeIssues(issues), issues.map(issueDetail));
    }
  });
  return Object.assign(middleware, { [VALIDATES]: { target, schema } satisfies Validates });
}

/** `?limit=&offset=` with bounds, shared by every list. */
export const paging = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};

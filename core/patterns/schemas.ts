// Input schemas shared by the JSON API and the UI's forms: each input is
// validated once, at the edge, and the inferred types flow inward.
import { z } from 'zod';
import { jsonProblem, noteText, text } from '../../lib/text';

export const CATEGORIES = ['fbm_flow', 'messaging', 'analytics', 'automation', 'custom'] as const;
export type Category = (typeof CATEGORIES)[number];

export const FAILURE_ACTIONS = ['skip', 'retry', 'abort'] as const;
export type FailureAction = (typeof FAILURE_ACTIONS)[number];

export const SELECTION_POLICIES = ['default_first', 'random', 'success_weighted'] as const;
export type SelectionPolicy = (typeof SELECTION_POLICIES)[number];

export const CHANNELS = ['email', 'facebook', 'instagram', 'linkedin', 'webhook'] as const;
export type Channel = (typeof CHANNELS)[number];

export const MAX_TIMEOUT_MS = 10 * 60 * 1000;

const name = text().trim().min(1, 'Give it a name.').max(120);
const description = text().trim().max(2000);
const priority = z.number().int().min(-1000).max(1000);

export const containerInput = z
  .object({
    name,
    description: description.default(''),
    category: z.enum(CATEGORIES),
    isActive: z.boolean().default(true),
    isDefault: z.boolean().default(false),
    priority: priority.default(0),
  })
  .strict();
export type ContainerInput = z.infer<typeof containerInput>;

export const containerPatch = z
  .object({
    name: name.optional(),
    description: description.optional(),
    category: z.enum(CATEGORIES).optional(),
    isActive: z.boolean().optional(),
    isDefault: z.boolean().optional(),
    priority: priority.optional(),
  })
  .strict();
export type ContainerPatch = z.infer<typeof containerPatch>;

export const patternConfig = z
  .object({
    timeout: z.number().int().min(10, 'timeout is in milliseconds: at least 10').max(MAX_TIMEOUT_MS),
    retryCount: z.number().int().min(0).max(10),
    failureAction: z.enum(FAILURE_ACTIONS),
  })
  .strict();
export type PatternConfig = z.infer<typeof patternConfig>;
export const DEFAULT_PATTERN_CONFIG: PatternConfig = { timeout: 5000, retryCount: 2, failureAction: 'retry' };

export const code = text().min(1, 'Pattern code is empty.').max(64 * 1024, 'Pattern code is larger than 64 KiB.');

export const patternInput = z
  .object({
    containerId: z.uuid('containerId must be a container id.'),
    name,
    description: description.default(''),
    code,
    config: patternConfig.default(DEFAULT_PATTERN_CONFIG),
    isActive: z.boolean().default(true),
    isDefault: z.boolean().default(false),
    priority: priority.default(0),
    note: noteText().optional(),
  })
  .strict();
export type PatternInput = z.infer<typeof patternInput>;

export const patternPatch = z
  .object({
    name: name.optional(),
    description: description.optional(),
    code: code.optional(),
    config: patternConfig.partial().optional(),
    isActive: z.boolean().optional(),
    isDefault: z.boolean().optional(),
    priority: priority.optional(),
    note: noteText().optional(),
  })
  .strict();
export type PatternPatch = z.infer<typeof patternPatch>;

export const MAX_JSON_DEPTH = 64;
export const MAX_JSON_BYTES = 256 * 1024;

/**
 * Any JSON value that every later step can carry and store: nested at most
 * 64 levels, at most 256 KiB as JSON, and every string and key obeying the
 * text rule (lib/text.ts). Run inputs, task inputs and edited outputs reach
 * Temporal and then PostgreSQL; whatever either cannot hold is refused here.
 */
export const jsonValue = z.unknown().superRefine((v, ctx) => {
  const problem = jsonProblem(v, MAX_JSON_DEPTH);
  if (problem) {
    const message = problem.kind === 'depth' ? `must be JSON nested at most ${MAX_JSON_DEPTH} levels deep` : problem.message;
    ctx.addIssue({ code: 'custom', message, path: problem.path });
    return;
  }
  let serialised: string | undefined;
  try {
    serialised = JSON.stringify(v ?? null);
  } catch {
    // a cycle or a BigInt: not JSON
  }
  if (serialised === undefined) ctx.addIssue({ code: 'custom', message: 'must be JSON data' });
  else if (Buffer.byteLength(serialised) > MAX_JSON_BYTES) ctx.addIssue({ code: 'custom', message: `must be JSON data of at most ${MAX_JSON_BYTES / 1024} KiB` });
});

/** A pattern's version number: PostgreSQL keeps it in an integer column. */
export const versionNumber = z.coerce.number({ message: 'A version is a whole number.' }).int('A version is a whole number.').min(1, 'Versions start at 1.').max(2_147_483_647, 'No pattern has that many versions.');

export const injectInput = z
  .object({
    patternId: z.uuid().optional(),
    containerId: z.uuid().optional(),
    policy: z.enum(SELECTION_POLICIES).default('default_first'),
    input: jsonValue.default({}),
    timeoutMs: z.number().int().min(10).max(MAX_TIMEOUT_MS).optional(),
  })
  .strict()
  .refine((v) => !!v.patternId !== !!v.containerId, { message: 'Give exactly one of patternId or containerId.', path: ['patternId'] });
export type InjectInput = z.infer<typeof injectInput>;

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

const boolQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

export const containerListQuery = listQuery.extend({
  category: z.enum(CATEGORIES).optional(),
  active: boolQuery.optional(),
  q: text().trim().max(120).optional(),
});

export const patternListQuery = containerListQuery.extend({
  containerId: z.uuid().optional(),
});

// Input schemas shared by the JSON API and the UI's forms: each input is
// validated once, at the edge, and the inferred types flow inward.
import { z } from 'zod';

export const CATEGORIES = ['fbm_flow', 'messaging', 'analytics', 'automation', 'custom'] as const;
export type Category = (typeof CATEGORIES)[number];

export const FAILURE_ACTIONS = ['skip', 'retry', 'abort'] as const;
export type FailureAction = (typeof FAILURE_ACTIONS)[number];

export const SELECTION_POLICIES = ['default_first', 'random', 'success_weighted'] as const;
export type SelectionPolicy = (typeof SELECTION_POLICIES)[number];

export const CHANNELS = ['email', 'facebook', 'instagram', 'linkedin', 'webhook'] as const;
export type Channel = (typeof CHANNELS)[number];

export const MAX_TIMEOUT_MS = 10 * 60 * 1000;

const name = z.string().trim().min(1, 'Give it a name.').max(120);
const description = z.string().trim().max(2000);
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

export const code = z.string().min(1, 'Pattern code is empty.').max(64 * 1024, 'Pattern code is larger than 64 KiB.');

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
    note: z.string().trim().max(500).optional(),
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
    note: z.string().trim().max(500).optional(),
  })
  .strict();
export type PatternPatch = z.infer<typeof patternPatch>;

/** Any JSON value, bounded in size when serialised. */
export const jsonValue = z.unknown().refine((v) => {
  try {
    return JSON.stringify(v ?? null).length <= 256 * 1024;
  } catch {
    return false;
  }
}, 'must be JSON data of at most 256 KiB');

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
  q: z.string().trim().max(120).optional(),
});

export const patternListQuery = containerListQuery.extend({
  containerId: z.uuid().optional(),
});

// What the API and the forms accept for agents, their definitions, commands and
// the agent protocol: zod schemas, shared by every route that takes them.
import { z } from 'zod';
import { REPORTED_STATUSES } from '../../client/agent/protocol';
import { ROLES } from '../../lib/names';
import { noteText, text } from '../../lib/text';
import { checkSchema } from './json-schema';

const name = (what: string) => text().trim().min(1, `${what} needs a name.`).max(120, `A name is at most 120 characters.`);
const jsonSchema = (what: string) => z.record(z.string(), z.unknown()).transform((s) => checkSchema(what, s));
const capability = text().trim().regex(/^[a-z0-9][a-z0-9_.:-]{0,63}$/i, 'A capability is a word of letters, digits, _ . : or - (at most 64).');
const commandType = text().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'A command type is UPPER_SNAKE_CASE, e.g. COLLECT_DIAGNOSTICS (at most 64 characters).');
const metadata = z.record(z.string(), z.unknown()).refine((m) => JSON.stringify(m).length <= 16_384, 'Metadata is at most 16 KiB of JSON.');

export const DEFINITION_STATUSES = ['draft', 'active', 'deprecated'] as const;

export const commandSpecSchema = z.strictObject({
  type: commandType,
  description: text().trim().max(500).default(''),
  payloadSchema: jsonSchema('A command\'s payloadSchema').default({ type: 'object' }),
  role: z.enum(ROLES).default('OPERATOR'),
  timeoutMs: z.number().int().min(1000).max(86_400_000).default(30_000),
});
export type CommandSpec = z.infer<typeof commandSpecSchema>;

/** Seed 003's outputs_config and triggers_config. */
const outputSpec = z.strictObject({
  key: text().trim().min(1).max(100),
  type: z.enum(['json', 'string', 'md', 'url']),
  description: text().max(500).optional(),
  required: z.boolean().optional(),
});
const triggerSpec = z.strictObject({ type: z.enum(['schedule', 'webhook', 'event']), config: z.record(z.string(), z.unknown()).default({}) });

/** What makes one version of a definition; every change to these is a new version. */
export const definitionVersionSchema = z.strictObject({
  description: text().trim().max(2000).default(''),
  capabilities: z.array(capability).max(32).default([]),
  commands: z.array(commandSpecSchema).max(50).default([]).refine((c) => new Set(c.map((x) => x.type)).size === c.length, 'Each command type is declared once.'),
  inputsSchema: jsonSchema('inputsSchema').default({ type: 'object' }),
  outputsConfig: z.array(outputSpec).max(50).default([]),
  triggersConfig: z.array(triggerSpec).max(20).default([]),
  configSchema: jsonSchema('configSchema').default({ type: 'object' }),
  note: noteText().optional(),
});
export type DefinitionVersionInput = z.infer<typeof definitionVersionSchema>;

export const definitionCreateSchema = definitionVersionSchema.extend({
  name: name('A definition'),
  category: text().trim().min(1).max(50).default('custom'),
  status: z.enum(DEFINITION_STATUSES).default('draft'),
});
export type DefinitionCreateInput = z.infer<typeof definitionCreateSchema>;

export const definitionPatchSchema = z.strictObject({
  name: name('A definition').optional(),
  category: text().trim().min(1).max(50).optional(),
  status: z.enum(DEFINITION_STATUSES).optional(),
});

const heartbeatInterval = z.number().int().min(1000, 'Heartbeats come at most once a second (1000 ms).').max(300_000, 'Heartbeats come at least every 5 minutes (300000 ms).');

export const agentCreateSchema = z.strictObject({
  name: name('An agent'),
  definitionId: z.uuid('definitionId must be a definition id (a UUID).'),
  kind: z.enum(['http', 'worker']).default('http'),
  heartbeatIntervalMs: heartbeatInterval.default(10_000),
  capabilities: z.array(capability).max(32).optional(),
  metadata: metadata.default({}),
});
export type AgentCreateInput = z.infer<typeof agentCreateSchema>;

export const agentPatchSchema = z.strictObject({
  name: name('An agent').optional(),
  heartbeatIntervalMs: heartbeatInterval.optional(),
  capabilities: z.array(capability).max(32).optional(),
  metadata: metadata.optional(),
});

export const commandRequestSchema = z.strictObject({
  type: commandType,
  payload: z.unknown().default({}),
  timeoutMs: z.number().int().min(1000).max(86_400_000).optional(),
  /** Seconds the request waits for the agent's answer (0: answer 202 at once). */
  wait: z.number().int().min(0).max(60).default(10),
});

// The agent protocol's bodies (client/agent/protocol.ts).
export const helloSchema = z.strictObject({
  version: text().trim().max(64).optional(),
  capabilities: z.array(capability).max(32).optional(),
  metadata: metadata.optional(),
  heartbeatIntervalMs: heartbeatInterval.optional(),
  kind: z.enum(['http', 'worker']).optional(),
});

const usage = z.record(text().max(64), z.number().finite()).refine((u) => Object.keys(u).length <= 16, 'At most 16 resource usage values.');

export const heartbeatSchema = z.strictObject({
  sessionId: z.uuid('sessionId is the one hello answered.'),
  status: z.enum(REPORTED_STATUSES),
  currentTask: text().trim().max(200).nullable().optional(),
  resourceUsage: usage.optional(),
});

export const commandResultSchema = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), result: z.unknown().optional() }),
  z.strictObject({ ok: z.literal(false), error: z.strictObject({ code: text().max(64).optional(), message: text().max(2000) }) }),
]);

export const taskResultSchema = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), output: z.unknown() }),
  z.strictObject({ ok: z.literal(false), error: z.strictObject({ message: text().max(2000), retryable: z.boolean().optional() }) }),
]);

export const taskProgressSchema = z.strictObject({
  percent: z.number().min(0).max(100).optional(),
  message: text().max(500).optional(),
});

const metricName = text().regex(/^[a-z][a-z0-9_]{0,63}$/, 'A metric name is snake_case (at most 64 characters).');
export const metricsSchema = z.strictObject({
  samples: z.array(z.strictObject({
    at: z.iso.datetime({ offset: true }).optional(),
    values: z.record(metricName, z.number().finite()).refine((v) => Object.keys(v).length <= 32, 'At most 32 values per sample.'),
  })).min(1).max(60),
});

export const agentEventsSchema = z.strictObject({
  events: z.array(z.strictObject({
    type: text().regex(/^[a-z][a-z0-9_.]{0,63}$/, 'An event type is lower-case words joined by _ or . (at most 64 characters).'),
    severity: z.enum(['info', 'warning', 'error']).default('info'),
    message: text().max(1000).optional(),
    payload: metadata.optional(),
  })).min(1).max(50),
});

export const configurationAckSchema = z.strictObject({
  status: z.enum(['applied', 'rejected']),
  message: text().max(1000).optional(),
});

export const configurationCreateSchema = z.strictObject({
  definitionId: z.uuid('definitionId must be a definition id (a UUID).'),
  name: name('A configuration'),
  description: text().trim().max(2000).default(''),
  yaml: text().max(65_536, 'A configuration is at most 64 KiB of YAML.'),
});
export const configurationVersionSchema = z.strictObject({
  yaml: text().max(65_536, 'A configuration is at most 64 KiB of YAML.'),
  note: noteText().optional(),
});

// The JSON API's OpenAPI 3.1 document, read from the app's own routes: every
// path and method under /api and /health, the least role each declares
// (authorize.ts), and the body, query and path parameters its validators check
// (validate.ts), their JSON Schemas converted from the zod schemas themselves.
// Nothing here is written by hand, so the document cannot drift from the code.
import type { Hono } from 'hono';
import { z } from 'zod';
import { ACCESS, type Access } from './middleware/authorize';
import { isJsonPath, type AppEnv } from './context';
import { VALIDATES, type Validates } from './validate';

type JsonSchema = Record<string, unknown>;

interface Operation {
  method: string;
  path: string;
  access?: Access;
  validates: Validates[];
}

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object', required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
};

function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  try {
    const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    return rest;
  } catch {
    return {}; // a schema JSON Schema cannot say (a custom check): any value, checked by the server
  }
}

/** Each method and path once, with what its handlers declare. */
function operations(app: Hono<AppEnv>): Operation[] {
  const byKey = new Map<string, Operation>();
  for (const r of app.routes) {
    if (r.method === 'ALL' || !isJsonPath(r.path)) continue;
    const key = `${r.method} ${r.path}`;
    const op = byKey.get(key) ?? { method: r.method, path: r.path, validates: [] };
    const handler = r.handler as { [ACCESS]?: Access; [VALIDATES]?: Validates };
    if (handler[ACCESS]) op.access = handler[ACCESS];
    if (handler[VALIDATES]) op.validates.push(handler[VALIDATES]);
    byKey.set(key, op);
  }
  return [...byKey.values()].filter((op) => op.access);
}

function parameters(op: Operation): JsonSchema[] {
  const out: JsonSchema[] = [];
  const declared = new Map<string, JsonSchema>();
  for (const v of op.validates.filter((x) => x.target === 'param')) {
    const props = (jsonSchemaOf(v.schema).properties ?? {}) as Record<string, JsonSchema>;
    for (const [name, schema] of Object.entries(props)) declared.set(name, schema);
  }
  for (const [, name] of op.path.matchAll(/:(\w+)/g)) {
    out.push({ name, in: 'path', required: true, schema: declared.get(name!) ?? { type: 'string' } });
  }
  for (const v of op.validates.filter((x) => x.target === 'query')) {
    const s = jsonSchemaOf(v.schema);
    const required = new Set((s.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries((s.properties ?? {}) as Record<string, JsonSchema>)) {
      out.push({ name, in: 'query', required: required.has(name) && !('default' in schema), schema });
    }
  }
  return out;
}

function operationOf(op: Operation): JsonSchema {
  const body = op.validates.find((v) => v.target === 'json');
  const role = op.access === 'signed-in' ? 'any member' : op.access === 'agent' ? 'an agent token' : op.access === 'public' ? 'no credentials' : `the ${op.access} role or above`;
  return {
    summary: `${op.method} ${op.path}`,
    description: `Needs ${role}.`,
    'x-mission-control-access': op.access,
    security: op.access === 'public' ? [] : [{ bearer: [] }],
    parameters: parameters(op),
    ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchemaOf(body.schema) } } } } : {}),
    responses: {
      '2XX': { description: 'Done: the resource, or what the change left.', content: { 'application/json': { schema: {} } } },
      '4XX': { description: 'A client mistake, said in words: `error.message`, with `error.details` per field.', content: { 'application/json': { schema: ERROR_SCHEMA } } },
      '503': { description: 'A dependency (PostgreSQL, Temporal) is unreachable; try again shortly.', content: { 'application/json': { schema: ERROR_SCHEMA } } },
    },
  };
}

export function openApiDocument(app: Hono<AppEnv>, version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of operations(app)) {
    const path = op.path.replace(/:(\w+)/g, '{$1}');
    (paths[path] ??= {})[op.method.toLowerCase()] = operationOf(op);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Mission Control API', version,
      description: 'Every route of the JSON API, read from the app itself. Send an API token as `Authorization: Bearer <token>`; it acts in the workspace it was made in. See the README\'s "JSON API".',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token (mc_…), or an agent token (mca_…) on /api/agent/*.' } } },
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
  };
}

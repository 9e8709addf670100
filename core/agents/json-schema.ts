// JSON Schema (2020-12) for what agents accept and return: a command's
// payload, a task's input, a configuration. Interpreted by @cfworker/json-schema
// (no code generation: a schema is data, never run), within limits that keep a
// hostile schema cheap: 32 KiB, local references only, short patterns.
import { Validator, type Schema } from '@cfworker/json-schema';
import { AppError, ValidationError } from '../../lib/errors';

export const MAX_SCHEMA_BYTES = 32 * 1024;
const MAX_PATTERN_CHARS = 200;

export type JsonSchema = Record<string, unknown>;

const COUNTS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'minContains', 'maxContains'];
const NUMBERS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'];
const TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'integer', 'string']);
/** Keywords whose value is a schema, a list of schemas, or a map of names to schemas (everything else is data or a constraint). */
const SUBSCHEMA = ['items', 'not', 'if', 'then', 'else', 'additionalProperties', 'contains', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties', 'additionalItems'];
const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];

/** What is wrong with one schema object's own keywords, or null. */
function keywordProblem(schema: Record<string, unknown>): string | null {
  for (const k of COUNTS) {
    const v = schema[k];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 2 ** 31 - 1)) return `has ${k} ${JSON.stringify(v)}, which is not a count (a whole number from 0)`;
  }
  for (const k of NUMBERS) {
    const v = schema[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || (k === 'multipleOf' && v <= 0))) return `has ${k} ${JSON.stringify(v)}, which is not a${k === 'multipleOf' ? ' positive' : ''} number`;
  }
  const type = schema.type;
  if (type !== undefined && !(Array.isArray(type) ? type : [type]).every((t) => typeof t === 'string' && TYPES.has(t))) return `has type ${JSON.stringify(type)}; the types are ${[...TYPES].join(', ')}`;
  if (schema.required !== undefined && !(Array.isArray(schema.required) && schema.required.every((r) => typeof r === 'string'))) return 'has a required that is not a list of property names';
  if (schema.$ref !== undefined && (typeof schema.$ref !== 'string' || !schema.$ref.startsWith('#'))) return 'may only use local references ($ref starting with #)';
  const pattern = schema.pattern;
  if (pattern !== undefined) {
    if (typeof pattern !== 'string') return 'has a pattern that is not text';
    if (pattern.length > MAX_PATTERN_CHARS) return `has a pattern longer than ${MAX_PATTERN_CHARS} characters`;
    try {
      new RegExp(pattern, 'u');
    } catch {
      return `has a pattern that is not a valid regular expression: ${pattern}`;
    }
  }
  return null;
}

/** Why a schema cannot be used, or null. */
function schemaProblem(schema: unknown): string | null {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return 'must be a JSON Schema object';
  if (JSON.stringify(schema).length > MAX_SCHEMA_BYTES) return `is larger than ${MAX_SCHEMA_BYTES / 1024} KiB`;
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const stack: unknown[] = [schema];
  while (stack.length) {
    const s = stack.pop();
    if (typeof s === 'boolean') continue; // true and false are schemas too
    if (!isObject(s)) return 'has a subschema that is not an object or a boolean';
    const problem = keywordProblem(s);
    if (problem) return problem;
    for (const k of SUBSCHEMA) if (s[k] !== undefined && !Array.isArray(s[k])) stack.push(s[k]);
    for (const k of SUBSCHEMA_LISTS) if (Array.isArray(s[k])) stack.push(...(s[k] as unknown[]));
    for (const k of SUBSCHEMA_MAPS) if (s[k] !== undefined) isObject(s[k]) ? stack.push(...Object.values(s[k])) : stack.push(null);
  }
  try {
    new Validator(schema as Schema, '2020-12').validate({});
  } catch (err) {
    return `cannot be used: ${(err as Error).message}`;
  }
  return null;
}

/** Throws a 400 naming `what` when the schema cannot be used. */
export function checkSchema(what: string, schema: unknown): JsonSchema {
  const problem = schemaProblem(schema);
  if (problem) throw new ValidationError(`${what} ${problem}.`, { field: what });
  return schema as JsonSchema;
}

export interface SchemaIssue {
  path: string;
  message: string;
}

/** Where a value breaks the schema (empty when it does not). */
export function schemaIssues(schema: JsonSchema, value: unknown): SchemaIssue[] {
  const result = new Validator(schema as Schema, '2020-12', false).validate(value);
  if (result.valid) return [];
  // The deepest errors say what is wrong; the ones above them only repeat that something below failed.
  const leaves = result.errors.filter((e) => !['properties', 'items', 'allOf', 'anyOf', 'oneOf', '$ref', 'prefixItems'].includes(e.keyword));
  const seen = new Set<string>();
  return (leaves.length ? leaves : result.errors).flatMap((e) => {
    const path = e.instanceLocation.replace(/^#/, '') || '/';
    const key = `${path} ${e.error}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [{ path, message: e.error }];
  }).slice(0, 20);
}

/** Throws a 422 listing where `value` breaks the schema. */
export function assertMatches(what: string, schema: JsonSchema, value: unknown): void {
  const issues = schemaIssues(schema, value);
  if (issues.length) {
    const first = issues[0]!;
    throw new SchemaMismatchError(`${what} does not match its schema: at ${first.path}, ${first.message}`, issues);
  }
}

export class SchemaMismatchError extends AppError {
  constructor(message: string, readonly issues: SchemaIssue[]) {
    super(422, 'schema_mismatch', message, { issues });
  }
}

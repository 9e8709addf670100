// The agent pages' forms, read into the same inputs the JSON API takes
// (core/agents/schemas.ts), with mistakes said in the form's own words:
// the field's label, and for a command in the list, which one.
import { z } from 'zod';
import { agentCreateSchema, commandRequestSchema, definitionCreateSchema, type AgentCreateInput, type DefinitionCreateInput } from '../../../core/agents/schemas';
import { ValidationError } from '../../../lib/errors';
import { jsonField, str, type FormValue } from '../common';
import { raw } from '../form-problem';

type Form = Record<string, FormValue>;
type Issue = z.core.$ZodIssue;

/** The first problem, named by its field's label; the rest as details. */
export function parsed<T extends z.ZodType>(schema: T, value: unknown, where: (path: Issue['path']) => string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const [first, ...rest] = result.error.issues;
  const more = rest.length ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
  throw new ValidationError(`${where(first!.path)}: ${first!.message}${more}`, result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })));
}

export const labelled = (labels: Record<string, string>) => (path: Issue['path']) => labels[String(path[0])] ?? path.map(String).join('.');

const wholeSeconds = (value: string, label: string, max: number): number | undefined => {
  if (!value) return undefined;
  const n = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= max)) throw new ValidationError(`${label}: a whole number of seconds from 1 to ${max}.`, [{ path: label, message: 'not a number of seconds' }]);
  return n;
};

// ---- register an agent ----

export interface RegisterValues { name: string; definitionId: string; heartbeatSeconds: string }
export const REGISTER_DEFAULTS: RegisterValues = { name: '', definitionId: '', heartbeatSeconds: '10' };

export const registerValues = (form: Form): RegisterValues => ({
  name: str(form, 'name'), definitionId: str(form, 'definitionId'), heartbeatSeconds: str(form, 'heartbeatSeconds'),
});

export function registerInput(v: RegisterValues): AgentCreateInput {
  if (!z.uuid().safeParse(v.definitionId).success) {
    throw new ValidationError('Kind of agent: choose one of the kinds listed (define one first if there is none).', [{ path: 'definitionId', message: 'not a definition' }]);
  }
  const seconds = wholeSeconds(v.heartbeatSeconds, 'Heartbeat interval', 300) ?? 10;
  return parsed(agentCreateSchema, { name: v.name, definitionId: v.definitionId, heartbeatIntervalMs: seconds * 1000 },
    labelled({ name: 'Name', definitionId: 'Kind of agent', heartbeatIntervalMs: 'Heartbeat interval' }));
}

// ---- define a kind of agent ----

export interface DefinitionValues { name: string; category: string; status: string; description: string; capabilities: string; commands: string }
export const COMMANDS_EXAMPLE = `[
  {
    "type": "COLLECT_DIAGNOSTICS",
    "description": "Report versions, uptime and memory.",
    "role": "OPERATOR",
    "timeoutMs": 30000,
    "payloadSchema": { "type": "object", "properties": {}, "additionalProperties": false }
  }
]`;
export const DEFINITION_DEFAULTS: DefinitionValues = { name: '', category: 'custom', status: 'active', description: '', capabilities: '', commands: COMMANDS_EXAMPLE };

export const definitionValues = (form: Form): DefinitionValues => ({
  name: str(form, 'name'), category: str(form, 'category'), status: str(form, 'status'), description: raw(form, 'description').trim(),
  capabilities: str(form, 'capabilities'), commands: raw(form, 'commands'),
});

/** "Commands, command 2 (type)": where in the list a problem is. */
function definitionWhere(path: Issue['path']): string {
  const [head, index, field] = path;
  if (head === 'commands' && typeof index === 'number') return `Commands, command ${index + 1}${field !== undefined ? ` (${String(field)})` : ''}`;
  if (head === 'capabilities' && typeof index === 'number') return `Capabilities, number ${index + 1}`;
  return labelled({ name: 'Name', category: 'Category', status: 'Status', description: 'Description', capabilities: 'Capabilities', commands: 'Commands' })(path);
}

export function definitionInput(v: DefinitionValues): DefinitionCreateInput {
  const commands = v.commands.trim() ? jsonField(v.commands, 'Commands') : [];
  if (!Array.isArray(commands)) {
    throw new ValidationError('Commands: write a JSON list, [ … ], of commands such as {"type": "COLLECT_DIAGNOSTICS"}; [] for none.', [{ path: 'commands', message: 'not a list' }]);
  }
  const capabilities = v.capabilities.split(',').map((c) => c.trim()).filter(Boolean);
  return parsed(definitionCreateSchema, {
    name: v.name, category: v.category || undefined, status: v.status || undefined, description: v.description, capabilities, commands,
  }, definitionWhere);
}

// ---- send a command ----

export interface CommandValues { type: string; payload: string; timeoutSeconds: string }
export const COMMAND_DEFAULTS: CommandValues = { type: '', payload: '{}', timeoutSeconds: '' };

export const commandValues = (form: Form): CommandValues => ({ type: str(form, 'type'), payload: raw(form, 'payload'), timeoutSeconds: str(form, 'timeoutSeconds') });

export function commandInput(v: CommandValues): { type: string; payload: unknown; timeoutMs?: number } {
  if (!v.type) throw new ValidationError('Command: choose the command to send.', [{ path: 'type', message: 'required' }]);
  const payload = v.payload.trim() ? jsonField(v.payload, 'Payload') : {};
  const seconds = wholeSeconds(v.timeoutSeconds, 'Timeout', 86_400);
  const body = parsed(commandRequestSchema, { type: v.type, payload, ...(seconds ? { timeoutMs: seconds * 1000 } : {}) },
    labelled({ type: 'Command', payload: 'Payload', timeoutMs: 'Timeout' }));
  return { type: body.type, payload: body.payload, timeoutMs: body.timeoutMs };
}

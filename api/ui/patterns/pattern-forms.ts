// The pattern and container forms: what the user typed (kept as typed, so a
// form that fails re-renders with it) and the validated input for the core.
import type { Container } from '../../../core/patterns/containers';
import type { Pattern } from '../../../core/patterns/patterns';
import {
  containerInput, DEFAULT_PATTERN_CONFIG, patternInput, patternPatch, type ContainerInput, type PatternInput, type PatternPatch,
} from '../../../core/patterns/schemas';
import { checked, str, type FormValue } from '../common';
import { intField, raw } from '../form-problem';

export interface PatternFormValues {
  containerId: string;
  name: string;
  description: string;
  isActive: boolean;
  isDefault: boolean;
  priority: string;
  timeout: string;
  retryCount: string;
  failureAction: string;
  code: string;
  note: string;
}

export const NEW_PATTERN_CODE = 'async (input, ctx) => {\n  ctx.log("got", input);\n  return { ok: true };\n}\n';

export function blankPattern(containerId = ''): PatternFormValues {
  const c = DEFAULT_PATTERN_CONFIG;
  return {
    containerId, name: '', description: '', isActive: true, isDefault: false, priority: '0',
    timeout: String(c.timeout), retryCount: String(c.retryCount), failureAction: c.failureAction, code: NEW_PATTERN_CODE, note: '',
  };
}

export function patternValues(p: Pattern): PatternFormValues {
  return {
    containerId: p.containerId, name: p.name, description: p.description, isActive: p.isActive, isDefault: p.isDefault,
    priority: String(p.priority), timeout: String(p.config.timeout), retryCount: String(p.config.retryCount),
    failureAction: p.config.failureAction, code: p.code, note: '',
  };
}

export function patternFormValues(form: Record<string, FormValue>): PatternFormValues {
  return {
    containerId: str(form, 'containerId'), name: str(form, 'name'), description: str(form, 'description'),
    isActive: checked(form, 'isActive'), isDefault: checked(form, 'isDefault'), priority: str(form, 'priority'),
    timeout: str(form, 'timeout'), retryCount: str(form, 'retryCount'), failureAction: str(form, 'failureAction'),
    code: raw(form, 'code'), note: str(form, 'note'),
  };
}

function fields(v: PatternFormValues) {
  return {
    name: v.name,
    description: v.description,
    code: v.code,
    config: {
      timeout: intField(v.timeout, 'Timeout (ms)', DEFAULT_PATTERN_CONFIG.timeout),
      retryCount: intField(v.retryCount, 'Retry count', DEFAULT_PATTERN_CONFIG.retryCount),
      failureAction: v.failureAction || DEFAULT_PATTERN_CONFIG.failureAction,
    },
    isActive: v.isActive,
    isDefault: v.isDefault,
    priority: intField(v.priority, 'Priority', 0),
    ...(v.note ? { note: v.note } : {}),
  };
}

/** Throws a ZodError (400) or ValidationError naming the field at fault. */
export function patternInputOf(v: PatternFormValues): PatternInput {
  return patternInput.parse({ containerId: v.containerId, ...fields(v) });
}

export function patternPatchOf(v: PatternFormValues): PatternPatch {
  return patternPatch.parse(fields(v));
}

export interface ContainerFormValues {
  name: string;
  description: string;
  category: string;
  isActive: boolean;
  isDefault: boolean;
  priority: string;
}

export function blankContainer(): ContainerFormValues {
  return { name: '', description: '', category: 'custom', isActive: true, isDefault: false, priority: '0' };
}

export function containerValues(c: Container): ContainerFormValues {
  return { name: c.name, description: c.description, category: c.category, isActive: c.isActive, isDefault: c.isDefault, priority: String(c.priority) };
}

export function containerFormValues(form: Record<string, FormValue>): ContainerFormValues {
  return {
    name: str(form, 'name'), description: str(form, 'description'), category: str(form, 'category'),
    isActive: checked(form, 'isActive'), isDefault: checked(form, 'isDefault'), priority: str(form, 'priority'),
  };
}

/** The full container (the edit form shows every field, so a patch is the whole input). */
export function containerInputOf(v: ContainerFormValues): ContainerInput {
  return containerInput.parse({ ...v, priority: intField(v.priority, 'Priority', 0) });
}

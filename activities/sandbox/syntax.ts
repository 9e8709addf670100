// The shape check of the pattern contract: the source is exactly one
// function, `async (input, ctx) => result` (or a function expression).
// Parsing never runs the code; the sandbox thread then compiles it under SES.
import { parse, type Node, type Options } from 'acorn';
import type { ShapeCheck, SourcePosition } from '../../core/patterns/sandbox';

export const MAX_CODE_BYTES = 64 * 1024;

export type { ShapeCheck };

const OPTIONS: Options = { ecmaVersion: 'latest', sourceType: 'script', locations: true, allowHashBang: false };

export function checkPatternShape(code: string): ShapeCheck {
  if (Buffer.byteLength(code) > MAX_CODE_BYTES) return { ok: false, message: `Pattern code is larger than ${MAX_CODE_BYTES / 1024} KiB.` };
  if (!code.trim()) return { ok: false, message: 'Pattern code is empty; write a function: async (input, ctx) => result' };
  let program: Node & { body: (Node & { expression?: Node })[] };
  try {
    program = parse(code, OPTIONS) as typeof program;
  } catch (err) {
    // `async function (input, ctx) {…}` is only valid as an expression: the sandbox wraps code in parentheses.
    if (/^\s*(async\s+)?function\b/.test(code) && isWrappedFunction(code)) return { ok: true };
    const e = err as SyntaxError & { loc?: { line: number; column: number } };
    const message = e.message.replace(/\s*\(\d+:\d+\)$/, '');
    return { ok: false, message: `Syntax error: ${message}`, position: e.loc ? { line: e.loc.line, column: e.loc.column + 1 } : undefined };
  }
  const statements = program.body;
  const only = statements.length === 1 ? statements[0]! : undefined;
  const isFunction =
    !!only &&
    (only.type === 'FunctionDeclaration' ||
      (only.type === 'ExpressionStatement' &&
        (only.expression!.type === 'ArrowFunctionExpression' || only.expression!.type === 'FunctionExpression')));
  if (!isFunction) {
    const at = statements[1] ?? statements[0];
    const loc = (at as { loc?: { start: { line: number; column: number } } } | undefined)?.loc?.start;
    return {
      ok: false,
      message: 'Pattern code must be exactly one function, for example: async (input, ctx) => ({ ok: true })',
      position: loc ? { line: loc.line, column: loc.column + 1 } : undefined,
    };
  }
  return { ok: true };
}

/** SES reports rejections as "… at <unknown>:LINE"; turn that into a position. */
export function positionFromMessage(message: string): SourcePosition | undefined {
  const m = /<unknown>:(\d+)/.exec(message);
  return m ? { line: Number(m[1]), column: 1 } : undefined;
}

function isWrappedFunction(code: string): boolean {
  try {
    const program = parse(`(${code}\n)`, OPTIONS) as Node & { body: (Node & { expression?: Node })[] };
    return program.body.length === 1 && program.body[0]!.expression?.type === 'FunctionExpression';
  } catch {
    return false;
  }
}

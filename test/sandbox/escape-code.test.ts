// Attacks that try to run code the sandbox does not allow: the Function
// constructor reached through any function, eval and new Function, dynamic
// import, HTML comments, nested compartments, host globals and escape
// hatches, and checking code (which must never run it). Each attempt is
// checked three ways (see useSandbox in ./helpers): contained, host
// unaffected, pool still serving.
import { describe, expect, it } from 'vitest';
import { NOT_A_CONSTRUCTOR, allThreadsIdle, expectHostUnaffectedAndPoolServing, snapshotHost, useSandbox } from './helpers';

const sandbox = useSandbox();
const { traps, PWN, contained, attacks } = sandbox;

const IMPORT_REJECTED = /SES_IMPORT_REJECTED/;
const HTML_REJECTED = /SES_HTML_COMMENT_REJECTED/;

describe('a pattern cannot reach the host through the Function constructor', () => {
  attacks([
    {
      title: "a pattern cannot reach process through an arrow function's constructor",
      code: `() => ${PWN}((() => {}).constructor('return process')())`,
      expect: { kind: 'runtime', message: NOT_A_CONSTRUCTOR },
    },
    {
      title: 'a pattern cannot reach process through the AsyncFunction constructor',
      code: `async () => ${PWN}(await Object.getPrototypeOf(async function () {}).constructor('return process')())`,
      expect: { kind: 'runtime', message: NOT_A_CONSTRUCTOR },
    },
    {
      title: 'a pattern cannot reach process through the GeneratorFunction constructor',
      code: `() => ${PWN}(Object.getPrototypeOf(function* () {}).constructor('yield process')().next().value)`,
      expect: { kind: 'runtime', message: NOT_A_CONSTRUCTOR },
    },
    {
      title: 'a pattern cannot reach process through the AsyncGeneratorFunction constructor',
      code: `async () => ${PWN}((await Object.getPrototypeOf(async function* () {}).constructor('yield process')().next()).value)`,
      expect: { kind: 'runtime', message: NOT_A_CONSTRUCTOR },
    },
    {
      title: 'a pattern cannot reach the host global through globalThis.constructor.constructor',
      code: `() => ${PWN}(globalThis.constructor.constructor('return this')().process)`,
      expect: { kind: 'runtime', message: NOT_A_CONSTRUCTOR },
    },
    {
      title: 'a pattern cannot construct a host function with Reflect.construct on Function.prototype.constructor',
      code: `() => ${PWN}(Reflect.construct(Function.prototype.constructor, ['return process'])())`,
      expect: { kind: 'runtime', message: NOT_A_CONSTRUCTOR },
    },
  ]);
});

describe('eval and new Function work but stay inside the compartment', () => {
  attacks([
    {
      title: 'new Function sees no process, require or module',
      code: `() => new Function('return [typeof process, typeof require, typeof module, typeof globalThis.process]')()`,
      expect: { output: ['undefined', 'undefined', 'undefined', 'undefined'] },
    },
    {
      title: "a function made by new Function has no sloppy 'this' to reach the real global",
      code: `() => { const g = Function('return this')(); return g === undefined ? 'no global' : ${PWN}(g.process) }`,
      expect: { output: 'no global' },
    },
    {
      title: 'indirect eval sees no process or require',
      code: `() => (0, eval)('[typeof process, typeof require, typeof Buffer]')`,
      expect: { output: ['undefined', 'undefined', 'undefined'] },
    },
    {
      title: 'a direct eval expression is rejected before the pattern runs',
      code: `() => eval('typeof process')`,
      expect: { kind: 'syntax', message: /SES_EVAL_REJECTED/ },
    },
    {
      title: 'a parenthesised (eval)(…) call is still the compartment eval',
      code: `() => (eval)('typeof process === "undefined" ? "confined" : ' + ${JSON.stringify(PWN)} + '(process)')`,
      expect: { output: 'confined' },
    },
    {
      title: 'an optional-call eval?.(…) is still the compartment eval',
      code: `() => eval?.('[typeof process, typeof require]')`,
      expect: { output: ['undefined', 'undefined'] },
    },
    {
      title: "a nested compartment with SES's direct-eval check turned off still evaluates confined",
      code: `() => new Compartment().evaluate('ev' + 'al("[typeof process, typeof require]")', { __rejectSomeDirectEvalExpressions__: false })`,
      expect: { output: ['undefined', 'undefined'] },
    },
  ]);
});

describe('a pattern cannot load modules with dynamic import', () => {
  attacks([
    { title: "import('fs') is rejected", code: `async () => (await import('fs')).writeFileSync(${JSON.stringify(traps.marker)}, 'x')`, expect: { kind: 'syntax', message: IMPORT_REJECTED } },
    { title: "import ( 'fs' ) with spaces is rejected", code: `async () => import ( 'fs' )`, expect: { kind: 'syntax', message: IMPORT_REJECTED } },
    { title: "import/**/('fs') with a comment is rejected", code: `async () => import/**/('fs')`, expect: { kind: 'syntax', message: IMPORT_REJECTED } },
    { title: 'import with a template-literal specifier is rejected', code: 'async () => import(`node:${"fs"}`)', expect: { kind: 'syntax', message: IMPORT_REJECTED } },
    { title: 'import split by a newline and a line comment is rejected', code: `async () => import\n// hidden\n('fs')`, expect: { kind: 'syntax', message: IMPORT_REJECTED } },
    {
      title: 'import built inside a new Function string is rejected when the function is made',
      code: `async () => Function('return imp' + 'ort("fs")')()`,
      expect: { kind: 'runtime', message: IMPORT_REJECTED },
    },
    {
      title: 'import built inside an indirect eval string is rejected',
      code: `async () => (0, eval)('imp' + 'ort("fs")')`,
      expect: { kind: 'runtime', message: IMPORT_REJECTED },
    },
    {
      title: 'import separated by an ideographic space (U+3000) is rejected',
      code: `async () => Function('return import\\u3000("fs")')()`,
      expect: { kind: 'runtime', message: IMPORT_REJECTED },
    },
    {
      title: 'import spelled with a unicode escape does not parse',
      code: String.raw`async () => Function('return im\\u0070ort("fs")')()`,
      expect: { kind: 'runtime', message: /escaped characters/ },
    },
    { title: 'import.meta is not available', code: `() => import.meta.url`, expect: { kind: 'syntax', message: /import\.meta/ } },
    {
      title: 'import.meta inside a new Function string is not available',
      code: `() => Function('return import.meta.url')()`,
      expect: { kind: 'runtime', message: /import\.meta/ },
    },
    {
      title: "a nested compartment's import-evasion option rewrites import() into a harmless call",
      code: `async () => new Compartment().evaluate('imp' + 'ort("fs")', { __evadeImportExpressionTest__: true })`,
      expect: { kind: 'runtime', message: /__import__ is not a function/ },
    },
    {
      title: "a nested compartment's importHook cannot load a builtin module",
      code: `async () => { const c = new Compartment({ __options__: true, resolveHook: (s) => s, importHook: async (s) => { throw new Error('no module ' + s) } }); return typeof (await c.import('fs')) }`,
      expect: { kind: 'runtime', message: /Failed to load module "fs"/ },
    },
  ]);
});

describe('HTML comments cannot hide code', () => {
  attacks([
    { title: 'an HTML open comment in the pattern is rejected', code: `() => { const a = 1; <!-- hidden\n return a }`, expect: { kind: 'syntax', message: HTML_REJECTED } },
    { title: 'an HTML close comment in the pattern is rejected', code: `() => {\n--> hidden\n return 1 }`, expect: { kind: 'syntax', message: HTML_REJECTED } },
    {
      title: 'an HTML open comment inside a new Function string is rejected',
      code: `() => Function('return 1 <!' + '-- hidden')()`,
      expect: { kind: 'runtime', message: HTML_REJECTED },
    },
    {
      title: 'an HTML close comment inside an indirect eval string is rejected',
      code: `() => (0, eval)('1\\n-' + '-> hidden')`,
      expect: { kind: 'runtime', message: HTML_REJECTED },
    },
    {
      title: "a nested compartment's HTML-comment evasion option turns the comment into plain code",
      code: `() => new Compartment().evaluate('1 <!' + '-- hidden', { __evadeHtmlCommentTest__: true })`,
      expect: { kind: 'runtime', message: /hidden is not defined/ },
    },
  ]);
});

describe('host globals and escape hatches are absent', () => {
  it.each(['process', 'require', 'module', 'exports', 'Buffer', 'fetch', 'XMLHttpRequest', 'WebSocket', 'global', '__dirname', 'performance', 'navigator'])(
    'the host global %s is undefined in a pattern',
    (name) => contained({ title: name, code: `() => [typeof ${name}, typeof globalThis[${JSON.stringify(name)}]]`, expect: { output: ['undefined', 'undefined'] } }).then(() => undefined),
  );

  attacks([
    { title: 'globalThis.process cannot be used to write a file', code: `() => ${PWN}(globalThis.process)`, expect: { kind: 'runtime', message: /reading 'env'/ } },
    { title: "require('fs') cannot be called", code: `() => require('fs').writeFileSync(${JSON.stringify(traps.marker)}, 'x')`, expect: { kind: 'runtime', message: /require is not a function/ } },
    {
      title: 'arguments.callee.caller is refused',
      code: `function () { return ${PWN}(arguments.callee.caller) }`,
      expect: { kind: 'runtime', message: /'caller', 'callee', and 'arguments' properties may not be accessed/ },
    },
    {
      title: 'Function.prototype.caller and .arguments are gone',
      code: `function f() { return [typeof f.caller, typeof f.arguments, 'caller' in Function.prototype, 'arguments' in Function.prototype] }`,
      expect: { output: ['undefined', 'undefined', false, false] },
    },
    { title: "a pattern has no sloppy 'this'", code: `function () { return typeof this }`, expect: { output: 'undefined' } },
    { title: 'lockdown cannot be run again from inside', code: `() => { lockdown({ errorTaming: 'unsafe' }); return 'relocked' }`, expect: { kind: 'runtime', message: /Already locked down/ } },
    {
      title: 'a nested Compartment given the whole global gains nothing',
      code: `() => new Compartment({ __options__: true, globals: { g: globalThis } }).evaluate('[typeof g.process, typeof g.require, typeof process]')`,
      expect: { output: ['undefined', 'undefined', 'undefined'] },
    },
    {
      title: 'harden on the pattern global only freezes its own compartment',
      code: `() => { harden(globalThis); try { globalThis.x = 1 } catch (e) { return e instanceof TypeError } return 'not frozen' }`,
      expect: { output: true },
    },
  ]);
});

describe('checking code never runs it', () => {
  it('check accepts a pattern whose body would loop forever or escape, without running it', async () => {
    await allThreadsIdle(sandbox.pool);
    const before = snapshotHost(traps);
    const replaced = sandbox.pool.stats().replaced;
    // Run, the body would try the escape and then loop whatever came of it:
    // check would time out (5 s), or its thread would never report ready again
    // and be replaced.
    expect(await sandbox.pool.check(`async (input, ctx) => { try { ${PWN}(globalThis.process) } finally { for (;;); } }`)).toEqual({ ok: true });
    await allThreadsIdle(sandbox.pool);
    expect(sandbox.pool.stats().replaced).toBe(replaced);
    await expectHostUnaffectedAndPoolServing(sandbox.pool, traps, before);
  });

  it('check refuses dynamic import and code that is more than one function', async () => {
    const before = snapshotHost(traps);
    expect(await sandbox.pool.check(`async () => import('fs')`)).toMatchObject({ ok: false, message: expect.stringMatching(IMPORT_REJECTED) });
    expect(await sandbox.pool.check(`globalThis.x = 1; () => 1`)).toMatchObject({ ok: false, message: expect.stringMatching(/exactly one function/) });
    expect(await sandbox.pool.check(`() => 1 <!-- hidden`)).toMatchObject({ ok: false });
    await expectHostUnaffectedAndPoolServing(sandbox.pool, traps, before);
  });
});

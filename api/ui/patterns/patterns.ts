// Containers and patterns: the list with statistics (/patterns), a pattern's
// page (/patterns/:id) with live statistics, history and a test run, and the
// admin-only editor whose code is checked as it is typed. Actions on one
// pattern live in pattern-actions.ts, container pages in containers.ts.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { listContainers } from '../../../core/patterns/containers';
import { createPattern, getPattern, InvalidCodeError, listPatterns, updatePattern } from '../../../core/patterns/patterns';
import { CATEGORIES, FAILURE_ACTIONS } from '../../../core/patterns/schemas';
import { statsSummary } from '../../../core/patterns/stats';
import { text } from '../../../lib/text';
import { actorOf } from '../../../core/access/users';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { successBar } from './charts';
import { readForm, redirect } from '../common';
import { containerPages } from './containers';
import { formProblem, raw } from '../form-problem';
import { patternActions } from './pattern-actions';
import {
  blankPattern, patternFormValues, patternInputOf, patternPatchOf, patternValues, type PatternFormValues,
} from './pattern-forms';
import { patternView } from './pattern-view';

export const PATTERNS_PER_PAGE = 25;
export const CONTAINERS_PER_PAGE = 20;

const empty = (v: unknown) => (v === '' ? undefined : v);
const offset = z.preprocess(empty, z.coerce.number().int().min(0).max(1_000_000).default(0));
const listQuery = z.object({
  q: z.preprocess(empty, text().trim().max(120).optional()),
  containerId: z.preprocess(empty, z.uuid('Not a valid container id.').optional()),
  category: z.preprocess(empty, z.enum(CATEGORIES).optional()),
  active: z.preprocess(empty, z.enum(['true', 'false']).optional()),
  offset,
  coffset: offset,
});
const positionOf = (err: unknown) => (err instanceof InvalidCodeError ? err.details : undefined);
export const idParam = z.object({ id: z.uuid('Not a valid pattern id.') });

export function patternPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();
  const view = patternView(deps, renderer);
  const check = (code: string) => deps.sandbox.check(code);

  app.get('/patterns', authorize('VIEWER'), valid('query', listQuery), async (c) => {
    const q = c.req.valid('query');
    const filters = { q: q.q, containerId: q.containerId, category: q.category, active: q.active };
    const ws = currentWorkspace(c);
    const [patterns, containers, summary, all] = await Promise.all([
      listPatterns(deps.sql, { ...filters, active: q.active === undefined ? undefined : q.active === 'true', limit: PATTERNS_PER_PAGE, offset: q.offset }, ws),
      listContainers(deps.sql, { limit: CONTAINERS_PER_PAGE, offset: q.coffset }, ws),
      statsSummary(deps.sql, {}, ws),
      listContainers(deps.sql, { limit: 200, offset: 0 }, ws),
    ]);
    // Per-container totals from the per-pattern statistics.
    const byContainer = new Map<string, { ok: number; bad: number; runs: number }>();
    for (const p of summary.patterns) {
      const t = byContainer.get(p.containerId) ?? { ok: 0, bad: 0, runs: 0 };
      byContainer.set(p.containerId, { ok: t.ok + p.successCount, bad: t.bad + p.failureCount, runs: t.runs + p.totalExecutions });
    }
    return renderer.respond(c, { page: 'pages/patterns/patterns', partial: 'partials/patterns/pattern-list' }, {
      title: 'Patterns',
      filters,
      offset: q.offset,
      coffset: q.coffset,
      perPage: PATTERNS_PER_PAGE,
      cPerPage: CONTAINERS_PER_PAGE,
      patterns: patterns.items.map((p) => ({ ...p, bar: successBar(p.stats.successCount, p.stats.failureCount) })),
      total: patterns.total,
      containers: containers.items.map((k) => {
        const t = byContainer.get(k.id) ?? { ok: 0, bad: 0, runs: 0 };
        return { ...k, runs: t.runs, bar: successBar(t.ok, t.bad) };
      }),
      containerTotal: containers.total,
      allContainers: all.items,
      totals: summary.totals,
      categories: CATEGORIES,
    });
  });

  // The editor: one page for a new pattern and for an existing one.
  const editor = async (c: Context<AppEnv>, data: { values: PatternFormValues; patternId?: string; patternName?: string; error?: string; position?: unknown }, status = 200) => {
    const containers = (await listContainers(deps.sql, { limit: 200, offset: 0 }, currentWorkspace(c))).items;
    const title = data.patternId ? `Edit ${data.patternName}` : 'New pattern';
    return renderer.respond(c, { page: 'pages/patterns/pattern-edit', partial: 'partials/patterns/pattern-form' }, {
      title, containers, failureActions: FAILURE_ACTIONS, ...data,
    }, status);
  };

  app.get('/patterns/new', authorize('ADMIN'), valid('query', z.object({ containerId: z.preprocess(empty, z.uuid().optional()) })), (c) =>
    editor(c, { values: blankPattern(c.req.valid('query').containerId) }),
  );

  app.post('/patterns', authorize('ADMIN'), async (c) => {
    const values = patternFormValues(await readForm(c));
    try {
      const pattern = await createPattern(deps.sql, patternInputOf(values), actorOf(c.get('user')!), check, currentWorkspace(c));
      return redirect(c, `/patterns/${pattern.id}`);
    } catch (err) {
      const p = formProblem(err);
      if (!p) throw err;
      return editor(c, { values, error: p.message, position: positionOf(err) }, p.status);
    }
  });

  // Checks code as it is typed: a small fragment with OK or the error's line and column.
  app.post('/patterns/check', authorize('ADMIN'), async (c) => {
    const code = raw(await readForm(c), 'code');
    const result = code.length > 64 * 1024
      ? { ok: false as const, message: 'Pattern code is larger than 64 KiB.' }
      : await check(code);
    return renderer.fragment(c, 'partials/patterns/pattern-check', { result });
  });

  app.get('/patterns/:id', authorize('VIEWER'), valid('param', idParam), (c) => view.page(c, c.req.valid('param').id));

  app.get('/patterns/:id/stats', authorize('VIEWER'), valid('param', idParam), (c) => view.stats(c, c.req.valid('param').id));

  app.get('/patterns/:id/edit', authorize('ADMIN'), valid('param', idParam), async (c) => {
    const pattern = await getPattern(deps.sql, c.req.valid('param').id, currentWorkspace(c));
    return editor(c, { values: patternValues(pattern), patternId: pattern.id, patternName: pattern.name });
  });

  // Saving: metadata changes in place; a code or config change makes a new version (the core decides).
  app.post('/patterns/:id', authorize('ADMIN'), valid('param', idParam), async (c) => {
    const before = await getPattern(deps.sql, c.req.valid('param').id, currentWorkspace(c));
    const values = patternFormValues(await readForm(c));
    values.containerId = before.containerId;
    try {
      await updatePattern(deps.sql, before.id, patternPatchOf(values), actorOf(c.get('user')!), check, currentWorkspace(c));
      return redirect(c, `/patterns/${before.id}`);
    } catch (err) {
      const p = formProblem(err);
      if (!p) throw err;
      return editor(c, { values, patternId: before.id, patternName: before.name, error: p.message, position: positionOf(err) }, p.status);
    }
  });

  app.route('/', patternActions(deps, renderer, view));
  app.route('/', containerPages(deps, renderer));
  return app;
}

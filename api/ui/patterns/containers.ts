// Container pages: one container with its patterns and statistics
// (/containers/:id), and the admin-only forms to create, edit and delete one.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { createContainer, deleteContainer, getContainer, updateContainer } from '../../../core/patterns/containers';
import { listPatterns } from '../../../core/patterns/patterns';
import { CATEGORIES } from '../../../core/patterns/schemas';
import { statsSummary } from '../../../core/patterns/stats';
import { actorOf } from '../../../core/access/users';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { successBar } from './charts';
import { readForm, redirect } from '../common';
import { flashing, formProblem, isHtmx } from '../form-problem';
import { blankContainer, containerFormValues, containerInputOf, containerValues, type ContainerFormValues } from './pattern-forms';

const PER_PAGE = 25;
const idParam = z.object({ id: z.uuid('Not a valid container id.') });
const pageQuery = z.object({ offset: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).max(1_000_000).default(0)) });

export function containerPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  const page = async (c: Context<AppEnv>, id: string, offset: number, error?: string, status = 200) => {
    const ws = currentWorkspace(c);
    const [container, patterns, summary] = await Promise.all([
      getContainer(deps.sql, id, ws),
      listPatterns(deps.sql, { containerId: id, limit: PER_PAGE, offset }, ws),
      statsSummary(deps.sql, { containerId: id }, ws),
    ]);
    const t = summary.totals;
    return renderer.respond(c, { page: 'pages/patterns/container', partial: 'partials/patterns/container-patterns' }, {
      title: container.name,
      container,
      patterns: patterns.items.map((p) => ({ ...p, bar: successBar(p.stats.successCount, p.stats.failureCount) })),
      total: patterns.total,
      offset,
      perPage: PER_PAGE,
      totals: t,
      bar: successBar(t.successes, t.failures, 240, 12),
      error,
    }, status);
  };

  const editor = (c: Context<AppEnv>, data: { values: ContainerFormValues; containerId?: string; containerName?: string; error?: string }, status = 200) =>
    renderer.respond(c, { page: 'pages/patterns/container-edit', partial: 'partials/patterns/container-form' }, {
      title: data.containerId ? `Edit ${data.containerName}` : 'New container', categories: CATEGORIES, ...data,
    }, status);

  app.get('/containers/new', authorize('ADMIN'), (c) => editor(c, { values: blankContainer() }));

  app.post('/containers', authorize('ADMIN'), async (c) => {
    const values = containerFormValues(await readForm(c));
    try {
      const container = await createContainer(deps.sql, containerInputOf(values), actorOf(c.get('user')!), currentWorkspace(c));
      return redirect(c, `/containers/${container.id}`);
    } catch (err) {
      const p = formProblem(err);
      if (!p) throw err;
      return editor(c, { values, error: p.message }, p.status);
    }
  });

  app.get('/containers/:id', authorize('VIEWER'), valid('param', idParam), valid('query', pageQuery), (c) =>
    page(c, c.req.valid('param').id, c.req.valid('query').offset),
  );

  app.get('/containers/:id/edit', authorize('ADMIN'), valid('param', idParam), async (c) => {
    const container = await getContainer(deps.sql, c.req.valid('param').id, currentWorkspace(c));
    return editor(c, { values: containerValues(container), containerId: container.id, containerName: container.name });
  });

  app.post('/containers/:id', authorize('ADMIN'), valid('param', idParam), async (c) => {
    const before = await getContainer(deps.sql, c.req.valid('param').id, currentWorkspace(c));
    const values = containerFormValues(await readForm(c));
    try {
      await updateContainer(deps.sql, before.id, containerInputOf(values), actorOf(c.get('user')!), currentWorkspace(c));
      return redirect(c, `/containers/${before.id}`);
    } catch (err) {
      const p = formProblem(err);
      if (!p) throw err;
      return editor(c, { values, containerId: before.id, containerName: before.name, error: p.message }, p.status);
    }
  });

  // Refused with the 409 message while missions or patterns still depend on the container.
  app.post('/containers/:id/delete', authorize('ADMIN'), valid('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    try {
      await deleteContainer(deps.sql, id, actorOf(c.get('user')!), currentWorkspace(c));
    } catch (err) {
      const p = formProblem(err);
      if (!p || isHtmx(c)) return flashing(c, () => Promise.reject(err));
      return page(c, id, 0, p.message, p.status);
    }
    return redirect(c, '/patterns');
  });

  return app;
}

// /api/patterns: admins create and change patterns (seed 000: "root admin
// only for pattern creation"); everyone signed in reads them, their
// versions and statistics.
import { Hono } from 'hono';
import { z } from 'zod';
import {
  createPattern, deletePattern, getPattern, getVersion, listPatterns, listVersions, restoreVersion, updatePattern,
} from '../../../core/patterns/patterns';
import { recentRuns } from '../../../core/patterns/pattern-runs';
import { code, patternInput, patternListQuery, patternPatch, versionNumber } from '../../../core/patterns/schemas';
import { actorOf } from '../../../core/access/users';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

const idParam = z.object({ id: z.uuid('Not a valid pattern id.') });
const versionParam = idParam.extend({ version: versionNumber });

export function patternRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const check = (source: string) => deps.sandbox.check(source);

  app.get('/', authorize('VIEWER'), valid('query', patternListQuery), async (c) => {
    const q = c.req.valid('query');
    const { items, total } = await listPatterns(deps.sql, q, currentWorkspace(c));
    return c.json({ patterns: items, total, limit: q.limit, offset: q.offset });
  });

  app.post('/', authorize('ADMIN'), valid('json', patternInput), async (c) => {
    const pattern = await createPattern(deps.sql, c.req.valid('json'), actorOf(c.get('user')!), check, currentWorkspace(c));
    return c.json({ pattern }, 201);
  });

  // Checks code against the pattern contract without saving or running it.
  app.post('/check', authorize('ADMIN'), valid('json', z.object({ code }).strict()), async (c) => {
    return c.json(await check(c.req.valid('json').code));
  });

  app.get('/:id', authorize('VIEWER'), valid('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    const ws = currentWorkspace(c);
    const [pattern, runs] = await Promise.all([getPattern(deps.sql, id, ws), recentRuns(deps.sql, id, 10, ws)]);
    return c.json({ pattern, recentRuns: runs });
  });

  app.on(['PUT', 'PATCH'], '/:id', authorize('ADMIN'), valid('param', idParam), valid('json', patternPatch), async (c) => {
    const pattern = await updatePattern(deps.sql, c.req.valid('param').id, c.req.valid('json'), actorOf(c.get('user')!), check, currentWorkspace(c));
    return c.json({ pattern });
  });

  app.delete('/:id', authorize('ADMIN'), valid('param', idParam), async (c) => {
    await deletePattern(deps.sql, c.req.valid('param').id, actorOf(c.get('user')!), currentWorkspace(c));
    return c.json({ deleted: true });
  });

  app.get('/:id/versions', authorize('VIEWER'), valid('param', idParam), async (c) => {
    return c.json({ versions: await listVersions(deps.sql, c.req.valid('param').id, currentWorkspace(c)) });
  });

  app.get('/:id/versions/:version', authorize('VIEWER'), valid('param', versionParam), async (c) => {
    const { id, version } = c.req.valid('param');
    return c.json({ version: await getVersion(deps.sql, id, version, currentWorkspace(c)) });
  });

  app.post('/:id/versions/:version/restore', authorize('ADMIN'), valid('param', versionParam), async (c) => {
    const { id, version } = c.req.valid('param');
    return c.json({ pattern: await restoreVersion(deps.sql, id, version, actorOf(c.get('user')!), currentWorkspace(c)) });
  });

  return app;
}

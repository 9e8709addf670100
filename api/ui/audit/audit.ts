// The workspace's audit log (/audit): newest first with keyset paging ("older"
// via ?before=<id>), filters by actor, action prefix and entity, and the result
// of walking the workspace's hash chain at the top of the page.
import { Hono } from 'hono';
import { z } from 'zod';
import { listAudit, verifyWorkspaceAudit } from '../../../core/audit/audit-log';
import { text } from '../../../lib/text';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';

const PER_PAGE = 50;
const empty = (v: unknown) => (typeof v === 'string' && !v.trim() ? undefined : v);
const filter = (max: number) => z.preprocess(empty, text().trim().max(max).optional());
const auditQuery = z.object({
  actor: filter(200),
  action: filter(200),
  entityType: filter(100),
  entityId: filter(200),
  before: z.preprocess(empty, z.coerce.number({ message: 'before must be an entry number.' }).int().min(1).optional()),
});

export function auditPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  app.get('/audit', authorize('VIEWER'), valid('query', auditQuery), async (c) => {
    const q = c.req.valid('query');
    const ws = currentWorkspace(c);
    const filters = { actor: q.actor, action: q.action, entityType: q.entityType, entityId: q.entityId };
    // The chain is walked for the full page only; a filter or "older" fragment shows just the entries.
    const partialOnly = c.req.header('HX-Request') === 'true' && c.req.header('HX-Boosted') !== 'true';
    const [entries, verification] = await Promise.all([
      listAudit(deps.sql, { ...filters, before: q.before, limit: PER_PAGE + 1 }, ws),
      partialOnly ? null : verifyWorkspaceAudit(deps.sql, ws),
    ]);
    const more = entries.length > PER_PAGE;
    const shown = entries.slice(0, PER_PAGE);
    return renderer.respond(c, { page: 'pages/audit/audit', partial: 'partials/audit/audit-list' }, {
      title: 'Audit log',
      entries: shown,
      filters,
      before: q.before,
      older: more ? Number(shown.at(-1)!.id) : null,
      verification,
      workspaceName: ws.name,
    });
  });

  return app;
}

// The caller's workspace's audit log, newest first, with keyset paging, and the
// verification of that workspace's chain (the whole chain is for whoever runs the instance).
import { Hono } from 'hono';
import { z } from 'zod';
import { listAudit, verifyWorkspaceAudit } from '../../../core/audit/audit-log';
import { text } from '../../../lib/text';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

export const auditQuerySchema = z.object({
  actor: text().max(200).optional(),
  action: text().max(200).optional(),
  entityType: text().max(100).optional(),
  entityId: text().max(200).optional(),
  before: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export function auditRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/', authorize('VIEWER'), valid('query', auditQuerySchema), async (c) => {
    const q = c.req.valid('query');
    const entries = await listAudit(deps.sql, q, currentWorkspace(c));
    const last = entries.at(-1);
    return c.json({ entries, next: entries.length === q.limit && last ? Number(last.id) : null });
  });

  // `checked` counts this workspace's entries; `brokenId` can only name one of them.
  app.get('/verify', authorize('VIEWER'), async (c) => {
    const ws = currentWorkspace(c);
    const { ok, checked, brokenId, reason } = await verifyWorkspaceAudit(deps.sql, ws);
    return c.json({ ok, checked, brokenId, reason, workspace: { id: ws.id, name: ws.name } });
  });

  return app;
}

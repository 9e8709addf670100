// /api/alerts (seed 001): what runs, agents and metric rules raised, newest
// first; operators acknowledge, resolve and take an alert's actions (each as
// its twin elsewhere is authorized). /api/alert-rules: the rules on agents'
// metrics that raise them (core/alerts/rules.ts).
import { Hono } from 'hono';
import { z } from 'zod';
import { takeAlertAction } from '../../../core/alerts/actions';
import { acknowledgeAlert, getAlert, listAlerts, resolveAlert } from '../../../core/alerts/alerts';
import { alertRulePatchSchema, alertRuleSchema, createRule, deleteRule, listRules, updateRule } from '../../../core/alerts/rules';
import { actorOf } from '../../../core/access/users';
import { noteText } from '../../../lib/text';
import { actingMember, currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

const listQuery = z.object({
  state: z.enum(['open', 'unresolved', 'resolved', 'all']).optional(),
  /** The first release's filter: open=true is state=open, open=false every alert. */
  open: z.enum(['true', 'false']).optional(),
  agentId: z.uuid('agentId must be an agent id (a UUID).').optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const byId = valid('param', z.object({ id: z.uuid('Not a valid alert id.') }));

export function alertRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.get('/', authorize('VIEWER'), valid('query', listQuery), async (c) => {
    const q = c.req.valid('query');
    const state = q.state ?? (q.open === 'false' ? 'all' : 'open');
    return c.json({ alerts: await listAlerts(deps.sql, { state, agentId: q.agentId, limit: q.limit }, currentWorkspace(c)) });
  });
  app.get('/:id', authorize('VIEWER'), byId, async (c) => {
    const { workspaceId: _ws, ...alert } = await getAlert(deps.sql, c.req.valid('param').id, currentWorkspace(c));
    return c.json({ alert });
  });
  app.post('/:id/ack', authorize('OPERATOR'), byId, async (c) => {
    const alert = await acknowledgeAlert(deps.sql, c.req.valid('param').id, actorOf(c.get('user')!), currentWorkspace(c));
    return c.json({ acknowledged: true, alert });
  });
  app.post('/:id/resolve', authorize('OPERATOR'), byId, valid('json', z.strictObject({ note: noteText().optional() })), async (c) => {
    const alert = await resolveAlert(deps.sql, c.req.valid('param').id, actorOf(c.get('user')!), currentWorkspace(c), c.req.valid('json').note);
    return c.json({ resolved: true, alert });
  });
  app.post('/:id/actions/:index', authorize('OPERATOR'), valid('param', z.object({ id: z.uuid('Not a valid alert id.'), index: z.coerce.number().int().min(0).max(4) })), async (c) => {
    const { ws, actor } = actingMember(c);
    const { id, index } = c.req.valid('param');
    return c.json({ outcome: await takeAlertAction(deps, id, index, actor, ws) });
  });
  return app;
}

export function alertRuleRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const ruleId = valid('param', z.object({ id: z.uuid('Not a valid alert rule id.') }));
  app.get('/', authorize('VIEWER'), async (c) => c.json({ rules: await listRules(deps.sql, currentWorkspace(c)) }));
  app.post('/', authorize('OPERATOR'), valid('json', alertRuleSchema), async (c) =>
    c.json({ rule: await createRule(deps.sql, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c)) }, 201));
  app.patch('/:id', authorize('OPERATOR'), ruleId, valid('json', alertRulePatchSchema), async (c) =>
    c.json({ rule: await updateRule(deps.sql, c.req.valid('param').id, c.req.valid('json'), actorOf(c.get('user')!), currentWorkspace(c)) }));
  app.delete('/:id', authorize('OPERATOR'), ruleId, async (c) => {
    await deleteRule(deps.sql, c.req.valid('param').id, actorOf(c.get('user')!), currentWorkspace(c));
    return c.body(null, 204);
  });
  return app;
}

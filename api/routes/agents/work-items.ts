// /api/agent/work-items: an agent's share of the task board (seed 002: agents
// move work to DOING and NEEDS_APPROVAL). An agent sees and works only the
// items it holds (`agentId`), as an operator would: DONE stays an admin's. An
// item held by anyone else is not found, and nothing changes.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { getWorkItem, listWorkItems, noteWorkItem, updateWorkItem } from '../../../core/board/work-items';
import { WORK_COLUMNS, workItemNoteSchema } from '../../../core/board/work-item-schemas';
import { NotFoundError } from '../../../lib/errors';
import { noteText } from '../../../lib/text';
import { currentAgent, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

const moveSchema = z.strictObject({ column: z.enum(WORK_COLUMNS), note: noteText().optional() });
const byId = valid('param', z.object({ id: z.uuid('Not a valid work item id.') }));

export function agentWorkItemRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const agent = authorize('agent');
  /** The agent as the actor of a change, and its item (404 unless it holds it). */
  const held = async (c: Context<AppEnv>, id: string) => {
    const me = currentAgent(c);
    const ws = { id: me.workspaceId };
    const item = await getWorkItem(deps.sql, id, ws);
    if (item.agentId !== me.id) throw new NotFoundError('Work item');
    return { ws, actor: { id: null, name: `agent:${me.name}`, role: 'OPERATOR' as const } };
  };

  app.get('/', agent, valid('query', z.object({ column: z.enum(WORK_COLUMNS).optional() })), async (c) => {
    const me = currentAgent(c);
    const items = await listWorkItems(deps.sql, { agentId: me.id, column: c.req.valid('query').column, limit: 200 }, { id: me.workspaceId });
    return c.json({ workItems: items });
  });
  app.post('/:id/move', agent, byId, valid('json', moveSchema), async (c) => {
    const { id } = c.req.valid('param');
    const { ws, actor } = await held(c, id);
    return c.json({ workItem: await updateWorkItem(deps.sql, id, c.req.valid('json'), actor, ws) });
  });
  app.post('/:id/notes', agent, byId, valid('json', workItemNoteSchema), async (c) => {
    const { id } = c.req.valid('param');
    const { ws, actor } = await held(c, id);
    return c.json({ event: await noteWorkItem(deps.sql, id, c.req.valid('json').note, actor, ws) }, 201);
  });
  return app;
}

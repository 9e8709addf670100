// Work items in the UI (seed 002's tasks): /work-items lists them by column,
// newest first with "older" paging; /work-items/new makes one (from a lead's or
// a draft's page it arrives linked to it); /work-items/:id shows what an item is
// about, its timeline, the moves the viewer's role may make (DONE is an
// admin's) and a note form. The board shows the same items in its columns.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { createWorkItem, getWorkItem, leastRoleToMove, listWorkItems, noteWorkItem, updateWorkItem, workItemTimeline } from '../../../core/board/work-items';
import { WORK_COLUMNS, workItemCreateSchema, workItemNoteSchema, type WorkColumn } from '../../../core/board/work-item-schemas';
import { PRIORITIES } from '../../../core/missions/schemas';
import { ValidationError } from '../../../lib/errors';
import { ROLE_RANK, type Role } from '../../../lib/names';
import { actingMember, currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { readForm, redirect, str, type FormValue } from '../common';
import { formProblem, raw } from '../form-problem';
import { cursor, idParam } from '../outreach/campaign-pages';
import { PER_PAGE, campaignChoices } from '../outreach/outreach-data';

export const COLUMN_WORDS: Record<WorkColumn, string> = { BACKLOG: 'Backlog', DOING: 'Doing', NEEDS_APPROVAL: 'Needs approval', DONE: 'Done' };

const empty = (v: unknown) => (typeof v === 'string' && !v.trim() ? undefined : v);
const listQuery = z.object({
  column: z.preprocess(empty, z.enum(WORK_COLUMNS, `Column: one of ${WORK_COLUMNS.join(', ')}.`).optional()),
  before: cursor,
});
/** /work-items/new?leadId=…: the links a new item starts with. */
const newQuery = z.object({
  campaignId: z.preprocess(empty, z.uuid().optional()),
  leadId: z.preprocess(empty, z.uuid().optional()),
  draftId: z.preprocess(empty, z.uuid().optional()),
});

const FIELDS = ['title', 'description', 'priority', 'column', 'campaignId', 'leadId', 'draftId', 'assignee'] as const;
type NewValues = Record<(typeof FIELDS)[number], string>;
const NEW_DEFAULTS: NewValues = { title: '', description: '', priority: 'medium', column: 'BACKLOG', campaignId: '', leadId: '', draftId: '', assignee: '' };

const newValues = (form: Record<string, FormValue>): NewValues =>
  Object.fromEntries(FIELDS.map((k) => [k, k === 'description' ? raw(form, k) : str(form, k)])) as NewValues;

/** The form's values as the API's create body, checked by the same schema (a 400 naming the field). */
function newInput(v: NewValues) {
  const r = workItemCreateSchema.safeParse(Object.fromEntries(Object.entries(v).filter(([, x]) => x.trim() !== '')));
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new ValidationError(`${issue.path.join('.') || 'Work item'}: ${issue.message}`);
}

/** The columns `role` may move an item to from `from`, and those it may not (with the role they need). */
export function itemMoves(from: WorkColumn, role: Role) {
  const others = WORK_COLUMNS.filter((c) => c !== from).map((to) => ({ to, least: leastRoleToMove(from, to) }));
  return { moves: others.filter((m) => ROLE_RANK[role] >= ROLE_RANK[m.least]), beyond: others.filter((m) => ROLE_RANK[role] < ROLE_RANK[m.least]) };
}

interface ItemForms { note: string; move: string; error?: { form: 'note' | 'move'; message: string } }
const FORMS: ItemForms = { note: '', move: '' };

export function workItemPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  app.get('/work-items', authorize('VIEWER'), valid('query', listQuery), async (c) => {
    const q = c.req.valid('query');
    const rows = await listWorkItems(deps.sql, { column: q.column, before: q.before, limit: PER_PAGE + 1 }, currentWorkspace(c));
    const items = rows.slice(0, PER_PAGE);
    return renderer.respond(c, { page: 'pages/board/work-items', partial: 'partials/board/work-item-list' }, {
      title: 'Work items', items, filters: { column: q.column }, before: q.before ?? null,
      older: rows.length > PER_PAGE ? items.at(-1)!.id : null, columns: WORK_COLUMNS, words: COLUMN_WORDS,
    });
  });

  const newPage = async (c: Context<AppEnv>, values: NewValues, error: string | null, status = 200) => {
    const { ws } = actingMember(c);
    return renderer.whole(c, 'pages/board/work-item-new', {
      title: 'New work item', values, error, campaigns: await campaignChoices(deps.sql, ws), priorities: PRIORITIES,
      columns: WORK_COLUMNS.filter((col) => ROLE_RANK[ws.role] >= ROLE_RANK[leastRoleToMove('BACKLOG', col)]), words: COLUMN_WORDS,
    }, status);
  };
  app.get('/work-items/new', authorize('OPERATOR'), valid('query', newQuery), (c) => newPage(c, { ...NEW_DEFAULTS, ...c.req.valid('query') }, null));
  app.post('/work-items', authorize('OPERATOR'), async (c) => {
    const values = newValues(await readForm(c));
    const { ws, actor } = actingMember(c);
    try {
      const { item } = await createWorkItem(deps.sql, newInput(values), actor, ws);
      return redirect(c, `/work-items/${item.id}`);
    } catch (err) {
      const p = formProblem(err);
      if (!p) throw err;
      return newPage(c, values, p.message, p.status);
    }
  });

  const page = async (c: Context<AppEnv>, id: string, forms: ItemForms = FORMS, status = 200) => {
    const ws = currentWorkspace(c);
    const [item, timeline] = await Promise.all([getWorkItem(deps.sql, id, ws), workItemTimeline(deps.sql, id, ws)]);
    return renderer.whole(c, 'pages/board/work-item', {
      title: item.title, item, timeline, forms, words: COLUMN_WORDS, ...itemMoves(item.column, ws.role),
    }, status);
  };
  app.get('/work-items/:id', authorize('VIEWER'), valid('param', idParam('work item')), (c) => page(c, c.req.valid('param').id));

  // The least role of the move itself is leastRoleToMove's: updateWorkItem checks it (a 403 naming admin for DONE).
  app.post('/work-items/:id/move', authorize('OPERATOR'), valid('param', idParam('work item')), async (c) => {
    const { id } = c.req.valid('param');
    const form = await readForm(c);
    const values = { move: str(form, 'column'), note: str(form, 'note') };
    const { ws, actor } = actingMember(c);
    try {
      const column = z.enum(WORK_COLUMNS, 'Choose a column to move the item to.').parse(values.move);
      await updateWorkItem(deps.sql, id, { column, ...(values.note ? { note: values.note } : {}) }, actor, ws);
      return redirect(c, `/work-items/${id}`);
    } catch (err) {
      const p = err instanceof z.ZodError ? { status: 400, message: err.issues[0]!.message } : formProblem(err);
      if (!p || p.status === 404) throw err;
      return page(c, id, { ...values, error: { form: 'move', message: p.message } }, p.status);
    }
  });

  app.post('/work-items/:id/notes', authorize('OPERATOR'), valid('param', idParam('work item')), async (c) => {
    const { id } = c.req.valid('param');
    const note = raw(await readForm(c), 'note');
    const { ws, actor } = actingMember(c);
    try {
      const r = workItemNoteSchema.safeParse({ note });
      if (!r.success) throw new ValidationError(r.error.issues[0]!.message);
      await noteWorkItem(deps.sql, id, r.data.note, actor, ws);
      return redirect(c, `/work-items/${id}`);
    } catch (err) {
      const p = formProblem(err);
      if (!p || p.status === 404) throw err;
      return page(c, id, { ...FORMS, note, error: { form: 'note', message: p.message } }, p.status);
    }
  });

  return app;
}

// Drafts in the UI (/drafts): filtered by campaign and status, those waiting
// for approval first (the filter starts there). A draft's page (/drafts/:id)
// shows its current version as text (never as HTML), its versions with a diff
// between any two, and its decisions; operators edit it (a new version) and
// submit it; admins make the five decisions on a draft waiting for approval.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { actorOf } from '../../../core/access/users';
import { decideDraftAnywhere } from '../../../core/outreach/gate';
import { getDraft, listDrafts, submitDraft, updateDraft } from '../../../core/outreach/drafts';
import { DRAFT_STATUSES, versionDiffQuery } from '../../../core/outreach/schemas';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { readForm, redirect } from '../common';
import { flashing, formProblem, isHtmx } from '../form-problem';
import { cursor, idParam } from './campaign-pages';
import { PER_PAGE, campaignChoices, draftRows, loadDiff, loadDraft } from './outreach-data';
import { decisionInput, decisionValues, draftInput, draftValues, type DecisionValues, type DraftValues } from './outreach-forms';
import { DECISION_WORDS, DRAFT_WORDS } from './outreach-words';

const empty = (v: unknown) => (typeof v === 'string' && !v.trim() ? undefined : v);
const listQuery = z.object({
  campaignId: z.preprocess(empty, z.uuid('Campaign: choose one of the campaigns listed.').optional()),
  // Without a status, the drafts waiting for approval; "all" for every status.
  status: z.preprocess((v) => (v === '' ? 'all' : v), z.enum([...DRAFT_STATUSES, 'all'], `Status: one of ${DRAFT_STATUSES.join(', ')} or all.`).default('NEEDS_APPROVAL')),
  before: cursor,
});

/** What the draft page's forms hold, and what went wrong with the last post. */
export interface DraftForms { edit?: DraftValues; decision?: DecisionValues; error?: { form: 'edit' | 'decision' | 'inline'; message: string } }

export function draftPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();
  const byId = valid('param', idParam('draft'));

  app.get('/drafts', authorize('VIEWER'), valid('query', listQuery), async (c) => {
    const q = c.req.valid('query');
    const ws = currentWorkspace(c);
    const status = q.status === 'all' ? undefined : q.status;
    const [rows, campaigns] = await Promise.all([listDrafts(deps.sql, { campaignId: q.campaignId, status, before: q.before, limit: PER_PAGE + 1 }, ws), campaignChoices(deps.sql, ws)]);
    const shown = rows.slice(0, PER_PAGE);
    return renderer.respond(c, { page: 'pages/outreach/drafts', partial: 'partials/outreach/draft-list' }, {
      title: 'Drafts', drafts: await draftRows(deps.sql, shown, campaigns, ws), filters: { campaignId: q.campaignId, status: q.status },
      before: q.before ?? null, older: rows.length > PER_PAGE ? shown.at(-1)!.id : null, campaigns, statuses: DRAFT_STATUSES, words: DRAFT_WORDS,
    });
  });

  const page = async (c: Context<AppEnv>, id: string, range: { from?: number; to?: number } = {}, forms: DraftForms = {}, status = 200) => {
    const data = await loadDraft(deps.sql, id, currentWorkspace(c), range);
    return renderer.respond(c, { page: 'pages/outreach/draft', partial: 'partials/outreach/draft-overview' }, {
      title: data.draft.subject || 'Draft', ...data, forms, words: DRAFT_WORDS, decisionWords: DECISION_WORDS,
    }, status);
  };

  app.get('/drafts/:id', authorize('VIEWER'), byId, valid('query', versionDiffQuery), (c) => page(c, c.req.valid('param').id, c.req.valid('query')));

  // The diff between two versions: htmx gets it in place, a plain request the page showing it.
  app.get('/drafts/:id/diff', authorize('VIEWER'), byId, valid('query', versionDiffQuery), async (c) => {
    const { id } = c.req.valid('param');
    if (!isHtmx(c)) return page(c, id, c.req.valid('query'));
    const ws = currentWorkspace(c);
    const draft = await getDraft(deps.sql, id, ws);
    const diff = await loadDiff(deps.sql, draft, c.req.valid('query'), ws);
    return renderer.fragment(c, 'partials/outreach/draft-diff', { draft, diff });
  });

  /** A refused form: htmx gets the form in place (200, so that it is swapped), a plain post the whole page with the status. */
  const refused = async (c: Context<AppEnv>, id: string, forms: DraftForms, status: number) => {
    if (!isHtmx(c)) return page(c, id, {}, forms, status);
    const data = await loadDraft(deps.sql, id, currentWorkspace(c));
    const partial = forms.error?.form === 'edit' ? 'partials/outreach/draft-edit' : forms.error?.form === 'inline' ? 'partials/outreach/draft-inline' : 'partials/outreach/draft-decide';
    return renderer.fragment(c, partial, { ...data, forms, decisionWords: DECISION_WORDS });
  };

  app.post('/drafts/:id', authorize('OPERATOR'), byId, async (c) => {
    const { id } = c.req.valid('param');
    const values = draftValues(await readForm(c));
    try {
      await updateDraft(deps.sql, id, draftInput(values), actorOf(c.get('user')!), currentWorkspace(c));
      return redirect(c, `/drafts/${id}`);
    } catch (err) {
      const p = formProblem(err);
      if (!p || p.status === 404) throw err;
      return refused(c, id, { edit: values, error: { form: 'edit', message: p.message } }, p.status);
    }
  });

  app.post('/drafts/:id/submit', authorize('OPERATOR'), byId, async (c) => {
    const { id } = c.req.valid('param');
    await flashing(c, () => submitDraft(deps.sql, id, actorOf(c.get('user')!), currentWorkspace(c)));
    return redirect(c, `/drafts/${id}`);
  });

  app.post('/drafts/:id/decide', authorize('ADMIN'), byId, async (c) => {
    const { id } = c.req.valid('param');
    const ws = currentWorkspace(c);
    const values = decisionValues(await readForm(c));
    try {
      const { action, input } = decisionInput(values);
      await decideDraftAnywhere(deps.sql, deps.temporal, id, action, input, { ...actorOf(c.get('user')!), role: ws.role }, ws);
      return redirect(c, `/drafts/${id}`);
    } catch (err) {
      const p = formProblem(err);
      if (!p || p.status === 404) throw err;
      const form = values.action === 'EDIT_INLINE_APPROVE' ? 'inline' : 'decision';
      return refused(c, id, { decision: values, error: { form, message: p.message } }, p.status);
    }
  });

  return app;
}

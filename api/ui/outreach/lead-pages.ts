// Leads in the UI (/leads): a table filtered by campaign, status and effective
// score, newest first with "older" paging. A lead's page (/leads/:id) shows its
// effective score and the override behind it (who, when, why); admins override
// it, always with a reason. The moves of LEAD_TRANSITIONS the viewer's role may
// make are buttons, with an optional note (moveLead checks the role again).
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { actorOf } from '../../../core/access/users';
import { moveLead, overrideScore } from '../../../core/outreach/leads';
import { LEAD_SCORES, LEAD_STATUSES } from '../../../core/outreach/schemas';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { readForm, redirect } from '../common';
import { formProblem, isHtmx } from '../form-problem';
import { listLeads } from '../../../core/outreach/leads';
import { cursor, idParam } from './campaign-pages';
import { PER_PAGE, campaignChoices, loadLead } from './outreach-data';
import { MOVE_DEFAULTS, OVERRIDE_DEFAULTS, moveInput, moveValues, overrideInput, overrideValues, type MoveValues, type OverrideValues } from './outreach-forms';
import { DRAFT_WORDS, LEAD_WORDS } from './outreach-words';

const empty = (v: unknown) => (typeof v === 'string' && !v.trim() ? undefined : v);
const listQuery = z.object({
  campaignId: z.preprocess(empty, z.uuid('Campaign: choose one of the campaigns listed.').optional()),
  status: z.preprocess(empty, z.enum(LEAD_STATUSES, `Status: one of ${LEAD_STATUSES.join(', ')}.`).optional()),
  score: z.preprocess(empty, z.enum(LEAD_SCORES, 'Score: A, B or C.').optional()),
  before: cursor,
});

/** What the lead page's two forms hold, and what went wrong with the last post. */
export interface LeadForms { override: OverrideValues; move: MoveValues; error?: { form: 'override' | 'move'; message: string } }
const FORMS: LeadForms = { override: OVERRIDE_DEFAULTS, move: MOVE_DEFAULTS };

export function leadPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  app.get('/leads', authorize('VIEWER'), valid('query', listQuery), async (c) => {
    const q = c.req.valid('query');
    const ws = currentWorkspace(c);
    const filters = { campaignId: q.campaignId, status: q.status, score: q.score };
    const [rows, campaigns] = await Promise.all([listLeads(deps.sql, { ...filters, before: q.before, limit: PER_PAGE + 1 }, ws), campaignChoices(deps.sql, ws)]);
    const leads = rows.slice(0, PER_PAGE);
    return renderer.respond(c, { page: 'pages/outreach/leads', partial: 'partials/outreach/lead-list' }, {
      title: 'Leads', leads, filters, before: q.before ?? null, older: rows.length > PER_PAGE ? leads.at(-1)!.id : null,
      campaigns, statuses: LEAD_STATUSES, scores: LEAD_SCORES, words: LEAD_WORDS,
    });
  });

  const page = async (c: Context<AppEnv>, id: string, forms: LeadForms = FORMS, status = 200) => {
    const ws = currentWorkspace(c);
    const data = await loadLead(deps.sql, id, ws.role, ws);
    return renderer.respond(c, { page: 'pages/outreach/lead', partial: 'partials/outreach/lead-overview' }, {
      title: data.lead.name, ...data, forms, scores: LEAD_SCORES, words: LEAD_WORDS, draftWords: DRAFT_WORDS,
    }, status);
  };

  /** A refused form: htmx gets the form's region in place (200, so that it is swapped), a plain post the whole page with the status. */
  const refused = async (c: Context<AppEnv>, id: string, forms: LeadForms, status: number) => {
    if (!isHtmx(c)) return page(c, id, forms, status);
    const ws = currentWorkspace(c);
    const data = await loadLead(deps.sql, id, ws.role, ws);
    const partial = forms.error?.form === 'override' ? 'partials/outreach/lead-score' : 'partials/outreach/lead-moves';
    return renderer.fragment(c, partial, { ...data, forms, scores: LEAD_SCORES, words: LEAD_WORDS });
  };

  app.get('/leads/:id', authorize('VIEWER'), valid('param', idParam('lead')), (c) => page(c, c.req.valid('param').id));

  app.post('/leads/:id/score-override', authorize('ADMIN'), valid('param', idParam('lead')), async (c) => {
    const { id } = c.req.valid('param');
    const ws = currentWorkspace(c);
    const values = overrideValues(await readForm(c));
    try {
      await overrideScore(deps.sql, id, overrideInput(values), { ...actorOf(c.get('user')!), role: ws.role }, ws);
      return redirect(c, `/leads/${id}`);
    } catch (err) {
      const p = formProblem(err);
      if (!p || p.status === 404) throw err;
      return refused(c, id, { ...FORMS, override: values, error: { form: 'override', message: p.message } }, p.status);
    }
  });

  // The least role of the move itself is LEAD_TRANSITIONS's: moveLead checks it (a 403 naming the role it needs).
  app.post('/leads/:id/status', authorize('CLOSER'), valid('param', idParam('lead')), async (c) => {
    const { id } = c.req.valid('param');
    const ws = currentWorkspace(c);
    const values = moveValues(await readForm(c));
    try {
      await moveLead(deps.sql, id, moveInput(values), { ...actorOf(c.get('user')!), role: ws.role }, ws);
      return redirect(c, `/leads/${id}`);
    } catch (err) {
      const p = formProblem(err);
      if (!p || p.status === 404) throw err;
      return refused(c, id, { ...FORMS, move: values, error: { form: 'move', message: p.message } }, p.status);
    }
  });

  return app;
}

// Campaigns in the UI (/campaigns): each with its status, channels and its
// leads and drafts by status as small bar charts, newest first with "older"
// paging; operators create one (a draft) and activate it. A campaign's page
// (/campaigns/:id) shows its numbers as charts, its leads and its drafts.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { actorOf } from '../../../core/access/users';
import { activateCampaign, createCampaign } from '../../../core/outreach/campaigns';
import { OUTREACH_CHANNELS } from '../../../core/outreach/schemas';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { readForm, redirect } from '../common';
import { flashing, formProblem, isHtmx } from '../form-problem';
import { loadCampaign, loadCampaignList } from './outreach-data';
import { CAMPAIGN_DEFAULTS, campaignInput, campaignValues, type CampaignValues } from './outreach-forms';
import { CAMPAIGN_WORDS, DRAFT_WORDS, LEAD_WORDS } from './outreach-words';

export const idParam = (what: string) => z.object({ id: z.uuid(`Not a valid ${what} id.`) });
const empty = (v: unknown) => (typeof v === 'string' && !v.trim() ? undefined : v);
export const cursor = z.preprocess(empty, z.uuid('before is the id of the last row of the previous page.').optional());
const listQuery = z.object({ before: cursor });

export interface CampaignFormState { values: CampaignValues; error?: string }

export function campaignPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  const page = async (c: Context<AppEnv>, before: string | undefined, form: CampaignFormState = { values: CAMPAIGN_DEFAULTS }, status = 200) => {
    const list = await loadCampaignList(deps.sql, currentWorkspace(c), before);
    return renderer.respond(c, { page: 'pages/outreach/campaigns', partial: 'partials/outreach/campaign-list' }, {
      title: 'Campaigns', list, before: before ?? null, form, channels: OUTREACH_CHANNELS, words: CAMPAIGN_WORDS,
    }, status);
  };

  app.get('/campaigns', authorize('VIEWER'), valid('query', listQuery), (c) => page(c, c.req.valid('query').before));

  app.post('/campaigns', authorize('OPERATOR'), async (c) => {
    const values = campaignValues(await readForm(c));
    try {
      const campaign = await createCampaign(deps.sql, campaignInput(values), actorOf(c.get('user')!), currentWorkspace(c));
      return redirect(c, `/campaigns/${campaign.id}`);
    } catch (err) {
      const p = formProblem(err);
      if (!p || p.status === 404) throw err;
      const form = { values, error: p.message };
      // htmx swaps only a 2xx: the form comes back in place with its message; a plain post gets the page with the status.
      if (isHtmx(c)) return renderer.fragment(c, 'partials/outreach/campaign-form', { form, channels: OUTREACH_CHANNELS });
      return page(c, undefined, form, p.status);
    }
  });

  app.get('/campaigns/:id', authorize('VIEWER'), valid('param', idParam('campaign')), async (c) => {
    const data = await loadCampaign(deps.sql, c.req.valid('param').id, currentWorkspace(c));
    return renderer.respond(c, { page: 'pages/outreach/campaign', partial: 'partials/outreach/campaign-overview' }, {
      title: data.campaign.name, ...data, words: CAMPAIGN_WORDS, leadWords: LEAD_WORDS, draftWords: DRAFT_WORDS,
    });
  });

  // A refusal (no channel, archived) is the error page for a plain post, a flash for htmx.
  app.post('/campaigns/:id/activate', authorize('OPERATOR'), valid('param', idParam('campaign')), async (c) => {
    const { id } = c.req.valid('param');
    await flashing(c, () => activateCampaign(deps.sql, id, actorOf(c.get('user')!), currentWorkspace(c)));
    return redirect(c, `/campaigns/${id}`);
  });

  return app;
}

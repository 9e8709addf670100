// Outreach in the UI: campaigns (/campaigns), leads (/leads) and drafts
// (/drafts), each a list and a page per record, over core/outreach. Every
// change is a form post that htmx enhances; everything is in the session's workspace.
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../../context';
import type { Renderer } from '../../render';
import { campaignPages } from './campaign-pages';
import { draftPages } from './draft-pages';
import { leadPages } from './lead-pages';

export function outreachPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();
  app.route('/', campaignPages(deps, renderer));
  app.route('/', leadPages(deps, renderer));
  app.route('/', draftPages(deps, renderer));
  return app;
}

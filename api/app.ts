// The Hono application: middleware in order, then one route module per
// resource. Tests call `createApp(deps).request()` directly.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { csrf } from 'hono/csrf';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { AppError } from '../lib/errors';
import { currentWorkspace, isApiPath, type AppDeps, type AppEnv } from './context';
import { authenticate } from './middleware/authenticate';
import { csrfToken } from './middleware/csrf-token';
import { errorHandler, notFoundHandler } from './middleware/errors';
import { readInput } from './middleware/read-input';
import { requestLog } from './middleware/request-log';
import { createRenderer, type Renderer } from './render';
import { accessRoutes } from './routes/access/access';
import { openApiDocument } from './openapi';
import { authorize } from './middleware/authorize';
import { APP_VERSION } from './health-checks';
import { workspaceRoutes } from './routes/access/workspaces';
import { alertRoutes, alertRuleRoutes } from './routes/alerts/alerts';
import { agentConfigurationRoutes, agentDefinitionRoutes, agentRoutes } from './routes/agents/agents';
import { agentProtocolRoutes } from './routes/agents/protocol';
import { auditRoutes } from './routes/audit/audit';
import { campaignRoutes } from './routes/outreach/campaigns';
import { draftRoutes } from './routes/outreach/drafts';
import { workItemRoutes } from './routes/board/tasks';
import { createMetricsReader } from '../core/system/prometheus';
import { commentRoutes } from './routes/collab/comments';
import { notificationRoutes } from './routes/collab/notifications';
import { playbookRoutes } from './routes/collab/playbooks';
import { workItemPages } from './ui/board/work-item-pages';
import { inboxPages } from './ui/collab/inbox';
import { commentPanels } from './ui/collab/comments';
import { leadRoutes } from './routes/outreach/leads';
import { eventRoutes, liveRoutes } from './routes/events/events';
import { containerRoutes } from './routes/patterns/containers';
import { injectRoutes } from './routes/patterns/inject';
import { missionRunRoutes } from './routes/missions/actions';
import { missionRoutes } from './routes/missions/missions';
import { runRoutes } from './routes/runs/runs';
import { batchRunRoutes } from './routes/runs/batch';
import { scheduleRoutes } from './routes/schedules/schedules';
import { schedulerRoutes } from './routes/scheduler/scheduler';
import { patternRoutes } from './routes/patterns/patterns';
import { safetyRoutes } from './routes/safety/safety';
import { healthRoutes } from './routes/system/health';
import { staticRoutes } from './routes/system/static';
import { authRoutes } from './ui/access/auth';
import { boardRoutes } from './ui/board/board';
import { missionPages } from './ui/missions/missions';
import { runPages } from './ui/runs/runs';
import { runListPages } from './ui/runs/runs-list';
import { approvalPages } from './ui/runs/approvals';
import { layoutGlobals } from './ui/common';
import { shellRoutes } from './ui/system/shell';
import { patternPages } from './ui/patterns/patterns';
import { schedulePages } from './ui/schedules/schedules';
import { auditPages } from './ui/audit/audit';
import { settingsPages } from './ui/safety/settings';
import { workspacePages } from './ui/access/workspaces';
import { agentPages } from './ui/agents/agents';
import { outreachPages } from './ui/outreach/outreach';

export const SESSION_COOKIE = 'mc_session';
const MAX_BODY_BYTES = 1024 * 1024;

export interface CreatedApp {
  app: Hono<AppEnv>;
  renderer: Renderer;
}

export function createApp(deps: AppDeps): CreatedApp {
  const app = new Hono<AppEnv>();
  const renderer = createRenderer({ globals: layoutGlobals(deps) });
  const cookieName = deps.config.MC_COOKIE_SECURE ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;

  app.use(requestId({ headerName: 'X-Request-Id', limitLength: 64 }));
  app.use(requestLog(deps.logger));
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      referrerPolicy: 'same-origin',
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new AppError(413, 'payload_too_large', `The request body is larger than ${MAX_BODY_BYTES / 1024} KiB.`);
      },
    }),
  );
  app.use(authenticate({ sql: deps.sql, sessionSecret: deps.sessionSecret, cookieName }));
  const sameOrigin = csrf(deps.config.MC_PUBLIC_URL ? { origin: new URL(deps.config.MC_PUBLIC_URL).origin } : {});
  app.use(async (c, next) => (isApiPath(c.req.path) ? next() : sameOrigin(c, next)));
  // Every query and body, read and held to one rule, before any route (and the CSRF token check) reads them.
  app.use(readInput());
  app.use(csrfToken());

  app.route('/health', healthRoutes(deps));
  // Prometheus' text for an operator's scraper (an API token of the workspace): core/system/prometheus.ts.
  const metrics = createMetricsReader(deps.sql, deps.temporal, () => deps.sandbox.stats());
  app.get('/metrics', authorize('OPERATOR'), async (c) => c.text(await metrics(currentWorkspace(c)), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }));
  app.route('/static', staticRoutes());
  app.route('/api', accessRoutes(deps));
  app.route('/api', workspaceRoutes(deps));
  app.route('/api/audit', auditRoutes(deps));
  app.route('/api/containers', containerRoutes(deps));
  app.route('/api/patterns', patternRoutes(deps));
  app.route('/api', injectRoutes(deps));
  app.route('/api/settings/safety', safetyRoutes(deps));
  app.route('/api/missions', missionRoutes(deps));
  app.route('/api/missions', missionRunRoutes(deps));
  app.route('/api', runRoutes(deps));
  app.route('/api', batchRunRoutes(deps));
  app.route('/api/schedules', scheduleRoutes(deps));
  app.route('/api/scheduler', schedulerRoutes(deps));
  app.route('/api/alerts', alertRoutes(deps));
  app.route('/api/alert-rules', alertRuleRoutes(deps));
  app.route('/api/agent', agentProtocolRoutes(deps));
  app.route('/api/agents', agentRoutes(deps));
  app.route('/api/agent-definitions', agentDefinitionRoutes(deps));
  app.route('/api/agent-configurations', agentConfigurationRoutes(deps));
  app.route('/api/campaigns', campaignRoutes(deps));
  app.route('/api/leads', leadRoutes(deps));
  app.route('/api/drafts', draftRoutes(deps));
  app.route('/api/tasks', workItemRoutes(deps));
  app.route('/api/comments', commentRoutes(deps));
  app.route('/api/notifications', notificationRoutes(deps));
  app.route('/api/playbooks', playbookRoutes(deps));
  app.route('/api/events', eventRoutes(deps));
  app.route('/live', liveRoutes(deps));
  app.route('/', authRoutes(deps, renderer, cookieName));
  app.route('/', shellRoutes(deps, renderer));
  app.route('/', boardRoutes(deps, renderer));
  app.route('/', runListPages(deps, renderer));
  app.route('/', runPages(deps, renderer));
  app.route('/', approvalPages(deps, renderer));
  app.route('/', missionPages(deps, renderer));
  // UI pages for patterns, schedules, audit and settings are registered below.
  app.route('/', patternPages(deps, renderer));
  app.route('/', schedulePages(deps, renderer));
  app.route('/', auditPages(deps, renderer));
  app.route('/', settingsPages(deps, renderer));
  app.route('/', workspacePages(deps, renderer));
  app.route('/', agentPages(deps, renderer));
  app.route('/', outreachPages(deps, renderer));
  app.route('/', workItemPages(deps, renderer));
  app.route('/', inboxPages(deps, renderer));
  app.route('/', commentPanels(deps, renderer));
  // Read from the routes above, once: the document is the code.
  let openApi: Record<string, unknown> | undefined;
  app.get('/api/openapi.json', authorize('public'), (c) => c.json((openApi ??= openApiDocument(app, APP_VERSION))));

  app.onError(errorHandler(deps.logger, renderer));
  app.notFound(notFoundHandler(renderer));
  return { app, renderer };
}

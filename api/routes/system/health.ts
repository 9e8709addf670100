// /health, /health/live, /health/ready (public) and /health/detailed (admins).
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../../context';
import { checkHealth } from '../../health-checks';
import { authorize } from '../../middleware/authorize';

export function healthRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.get('/', authorize('public'), (c) => c.json({ status: 'ok' }));

  app.get('/live', authorize('public'), (c) => c.json({ status: 'ok', uptimeMs: Date.now() - deps.startedAt.getTime() }));

  app.get('/ready', authorize('public'), async (c) => {
    const health = await checkHealth(deps);
    const body = {
      status: health.status,
      checks: Object.fromEntries(health.checks.map((ch) => [ch.name, { ok: ch.ok, ...(ch.ok ? {} : { detail: ch.detail }) }])),
    };
    return c.json(body, health.status === 'ready' ? 200 : 503);
  });

  app.get('/detailed', authorize('ADMIN'), async (c) => {
    const health = await checkHealth(deps);
    const mem = process.memoryUsage();
    return c.json({
        status: health.status,
        version: health.version,
        node: process.version,
        uptimeMs: health.uptimeMs,
        startedAt: deps.startedAt.toISOString(),
        memory: { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external },
        dependencies: Object.fromEntries(
          health.checks.map((ch) => [
            ch.name,
            { ok: ch.ok, latencyMs: Math.round(ch.latencyMs * 10) / 10, ...(ch.version ? { version: ch.version } : {}), detail: ch.detail },
          ]),
        ),
        taskQueue: deps.temporal.taskQueue,
        namespace: deps.temporal.namespace,
      });
  });

  return app;
}

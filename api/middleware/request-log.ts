// One log line per request, with its id, the user, the status and the time taken.
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../lib/logger';
import type { AppEnv } from '../context';

/** Requests that come all the time (probes, a fleet's heartbeats): logged at debug when they succeed. */
const QUIET = new Set(['/health/live', '/health/ready', '/api/agent/heartbeat']);

export function requestLog(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const path = c.req.path;
    if (path.startsWith('/static/')) return;
    const status = c.res.status;
    const entry = {
      reqId: c.get('requestId'),
      method: c.req.method,
      path,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      user: c.get('user')?.username,
    };
    if (status >= 500) logger.error(entry, 'request');
    else if (QUIET.has(path) && status < 400) logger.debug(entry, 'request');
    else logger.info(entry, 'request');
  };
}

// What every request handler can reach: the process's dependencies and the
// per-request variables the middleware sets.
import type { Sql } from '../db/sql';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { TemporalHandle } from '../lib/temporal';
import type { User } from '../core/access/users';
import type { Adapters } from '../core/safety/outbound';
import type { SandboxPool } from '../activities/sandbox/pool';

export interface AppDeps {
  sql: Sql;
  temporal: TemporalHandle;
  logger: Logger;
  config: Config;
  sessionSecret: string;
  startedAt: Date;
  /** Runs patterns for inject and checks their code as it is saved. */
  sandbox: SandboxPool;
  adapters: Adapters;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    user: User | null;
    session: { id: string; csrfToken: string } | null;
  };
}

/** API routes answer JSON; everything else is the HTML UI. */
export function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

/** Paths that answer JSON (errors included) and accept bearer tokens: the API and health. */
export function isJsonPath(path: string): boolean {
  return isApiPath(path) || path === '/health' || path.startsWith('/health/');
}

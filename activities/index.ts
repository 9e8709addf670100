// The worker's activities, built from real dependencies by one factory.
import type { Sql } from '../db/sql';
import type { Adapters } from './outbound';
import type { SandboxPool } from './sandbox';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';

export interface ActivityDeps {
  sql: Sql;
  logger: Logger;
  config: Config;
  sandbox: SandboxPool;
  adapters: Adapters;
}

export function createActivities(deps: ActivityDeps) {
  void deps;
  const activities = {};
  return { activities, close: async () => {} };
}

export type MissionActivities = ReturnType<typeof createActivities>['activities'];

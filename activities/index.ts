// The worker's activities, built from real dependencies by one factory.
import type { Sql } from '../db/sql';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import { createMissionActivities } from './mission-activities';
import type { Adapters } from '../core/safety/outbound';
import type { SandboxPool } from './sandbox';

export interface ActivityDeps {
  sql: Sql;
  logger: Logger;
  config: Config;
  sandbox: SandboxPool;
  adapters: Adapters;
}

export function createActivities(deps: ActivityDeps) {
  const activities = createMissionActivities(deps);
  // The sandbox and the pool are owned by whoever created them; nothing to close here.
  return { activities, close: async () => {} };
}

// The worker's activities, built from real dependencies by one factory.
import type { Sql } from '../db/sql';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import { createMissionActivities } from './mission-activities';
import { createAgentActivities } from './agent-activities';
import type { Adapters } from '../core/safety/outbound';
import type { PatternSandbox } from '../core/patterns/sandbox';
import type { RunHistoryReader } from './mission-activities';

export interface ActivityDeps {
  sql: Sql;
  logger: Logger;
  config: Config;
  sandbox: PatternSandbox;
  adapters: Adapters;
  /** Reads a run's history (who cancelled it and why); the worker's own Temporal connection. */
  history?: RunHistoryReader;
}

export function createActivities(deps: ActivityDeps) {
  const activities = {
    ...createMissionActivities(deps),
    ...createAgentActivities({ sql: deps.sql, signingKey: deps.config.MC_AGENT_SIGNING_KEY, commandRateLimit: deps.config.MC_AGENT_COMMAND_RATE_LIMIT }),
  };
  // The sandbox and the pool are owned by whoever created them; nothing to close here.
  return { activities, close: async () => {} };
}

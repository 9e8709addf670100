// "Temporal is down" for a test: a client pointed at a closed port with no
// retries (so a call fails at once, as UNAVAILABLE), and the app over it,
// sharing the test's database; plus the deps the reconciler runs with.
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/app';
import type { ReconcileDeps } from '../../core/schedules/reconcile';
import { freePort } from '../../lib/ports';
import type { TemporalHandle } from '../../lib/temporal';
import { apiClient, type ApiClient, type TestApp } from './app';

export async function unreachableTemporal(t: TestApp): Promise<TemporalHandle> {
  const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, interceptors: [] });
  return { connection, client: new Client({ connection, namespace: t.config.TEMPORAL_NAMESPACE }), namespace: t.config.TEMPORAL_NAMESPACE, taskQueue: t.config.TEMPORAL_TASK_QUEUE };
}

/** The same app and database with Temporal unreachable; `as(client)` makes requests with that client's token. */
export async function appWithTemporalDown(t: TestApp): Promise<{ app: TestApp['app']; temporal: TemporalHandle; as(client: ApiClient): ApiClient; close(): Promise<void> }> {
  const temporal = await unreachableTemporal(t);
  const down: TestApp = { ...t, app: createApp({ ...t.deps, temporal }).app };
  return { app: down.app, temporal, as: (client) => apiClient(down, client.token), close: () => temporal.connection.close() };
}

/** The test's Temporal, except that visibility still lists runs that have ended as open (as it may for a moment). */
export function laggingVisibility(t: TestApp): TemporalHandle {
  const real = t.deps.temporal;
  const list = real.client.workflow.list.bind(real.client.workflow);
  const workflow = Object.create(real.client.workflow, {
    list: { value: (opts: { query: string }) => list({ ...opts, query: opts.query.replace(/ AND ExecutionStatus = 'Running'/g, '') }) },
  });
  return { ...real, client: Object.create(real.client, { workflow: { value: workflow } }) };
}

export const reconcileDeps = (t: TestApp, temporal = t.deps.temporal): ReconcileDeps => ({ sql: t.db.sql, temporal, logger: t.deps.logger });

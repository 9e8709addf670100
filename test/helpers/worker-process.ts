// A worker in its own process, so a test can kill it hard (SIGKILL) in the
// middle of a mission and start another. Configured by environment:
// DATABASE_URL (owner URL of the test database), TEMPORAL_ADDRESS,
// TEMPORAL_TASK_QUEUE and WORKFLOW_BUNDLE. With WORKER_STANDBY=1 it loads its
// code and sandbox, prints "worker loaded", and starts only when a line of
// JSON arrives on stdin (environment variables to add): a replacement ready at
// once, since loading takes seconds (tens on a busy machine).
import { createInterface } from 'node:readline';
import { createAdapters } from '../../activities/adapters';
import { createSandbox } from '../../activities/sandbox';
import { createSql } from '../../db/sql';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { startMissionWorker } from '../../worker';

const configure = (env: NodeJS.ProcessEnv) =>
  loadConfig({ ...env, MC_SANDBOX_THREADS: '2', LOG_LEVEL: env.LOG_LEVEL ?? 'warn', LOG_FORMAT: 'json' });
let config = configure(process.env);
const sandbox = createSandbox(config);
if (process.env.WORKER_STANDBY === '1') {
  process.stdout.write('worker loaded\n');
  const lines = createInterface({ input: process.stdin });
  const [line] = await lines[Symbol.asyncIterator]().next().then((r) => [r.value as string | undefined]);
  lines.close();
  if (line === undefined) process.exit(0); // stdin closed: never needed
  config = configure({ ...process.env, ...(JSON.parse(line) as Record<string, string>) });
}
const sql = createSql(config.DATABASE_URL!);
const worker = await startMissionWorker({
  config, sql, logger: createLogger({ level: config.LOG_LEVEL, format: 'json' }), address: config.TEMPORAL_ADDRESS!,
  sandbox, adapters: createAdapters(config), workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE! }, identity: `test-worker-${process.pid}`,
});
process.stdout.write('worker ready\n');
process.once('SIGTERM', () => void worker.stop());
await worker.done;
await sandbox.close();
await sql.end();

// A worker in its own process, so a test can kill it hard (SIGKILL) in the
// middle of a mission and start another. Configured by environment:
// DATABASE_URL (owner URL of the test database), TEMPORAL_ADDRESS,
// TEMPORAL_TASK_QUEUE and WORKFLOW_BUNDLE.
import { createAdapters } from '../../core/safety/outbound';
import { createSandbox } from '../../activities/sandbox';
import { createSql } from '../../db/sql';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { startMissionWorker } from '../../worker';

const config = loadConfig({ ...process.env, MC_SANDBOX_THREADS: '2', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', LOG_FORMAT: 'json' });
const sql = createSql(config.DATABASE_URL!);
const sandbox = createSandbox(config);
const worker = await startMissionWorker({
  config, sql, logger: createLogger({ level: config.LOG_LEVEL, format: 'json' }), address: config.TEMPORAL_ADDRESS!,
  sandbox, adapters: createAdapters(config), workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE! }, identity: `test-worker-${process.pid}`,
});
process.stdout.write('worker ready\n');
process.once('SIGTERM', () => void worker.stop());
await worker.done;
await sandbox.close();
await sql.end();

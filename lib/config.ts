// Configuration from the environment, validated once. The README's
// configuration table lists exactly these variables.
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from './names';

const port = z.coerce.number().int().min(0).max(65535);
const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v ? v : undefined));

const schema = z.object({
  PORT: port.default(3000),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: optionalString,
  MC_DATA_DIR: z.string().default('.data'),
  MC_PG_PORT: port.default(5433),
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  MC_TEMPORAL_PORT: port.default(7233),
  MC_TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_CLI: optionalString,
  MC_ADMIN_USERNAME: z.string().min(1).default('admin'),
  MC_ADMIN_PASSWORD: optionalString,
  MC_ADMIN_TOKEN: optionalString,
  MC_SESSION_SECRET: optionalString,
  MC_COOKIE_SECURE: flag.default(false),
  MC_TRUST_PROXY: flag.default(false),
  MC_PUBLIC_URL: optionalString,
  MC_SANDBOX_THREADS: z.coerce.number().int().min(0).max(64).default(0),
  MC_SANDBOX_MEMORY_MB: z.coerce.number().int().min(16).max(4096).default(64),
  MC_INJECT_RATE_LIMIT: z.coerce.number().int().min(1).default(60),
  MC_WEBHOOK_URL: optionalString,
  MC_AGENT_SIGNING_KEY: optionalString,
  MC_AGENT_COMMAND_RATE_LIMIT: z.coerce.number().int().min(1).default(30),
  MC_AGENT_REQUEST_RATE_LIMIT: z.coerce.number().int().min(1).default(20),
  MC_AGENT_METRICS_RETENTION_HOURS: z.coerce.number().int().min(1).max(8760).default(168),
  MC_SEED_EXAMPLES: flag.default(true),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['pretty', 'json', 'auto']).default('auto'),
});

export type Env = z.infer<typeof schema>;

export interface Config extends Env {
  /** Absolute path of the data directory. */
  dataDir: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return { ...parsed.data, dataDir: path.resolve(parsed.data.MC_DATA_DIR) };
}

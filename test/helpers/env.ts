// Per-test-file environment on the shared servers: a fresh database (migrated,
// with a first admin), a unique task queue, a quiet logger and a config.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { prepareDatabase } from '../../core/system/setup';
import type { Sql } from '../../db/sql';
import { loadConfig, type Config } from '../../lib/config';
import { createLogger, type Logger } from '../../lib/logger';

export const ADMIN_PASSWORD = 'admin-password-for-tests';
export const ADMIN_TOKEN = 'mc_test_admin_token_0123456789abcdef';

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    MC_ADMIN_PASSWORD: ADMIN_PASSWORD,
    MC_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    LOG_FORMAT: 'json',
    MC_SANDBOX_THREADS: '2',
    TEMPORAL_TASK_QUEUE: uniqueName('tq'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    ...overrides,
  });
}

export function testLogger(): Logger {
  return createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', format: 'json' });
}

export interface TestDatabase {
  /** Owner (superuser) URL: for tests that must act as the owner, e.g. to tamper. */
  url: string;
  /** The application's connection (restricted role). */
  sql: Sql;
  /** An owner connection. */
  owner: Sql;
  sessionSecret: string;
  close(): Promise<void>;
}

export async function createTestDatabase(config: Config, logger = testLogger()): Promise<TestDatabase> {
  const base = new URL(inject('pgUrl'));
  const name = uniqueName('test');
  const admin = postgres(base.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  base.pathname = `/${name}`;
  const url = base.toString();
  const { sql, sessionSecret } = await prepareDatabase({ url, config, logger, announce: () => {} });
  const owner = postgres(url, { max: 2, onnotice: () => {} });
  return {
    url,
    sql,
    owner,
    sessionSecret,
    async close() {
      await sql.end({ timeout: 5 });
      await owner.end({ timeout: 5 });
    },
  };
}

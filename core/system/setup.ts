// Everything a process does to the database before serving: migrations,
// the first admin (printed once), the session secret. Safe to run from many
// processes at once.
import { createSql, type Sql } from '../../db/sql';
import { migrate } from '../../db/migrate';
import type { Config } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { ensureAdmin, sessionSecret } from '../access/bootstrap';

export interface PreparedDatabase {
  /** The application's connection, running as the restricted role. */
  sql: Sql;
  sessionSecret: string;
}

export async function prepareDatabase(opts: {
  url: string;
  config: Config;
  logger: Logger;
  /** Where one-time secrets are shown; the terminal, never the log. */
  announce?: (text: string) => void;
  applicationName?: string;
}): Promise<PreparedDatabase> {
  const owner = createSql(opts.url, { appRole: false, max: 2, applicationName: 'mission-control-migrate' });
  try {
    const applied = await migrate(owner);
    if (applied.length) opts.logger.info({ applied }, 'database migrations applied');
  } finally {
    await owner.end();
  }
  const sql = createSql(opts.url, { applicationName: opts.applicationName });
  const result = await ensureAdmin(sql, {
    username: opts.config.MC_ADMIN_USERNAME,
    password: opts.config.MC_ADMIN_PASSWORD,
    token: opts.config.MC_ADMIN_TOKEN,
  });
  if (result.createdAdmin) {
    const a = result.createdAdmin;
    opts.logger.info({ username: a.username }, 'first admin created');
    if (a.generatedPassword || a.generatedToken) {
      const lines = [
        '',
        '  First start: an admin was created. These values are shown once; store them now.',
        `    username   ${a.username}`,
        ...(a.generatedPassword ? [`    password   ${a.generatedPassword}`] : ['    password   (from MC_ADMIN_PASSWORD)']),
        ...(a.generatedToken ? [`    API token  ${a.generatedToken}`] : ['    API token  (from MC_ADMIN_TOKEN)']),
        '',
      ];
      (opts.announce ?? ((t) => process.stdout.write(t + '\n')))(lines.join('\n'));
    }
  }
  return { sql, sessionSecret: await sessionSecret(sql, opts.config.MC_SESSION_SECRET) };
}

// The one `sql` instance per process. The application runs as the restricted
// role `mission_control_app` (see db/migrations/0001_init.sql); migrations and
// role setup use the owner connection.
import postgres from 'postgres';

export type Sql = postgres.Sql;
export type TxSql = postgres.TransactionSql | postgres.Sql;

export const APP_ROLE = 'mission_control_app';

export interface SqlOptions {
  /** Run every statement as the restricted application role (default true). */
  appRole?: boolean;
  max?: number;
  applicationName?: string;
}

export function createSql(url: string, opts: SqlOptions = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 10,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => {},
    connection: {
      application_name: opts.applicationName ?? 'mission-control',
      // `role` as a startup parameter is SET ROLE for the whole session.
      ...(opts.appRole === false ? {} : { role: APP_ROLE }),
    },
  });
}

const OUTAGE_CODES = [
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED',
  '57P01', '57P02', '57P03', // admin shutdown, crash shutdown, cannot connect now (starting or stopping)
  '53300', // too many connections
];

/** True when the error is PostgreSQL being unreachable or going away, not anything the statement did. */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return OUTAGE_CODES.includes(code) || code.startsWith('08');
}

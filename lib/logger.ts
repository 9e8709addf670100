// One structured logger for the process: JSON lines in production, one readable
// line per event in a terminal. Secrets are redacted by path before anything is written.
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

const REDACT = [
  'password',
  'token',
  'secret',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

export function createLogger(
  opts: { level?: string; format?: 'pretty' | 'json' | 'auto'; name?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const format = opts.format === 'auto' || !opts.format ? (process.stdout.isTTY ? 'pretty' : 'json') : opts.format;
  const options = {
    level: opts.level ?? 'info',
    base: opts.name ? { component: opts.name } : {},
    redact: { paths: REDACT, censor: '[redacted]' },
  };
  if (format === 'pretty') {
    return pino(
      options,
      pretty({
        colorize: process.stdout.isTTY,
        translateTime: 'HH:MM:ss.l',
        ignore: 'pid,hostname',
        singleLine: true,
        sync: true,
      }),
    );
  }
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

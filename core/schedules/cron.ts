// Cron expressions for mission schedules: validation, the next run times in
// the schedule's time zone, and a sentence a person can read.
import { CronExpressionParser } from 'cron-parser';
import cronstrue from 'cronstrue';

export function cronError(expression: string): string | null {
  if (!/^\s*(\S+\s+){4}\S+\s*$/.test(expression)) return 'must have five fields: minute hour day-of-month month day-of-week';
  try {
    CronExpressionParser.parse(expression.trim(), { tz: 'UTC' });
    return null;
  } catch (err) {
    return `is not a valid cron expression (${(err as Error).message})`;
  }
}

export function nextRuns(expression: string, timezone: string, count = 5, from = new Date()): Date[] {
  const it = CronExpressionParser.parse(expression.trim(), { tz: timezone, currentDate: from });
  return Array.from({ length: count }, () => it.next().toDate());
}

export function describeCron(expression: string): string {
  try {
    return cronstrue.toString(expression.trim(), { use24HourTimeFormat: true, verbose: true });
  } catch {
    return expression;
  }
}

/** A time shown in a given zone, e.g. "Mon 2026-11-23 09:00 (America/Toronto)". */
export function formatInZone(date: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone, weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(date);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('weekday')} ${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} (${timezone})`;
}

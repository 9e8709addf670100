// Cron expressions for mission schedules, read exactly as Temporal's scheduler
// reads them (go.temporal.io/server service/worker/scheduler/calendar.go), so
// that what we accept Temporal accepts and the next runs we show are the ones
// it will start. Five fields: minute hour day-of-month month day-of-week. Each
// is a comma list of `*`, `n` or `n-m`, each with an optional `/step`; months
// and weekdays also by name (at least 3 and 2 letters), weekday 7 is Sunday.
// Temporal has no L, W, #, ? or H. A time matches when every field matches:
// day of month AND day of week, unlike classic cron's OR.
import cronstrue from 'cronstrue';

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

interface FieldRule {
  label: string;
  min: number;
  max: number;
  names?: { list: string[]; first: number; minLength: number };
}

const FIELDS: FieldRule[] = [
  { label: 'minute', min: 0, max: 59 },
  { label: 'hour', min: 0, max: 23 },
  { label: 'day of month', min: 1, max: 31 },
  { label: 'month', min: 1, max: 12, names: { list: MONTHS, first: 1, minLength: 3 } },
  { label: 'day of week', min: 0, max: 7, names: { list: DAYS, first: 0, minLength: 2 } },
];

export interface CronSpec {
  minute: Set<number>;
  hour: Set<number>;
  dayOfMonth: Set<number>;
  month: Set<number>;
  dayOfWeek: Set<number>;
}

class CronSyntaxError extends Error {}

function value(s: string, min: number, rule: FieldRule): number {
  if (rule.names && s.length >= rule.names.minLength) {
    const i = rule.names.list.findIndex((name) => name.startsWith(s.toLowerCase()));
    if (i >= 0 && i + rule.names.first >= min) return i + rule.names.first;
  }
  const n = /^[0-9]{1,4}$/.test(s) ? Number(s) : NaN;
  if (!(n >= min && n <= rule.max)) {
    const names = rule.names ? ` or a ${rule.label === 'month' ? 'month' : 'day'} name` : '';
    throw new CronSyntaxError(`${rule.label}: "${s}" is not a number from ${min} to ${rule.max}${names}`);
  }
  return n;
}

function field(text: string, rule: FieldRule): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range, step, extra] = part.split('/');
    if (extra !== undefined) throw new CronSyntaxError(`${rule.label}: "${part}" has more than one "/"`);
    if (step !== undefined && !/^[0-9]{1,4}$/.test(step)) throw new CronSyntaxError(`${rule.label}: the step in "${part}" must be a whole number`);
    const every = step === undefined ? 1 : Number(step);
    if (every < 1) throw new CronSyntaxError(`${rule.label}: the step in "${part}" must be at least 1`);
    let start = rule.min;
    let end = rule.max;
    if (range !== '*') {
      const ends = range!.split('-');
      if (ends.length > 2) throw new CronSyntaxError(`${rule.label}: "${part}" has more than one "-"`);
      start = value(ends[0]!, rule.min, rule);
      if (ends.length === 2) end = value(ends[1]!, start, rule);
      else if (step === undefined) end = start;
    }
    // Temporal reads weekday 7 as Sunday (0).
    for (let v = start; v <= end; v += every) values.add(rule.names?.list === DAYS && v === 7 ? 0 : v);
  }
  return values;
}

/** The expression's matching values per field, or the reason Temporal would refuse it. */
export function parseCron(expression: string): { spec: CronSpec; error?: undefined } | { spec?: undefined; error: string } {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5 || !parts[0]) return { error: 'must have five fields: minute hour day-of-month month day-of-week' };
  try {
    const [minute, hour, dayOfMonth, month, dayOfWeek] = parts.map((p, i) => field(p, FIELDS[i]!));
    return { spec: { minute: minute!, hour: hour!, dayOfMonth: dayOfMonth!, month: month!, dayOfWeek: dayOfWeek! } };
  } catch (err) {
    if (err instanceof CronSyntaxError) return { error: `is not a cron expression Temporal accepts (${err.message})` };
    throw err;
  }
}

export function cronError(expression: string): string | null {
  return parseCron(expression).error ?? null;
}

// ---- next runs --------------------------------------------------------------------------

const wallClocks = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time of `ms` in `timeZone`, as a UTC timestamp of the same digits. */
function wallClock(ms: number, timeZone: string): number {
  let f = wallClocks.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    wallClocks.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
}

/**
 * The instants at which a zone's clocks show `wall`: none in a daylight-saving
 * gap (Temporal skips those), two in a repeated hour (Temporal runs at both).
 */
function instantsOf(wall: number, timeZone: string): number[] {
  const offsets = new Set([wall - 14 * 3_600_000, wall, wall + 14 * 3_600_000].map((probe) => wallClock(probe, timeZone) - probe));
  return [...new Set([...offsets].map((offset) => wall - offset))].filter((t) => wallClock(t, timeZone) === wall).sort((a, b) => a - b);
}

const DAY_MS = 86_400_000;

/** The next `count` times a schedule with this cron starts, in its time zone, as Temporal computes them. */
export function nextRuns(expression: string, timezone: string, count = 5, from = new Date()): Date[] {
  const { spec, error } = parseCron(expression);
  if (!spec) throw new Error(`The cron expression ${error}.`);
  const out: Date[] = [];
  const hours = [...spec.hour].sort((a, b) => a - b);
  const minutes = [...spec.minute].sort((a, b) => a - b);
  const start = wallClock(from.getTime(), timezone);
  // Day by day in the zone's calendar; Temporal's calendar ends in 2100, so do we.
  for (let day = start - (start % DAY_MS); out.length < count && day < Date.UTC(2101, 0, 1); day += DAY_MS) {
    const d = new Date(day);
    if (!spec.month.has(d.getUTCMonth() + 1) || !spec.dayOfMonth.has(d.getUTCDate()) || !spec.dayOfWeek.has(d.getUTCDay())) continue;
    // Most days have one offset from start to end; only a day with a clock change needs each time resolved.
    const offsets = new Set([day - 14 * 3_600_000, day + 12 * 3_600_000, day + 38 * 3_600_000].map((probe) => wallClock(probe, timezone) - probe));
    const resolve = offsets.size === 1 ? (wall: number) => [wall - [...offsets][0]!] : (wall: number) => instantsOf(wall, timezone);
    for (const h of hours) {
      // An hour's times in order, a repeated hour's second copy included.
      const times = minutes.flatMap((m) => resolve(day + h * 3_600_000 + m * 60_000)).sort((a, b) => a - b);
      for (const t of times) if (t > from.getTime() && out.length < count) out.push(new Date(t));
      if (out.length >= count) break;
    }
  }
  return out;
}

// ---- wall-clock times typed into a form -----------------------------------------------

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * The instant at which `timezone`'s clocks show `local` (a datetime-local value,
 * "2026-11-30T09:00"), or null if it is no such value. A repeated time is its first
 * instant; a time skipped when the clocks went forward is read with the offset from
 * before the change (02:30 on a spring-forward night is 03:30 of the new time).
 */
export function zonedInstant(local: string, timezone: string): Date | null {
  const m = LOCAL.exec(local);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(wall);
  // Date.UTC rolls 30 February over into March: such a value was never on a calendar.
  if (y < 1 || back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  const at = instantsOf(wall, timezone);
  if (at.length) return new Date(at[0]!);
  const before = wall - DAY_MS;
  return new Date(wall - (wallClock(before, timezone) - before));
}

/** `date` as a datetime-local value in `timezone`, to the minute ("2026-11-30T09:00"). */
export function zonedLocal(date: Date, timezone: string): string {
  return new Date(wallClock(date.getTime(), timezone)).toISOString().slice(0, 16);
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

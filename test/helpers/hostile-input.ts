// Hostile requests for the bad-input walk (test/foundation/bad-input.test.ts):
// for each route of the app, its path parameters, query strings and bodies
// turned hostile one value at a time.

/** Fields whose numbers are real, not whole. */
const REAL_NUMBER_FIELDS = new Set(['threshold']);

export const NUL = '\u0000';
export const HIGH = '\ud800'; // a lone high surrogate
export const LOW = '\udfff'; // a lone low surrogate

export interface Probe {
  label: string;
  method: string;
  path: string;
  /** Extra headers; the walk adds the credentials. */
  headers?: Record<string, string>;
  body?: BodyInit;
  /** The value is one no route may take: the answer must be a 4xx (not a 2xx or 3xx). */
  mustRefuse?: boolean;
}

export const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const deepValue = (levels: number): unknown => JSON.parse(deep(levels));

// ---- values -----------------------------------------------------------------------------

const BAD_PARAMS = ['abc', 'a%00b', '%ED%A0%80', '__proto__', '99999999999999999999'];
const BAD_PARAMS_BY_NAME: Record<string, string[]> = {
  version: ['0', '-1', '1.5', '2147483648', '1e400'],
  workflowId: ['mission-abc', 'mission-00000000-0000-4000-8000-000000000000-%00', 'mission-%ED%A0%80'],
  name: ['constructor', 'toString', 'hasOwnProperty', '..%2Fpackage.json'],
};

/** Values no path parameter of that name may take. */
export const badParams = (name: string) => [...BAD_PARAMS, ...(BAD_PARAMS_BY_NAME[name] ?? [])];
export const BAD_CRONS = ['0 0 L * *', '0 0 * * 5L', '0 0 ? * MON', '0 0 1W * *', '0 0 * * 1#2', '*/0 * * * *', '0 0 * * 8', '0 9 * * MON-SUN/0', 'H 9 * * *', '@daily'];
export const BAD_TIME_ZONES = ['america/toronto', 'AMERICA/TORONTO', 'Canada/East-Saskatchewan', 'US/Pacific-New', 'Mars/Olympus', 'America/Toronto ', '../etc/passwd'];

const TEXT_KEYS = ['q', 'actor', 'action', 'entityType', 'status', 'trigger', 'type', 'priority', 'category', 'active', 'open', 'versions', 'v', 'cron', 'timezone', 'next'];
const ID_KEYS = ['containerId', 'missionId', 'patternId', 'workflowId', 'entityId'];
const NUMBER_KEYS = ['limit', 'offset', 'coffset', 'uoffset', 'toffset', 'voffset', 'before', 'from', 'to', 'order'];

/**
 * Query strings every GET route gets: a NUL in every key the app reads, all at
 * once; then alone in a key of each kind (free text, enum, id, number, cron, time
 * zone) and in a key's name.
 */
export function nulQueries(): string[] {
  const each = ['q', 'actor', 'status', 'containerId', 'limit', 'before', 'cron', 'timezone'];
  return [[...TEXT_KEYS, ...ID_KEYS, ...NUMBER_KEYS].map((key) => `${key}=a%00`).join('&'), '%00=1', ...each.map((key) => `${key}=a%00`)];
}

/**
 * Ids that are not ids and numbers past every range, as groups: first all keys
 * at once (a route that ignores or takes them all answers 2xx, and that is
 * that); when that is refused, each key alone, so one refused key cannot hide
 * another that fails.
 */
export function valueQueryGroups(): { all: string; each: string[] }[] {
  const group = (keys: string[], value: string) => ({
    all: keys.map((k) => `${k}=${value}`).join('&'),
    each: keys.map((k) => `${k}=${value}`),
  });
  return [group(ID_KEYS, 'abc'), group(NUMBER_KEYS, '99999999999999999999'), group(NUMBER_KEYS, '-1')];
}

/** The cron previews' own queries: every cron and time zone Temporal refuses. */
export function cronQueries(): string[] {
  return [
    ...BAD_CRONS.map((cron) => `cron=${encodeURIComponent(cron)}&timezone=UTC`),
    ...BAD_TIME_ZONES.map((tz) => `cron=0+9+*+*+*&timezone=${encodeURIComponent(tz)}`),
  ];
}

// ---- JSON bodies ---------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const JSON_VALUE_KEYS = new Set(['input', 'output']);

/** Copies `base` with the value at `path` replaced. */
function replaceAt(base: Json, path: (string | number)[], value: unknown): Json {
  if (!path.length) return value as Json;
  const [head, ...rest] = path;
  const copy: any = Array.isArray(base) ? [...base] : { ...(base as object) };
  copy[head!] = replaceAt(copy[head!], rest, value);
  return copy;
}

function leaves(value: Json, path: (string | number)[] = []): { path: (string | number)[]; value: Json }[] {
  if (value === null || typeof value !== 'object') return [{ path, value }];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [{ path, value }, ...entries.flatMap(([k, v]) => leaves(v, [...path, k]))];
}

/** One hostile JSON body per string, number, object and JSON value inside `base`. */
export function hostileJsonBodies(base: Json): { label: string; body: unknown; mustRefuse: boolean }[] {
  const out: { label: string; body: unknown; mustRefuse: boolean }[] = [];
  for (const { path, value } of leaves(base)) {
    const at = path.join('.') || '(body)';
    const key = path.at(-1);
    const insideValue = path.slice(0, -1).some((p) => typeof p === 'string' && JSON_VALUE_KEYS.has(p));
    if (typeof key === 'string' && JSON_VALUE_KEYS.has(key)) {
      out.push({ label: `${at}: 100 deep`, body: replaceAt(base, path, deepValue(100)), mustRefuse: true });
      out.push({ label: `${at}: NUL deep inside`, body: replaceAt(base, path, { a: [{ b: `x${NUL}` }] }), mustRefuse: true });
      out.push({ label: `${at}: surrogate key`, body: replaceAt(base, path, { [`k${LOW}`]: 1 }), mustRefuse: true });
      out.push({ label: `${at}: 300 KiB`, body: replaceAt(base, path, { big: 'x'.repeat(300 * 1024) }), mustRefuse: true });
    }
    if (typeof value === 'string') {
      out.push({ label: `${at}: NUL`, body: replaceAt(base, path, `${value}${NUL}`), mustRefuse: true });
      out.push({ label: `${at}: lone high surrogate`, body: replaceAt(base, path, `${HIGH}${value}`), mustRefuse: true });
      out.push({ label: `${at}: lone low surrogate`, body: replaceAt(base, path, `${value}${LOW}`), mustRefuse: true });
      if (key === 'cron') for (const cron of BAD_CRONS) out.push({ label: `${at}: ${cron}`, body: replaceAt(base, path, cron), mustRefuse: true });
      if (key === 'timezone') for (const tz of BAD_TIME_ZONES) out.push({ label: `${at}: ${tz}`, body: replaceAt(base, path, tz), mustRefuse: true });
      if (typeof key === 'string' && /Id$/.test(key)) out.push({ label: `${at}: not an id`, body: replaceAt(base, path, 'abc'), mustRefuse: true });
      if (typeof key === 'string' && /Date$/.test(key)) {
        for (const d of ['2027-02-30T00:00:00Z', 'tomorrow']) out.push({ label: `${at}: ${d}`, body: replaceAt(base, path, d), mustRefuse: true });
        for (const d of ['0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z']) out.push({ label: `${at}: ${d}`, body: replaceAt(base, path, d), mustRefuse: false });
      }
    } else if (typeof value === 'number' && !insideValue) {
      // Numbers are whole unless the field is a real measure (an alert rule's threshold): 0.5 is then a value.
      const real = typeof key === 'string' && REAL_NUMBER_FIELDS.has(key);
      for (const n of [1e20, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, 0.5]) out.push({ label: `${at}: ${n}`, body: replaceAt(base, path, n), mustRefuse: !(real && n === 0.5) });
    } else if (value && typeof value === 'object' && !Array.isArray(value)) {
      out.push({ label: `${at}: NUL in a key`, body: replaceAt(base, path, { ...value, [`x${NUL}`]: 1 }), mustRefuse: true });
    }
  }
  return out;
}

const MALFORMED_MULTIPART = '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nunterminated';

/** Bodies that are hostile as a whole, for any route that takes one. */
export function hostileRawBodies(api: boolean): { label: string; headers: Record<string, string>; body: BodyInit; mustRefuse: boolean }[] {
  const json = { 'Content-Type': 'application/json' };
  const multipart = { 'Content-Type': 'multipart/form-data; boundary=xyz' };
  const validMultipart = `--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nb${NUL}\r\n--xyz--\r\n`;
  const file = `--xyz\r\nContent-Disposition: form-data; name="input"; filename="a.json"\r\nContent-Type: application/json\r\n\r\n{}\r\n--xyz--\r\n`;
  const common = [
    { label: 'malformed multipart', headers: multipart, body: MALFORMED_MULTIPART, mustRefuse: true },
    { label: 'multipart with a NUL field', headers: multipart, body: validMultipart, mustRefuse: true },
  ];
  if (!api) {
    return [...common,
      { label: 'multipart with a file', headers: multipart, body: file, mustRefuse: false },
      { label: 'urlencoded NUL in a key', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'na%00me=x', mustRefuse: true },
      { label: 'urlencoded NUL in an extra field', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'x=%00', mustRefuse: true },
      { label: 'urlencoded malformed escapes', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name=%E0%A4%A&x=%', mustRefuse: false },
    ];
  }
  return [...common,
    { label: 'malformed JSON', headers: json, body: '{"name":', mustRefuse: true },
    { label: 'JSON with a byte-order mark', headers: json, body: '\ufeff{}', mustRefuse: false },
    { label: 'JSON null', headers: json, body: 'null', mustRefuse: false },
    { label: 'JSON array', headers: json, body: '[]', mustRefuse: false },
    { label: 'JSON string', headers: json, body: '"x"', mustRefuse: false },
    { label: 'JSON 1e999', headers: json, body: '1e999', mustRefuse: false },
    { label: 'JSON nested 10,000 deep', headers: json, body: deep(10_000), mustRefuse: true },
    { label: 'JSON with a NUL key', headers: json, body: '{"\\u0000":1}', mustRefuse: true },
    { label: 'JSON with an escaped lone surrogate', headers: json, body: '{"x":"\\ud800"}', mustRefuse: true },
    { label: 'no Content-Type', headers: {}, body: new TextEncoder().encode('{"name":"x"}'), mustRefuse: true },
    { label: 'text/plain', headers: { 'Content-Type': 'text/plain' }, body: '{"name":"x"}', mustRefuse: true },
    { label: 'urlencoded', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name=x', mustRefuse: true },
  ];
}

// ---- forms ---------------------------------------------------------------------------------

export const JSON_FORM_FIELDS = new Set(['input', 'output', 'tasks[t0][input]']);
const NUMBER_FORM_FIELDS = new Set(['priority', 'timeout', 'retryCount', 'maxConcurrency', 'retryDelayMs', 'expiresInDays', 'tasks[t0][order]', 'tasks[t0][timeout]']);

/** One hostile form per field: NUL in it, JSON that parses to NUL, a surrogate or deep nesting, numbers past range. */
export function hostileForms(base: Record<string, string>): { label: string; form: Record<string, string>; mustRefuse: boolean }[] {
  const out: { label: string; form: Record<string, string>; mustRefuse: boolean }[] = [];
  const withField = (k: string, v: string) => ({ ...base, [k]: v });
  for (const [k, v] of Object.entries(base)) {
    out.push({ label: `${k}: NUL`, form: withField(k, `${v}${NUL}`), mustRefuse: true });
    if (JSON_FORM_FIELDS.has(k)) {
      for (const [label, text] of [
        ['escaped NUL', '{"a":"\\u0000"}'], ['escaped lone surrogate', '{"a":"\\ud800"}'], ['escaped surrogate key', '{"\\udfff":1}'],
        ['100 deep', deep(100)], ['10,000 deep', deep(10_000)], ['300 KiB', JSON.stringify({ big: 'x'.repeat(300 * 1024) })],
      ] as const) out.push({ label: `${k}: ${label}`, form: withField(k, text), mustRefuse: true });
    }
    if (NUMBER_FORM_FIELDS.has(k)) {
      for (const n of ['99999999999999999999', '1e400', '-1', '0x10']) out.push({ label: `${k}: ${n}`, form: withField(k, n), mustRefuse: false });
    }
    if (k === 'cron') for (const cron of BAD_CRONS) out.push({ label: `cron: ${cron}`, form: withField(k, cron), mustRefuse: true });
    if (k === 'timezone') for (const tz of BAD_TIME_ZONES) out.push({ label: `timezone: ${tz}`, form: withField(k, tz), mustRefuse: true });
    if (/Id$/.test(k)) out.push({ label: `${k}: not an id`, form: withField(k, 'abc'), mustRefuse: false });
  }
  return out;
}

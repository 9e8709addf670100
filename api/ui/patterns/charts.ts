// Geometry for the small server-rendered SVG charts. Everything here is a
// number or one of a few fixed class names; the chart-*.eta partials draw it.

const round = (n: number) => Math.round(n * 100) / 100;
const safe = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0);

export interface Segment {
  x: number;
  width: number;
  cls: 'bar-ok' | 'bar-bad';
}

export interface SuccessBar {
  width: number;
  height: number;
  segments: Segment[];
  /** Read by screen readers in place of the picture. */
  label: string;
}

/** One horizontal bar: successes in green from the left, failures in red after them. */
export function successBar(successes: number, failures: number, width = 120, height = 10): SuccessBar {
  const ok = safe(successes);
  const bad = safe(failures);
  const total = ok + bad;
  if (!total) return { width, height, segments: [], label: 'No runs yet' };
  const okWidth = round((ok / total) * width);
  const segments: Segment[] = [];
  if (ok) segments.push({ x: 0, width: okWidth, cls: 'bar-ok' });
  if (bad) segments.push({ x: okWidth, width: round(width - okWidth), cls: 'bar-bad' });
  return { width, height, segments, label: `${ok} succeeded, ${bad} failed` };
}

export interface DurationBar {
  x: number;
  y: number;
  width: number;
  height: number;
  cls: 'bar-ok' | 'bar-bad';
  /** A tooltip: the run's duration, outcome and version. */
  title: string;
}

export interface DurationChart {
  width: number;
  height: number;
  bars: DurationBar[];
  /** The y of the average line, or null without runs. */
  avgY: number | null;
  maxMs: number;
  label: string;
}

export interface RunPoint {
  durationMs: number;
  status: 'succeeded' | 'failed';
  version: number;
}

function ms(n: number): string {
  return n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`;
}

/** Recent runs' durations as bars, oldest on the left; failures are red. `runs` come newest first. */
export function durationChart(runs: RunPoint[], width = 480, height = 120): DurationChart {
  const points = [...runs].reverse();
  const maxMs = Math.max(0, ...points.map((r) => safe(r.durationMs)));
  if (!points.length) return { width, height, bars: [], avgY: null, maxMs: 0, label: 'No runs yet' };
  const top = 4;
  const plot = height - top - 1; // one pixel for the axis
  const slot = width / points.length;
  const gap = slot > 6 ? Math.min(4, slot * 0.2) : 0;
  const scale = (v: number) => (maxMs > 0 ? (safe(v) / maxMs) * plot : 0);
  const bars = points.map((r, i) => {
    const h = Math.max(1, scale(r.durationMs));
    const failed = r.status === 'failed';
    return {
      x: round(i * slot + gap / 2),
      y: round(height - 1 - h),
      width: round(Math.max(1, slot - gap)),
      height: round(h),
      cls: failed ? ('bar-bad' as const) : ('bar-ok' as const),
      title: `v${Math.trunc(safe(r.version))}: ${ms(safe(r.durationMs))}, ${failed ? 'failed' : 'succeeded'}`,
    };
  });
  const avg = points.reduce((a, r) => a + safe(r.durationMs), 0) / points.length;
  const failures = points.filter((r) => r.status === 'failed').length;
  return {
    width,
    height,
    bars,
    avgY: round(height - 1 - scale(avg)),
    maxMs: round(maxMs),
    label: `Durations of the last ${points.length} runs, longest ${ms(maxMs)}, average ${ms(avg)}; ${failures} failed`,
  };
}

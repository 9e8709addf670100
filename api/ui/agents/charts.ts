// Geometry for the agent pages' small SVG lines (a card's sparkline, the agent
// page's charts): numbers and fixed words only, drawn by views/partials/agents/metric-line.eta.
import type { MetricSeries } from '../../../core/agents/metrics';

const round = (n: number) => Math.round(n * 10) / 10;

/** A metric's value as people read it: fewer decimals as it grows. */
export function metricNumber(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '—';
  const abs = Math.abs(v);
  return v.toLocaleString('en-US', { maximumFractionDigits: abs >= 100 ? 0 : abs >= 10 ? 1 : 2 });
}

export interface MetricLine {
  name: string;
  width: number;
  height: number;
  /** SVG polyline points, one per unbroken stretch (a minute without samples breaks the line). */
  lines: string[];
  /** A lone sample between gaps, drawn as a dot. */
  dots: { x: number; y: number }[];
  last: string;
  min: string;
  max: string;
  /** Read by screen readers in place of the picture. */
  label: string;
}

/** The series as a line `width` × `height`, the lowest value at the bottom and the highest at the top. */
export function metricLine(series: MetricSeries, minutes: number, width: number, height: number): MetricLine {
  const pad = 2;
  const points = series.points.map((p) => (p !== null && Number.isFinite(p) ? p : null));
  const values = points.filter((p): p is number => p !== null);
  const lo = values.length ? Math.min(...values) : 0;
  const hi = values.length ? Math.max(...values) : 0;
  const n = points.length;
  const x = (i: number) => round(n > 1 ? pad + (i * (width - 2 * pad)) / (n - 1) : width / 2);
  const y = (v: number) => round(hi === lo ? height / 2 : pad + ((hi - v) * (height - 2 * pad)) / (hi - lo));
  const lines: string[] = [];
  const dots: { x: number; y: number }[] = [];
  let stretch: [number, number][] = [];
  const flush = () => {
    if (stretch.length > 1) lines.push(stretch.map(([a, b]) => `${a},${b}`).join(' '));
    else if (stretch.length === 1) dots.push({ x: stretch[0]![0], y: stretch[0]![1] });
    stretch = [];
  };
  points.forEach((p, i) => (p === null ? flush() : stretch.push([x(i), y(p)])));
  flush();
  const [last, min, max] = [series.last, series.min, series.max].map(metricNumber) as [string, string, string];
  const label = values.length
    ? `${series.name} over the last ${minutes} minutes: last ${last}, lowest ${min}, highest ${max}`
    : `${series.name}: nothing reported in the last ${minutes} minutes`;
  return { name: series.name, width, height, lines, dots, last, min, max, label };
}

/** The metric with samples in the most steps (ties: the first by name): the one a card shows. */
export function mostReported(series: MetricSeries[]): MetricSeries | null {
  let best: MetricSeries | null = null;
  let bestCount = 0;
  for (const s of series) {
    const count = s.points.filter((p) => p !== null).length;
    if (count > bestCount) [best, bestCount] = [s, count];
  }
  return best;
}

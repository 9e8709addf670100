// Geometry for the outreach pages' small bar charts (a campaign's leads by
// status or score, its drafts by status): numbers and fixed words only, drawn
// by views/partials/outreach/bars.eta, with the counts also written out.
export interface Bar { key: string; label: string; count: number; x: number; y: number; w: number; h: number }

export interface BarChart {
  title: string;
  width: number;
  height: number;
  total: number;
  bars: Bar[];
  /** Read by screen readers in place of the picture. */
  label: string;
}

/** One bar per key, side by side, the tallest reaching the top; a zero is a sliver on the axis, so it still shows. */
export function barChart(title: string, counts: { key: string; label: string; count: number }[], width: number, height: number): BarChart {
  const gap = 2;
  const n = Math.max(counts.length, 1);
  const w = Math.max(1, Math.floor((width - gap * (n - 1)) / n));
  const top = Math.max(1, ...counts.map((c) => c.count));
  const bars = counts.map((c, i) => {
    const h = c.count ? Math.max(2, Math.round((c.count / top) * (height - 1))) : 1;
    return { ...c, x: i * (w + gap), y: height - h, w, h };
  });
  const total = counts.reduce((sum, c) => sum + c.count, 0);
  const label = `${title}: ${counts.map((c) => `${c.label} ${c.count}`).join(', ')}`;
  return { title, width, height, total, bars, label };
}

export { renderLineChart, writeLineChart, niceStep, ticks, formatTicks, PALETTE } from "./line-chart.js";
export type { ChartPoint, ChartSeries, ChartMarker, LineChartOptions } from "./line-chart.js";
export { renderBarChart, writeBarChart } from "./bar-chart.js";
export type { Bar, BarChartOptions } from "./bar-chart.js";
export { Raster, parseColor } from "./raster.js";
export { textWidth, textHeight } from "./font.js";

import type { LoadResult, SecondPoint } from "../load/types.js";
import type { ChartPoint } from "./line-chart.js";

/**
 * One column of a load result's per-second series as chart points. x = seconds since the load's
 * measured start; with `originEpochMs` the x axis is shifted onto another clock (e.g. a
 * ProgressSampler's first point `at`), so load and drain series share one time axis.
 *
 * By default each second is drawn as a flat step over [t, t+1) (shape "step"); "point" gives one
 * point per second at its middle. Counts of the last, partial second are scaled to a per-second
 * rate over the part of it that the run covered (at least 0.25 s).
 */
export function loadSeries(
  result: LoadResult,
  key: keyof Omit<SecondPoint, "t">,
  originEpochMs?: number,
  shape: "step" | "point" = "step",
): ChartPoint[] {
  const shift = originEpochMs === undefined ? 0 : (Date.parse(result.startedAt) - originEpochMs) / 1000;
  const isCount = key === "sent" || key === "ok" || key === "non2xx" || key === "errors";
  const endSec = result.elapsedMs / 1000;
  const out: ChartPoint[] = [];
  for (const p of result.timeSeries) {
    const width = Math.min(1, Math.max(0.25, endSec - p.t));
    const y = isCount ? p[key] / width : p[key];
    if (shape === "point") out.push({ x: p.t + width / 2 + shift, y });
    else out.push({ x: p.t + shift, y }, { x: p.t + width + shift, y });
  }
  return out;
}

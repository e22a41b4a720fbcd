export { renderLineChart, writeLineChart, niceStep, ticks, formatTicks, PALETTE } from "./line-chart.js";
export type { ChartPoint, ChartSeries, ChartMarker, LineChartOptions } from "./line-chart.js";
export { Raster, parseColor } from "./raster.js";
export { textWidth, textHeight } from "./font.js";

import type { LoadResult, SecondPoint } from "../load/types.js";
import type { ChartPoint } from "./line-chart.js";

/**
 * One column of a load result's per-second series as chart points. x = seconds; with
 * `originEpochMs` the x axis is shifted onto another clock (e.g. a ProgressSampler's start, whose
 * points carry `at` epoch ms), so load and drain series share one time axis.
 */
export function loadSeries(
  result: LoadResult,
  key: keyof Omit<SecondPoint, "t">,
  originEpochMs?: number,
): ChartPoint[] {
  const shift = originEpochMs === undefined ? 0 : (Date.parse(result.startedAt) - originEpochMs) / 1000;
  return result.timeSeries.map((p) => ({ x: p.t + shift, y: p[key] }));
}

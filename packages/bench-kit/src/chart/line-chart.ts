/** Line charts of time series as PNG: axes, nice ticks, grid, labels, legend, optional right axis. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { CELL_H, textHeight, textWidth } from "./font.js";
import { Raster } from "./raster.js";

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  name: string;
  points: readonly ChartPoint[];
  /** "#rrggbb"; default from the palette. */
  color?: string;
  /** Plot against the right-hand axis (e.g. latency next to throughput). */
  axis?: "left" | "right";
  /** Line width in px (default 2). */
  width?: number;
  /** Draw a dot at every point (good for sparse series). */
  markers?: boolean;
}

export interface ChartMarker {
  /** x position of a dashed vertical line (e.g. "burst ends"). */
  x: number;
  label?: string;
  color?: string;
}

export interface LineChartOptions {
  series: ChartSeries[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  y2Label?: string;
  /** Default 1000 × 560. */
  width?: number;
  height?: number;
  /** Axis ranges; y defaults to [0 (or data min if negative), nice max]. */
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
  y2Min?: number;
  y2Max?: number;
  markers?: ChartMarker[];
  /** Legend corner inside the plot (default "top-right"). */
  legend?: "top-right" | "top-left" | "none";
  /** Text scale (pixel size of the bitmap font; default 2). */
  fontScale?: number;
}

export const PALETTE = ["#1f6fd1", "#d8342c", "#2a9d3c", "#f08a0c", "#8a4fc9", "#8c564b", "#d6479e", "#16a3b8"];

const AXIS = "#333333";
const GRID = "#e2e2e2";
const TEXT = "#222222";
const MUTED = "#555555";

/** Step of 1, 2, 2.5 or 5 × 10^k giving about `target` intervals over `span`. */
export function niceStep(span: number, target = 6): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  const m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return m * p;
}

export function ticks(min: number, max: number, target = 6): number[] {
  const step = niceStep(max - min, target);
  const out: number[] = [];
  const first = Math.ceil(min / step - 1e-9) * step;
  for (let v = first; v <= max + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/**
 * Labels for one axis, with one unit suffix for the whole axis: 0, 2.5k, 5k … or 0, 0.5M, 1M …
 * Decimals are only as many as the step needs.
 */
export function formatTicks(values: number[]): string[] {
  if (values.length === 0) return [];
  const step = values.length > 1 ? Math.abs(values[1] - values[0]) : Math.abs(values[0]) || 1;
  const top = Math.max(...values.map(Math.abs));
  const [div, suffix] = top >= 1e6 ? [1e6, "M"] : top >= 1e4 ? [1e3, "k"] : [1, ""];
  const s = step / div;
  const decimals = s >= 1 ? 0 : Math.min(6, Math.max(0, -Math.floor(Math.log10(s) + 1e-9)) + (isTwoPointFive(s) ? 1 : 0));
  return values.map((v) => {
    if (v === 0) return "0";
    const t = (v / div).toFixed(decimals);
    return (t.includes(".") ? t.replace(/\.?0+$/, "") : t) + suffix;
  });
}

function isTwoPointFive(step: number): boolean {
  const m = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
  return Math.abs(m - 2.5) < 1e-6;
}

interface Domain {
  min: number;
  max: number;
}

function yDomain(series: ChartSeries[], min?: number, max?: number): Domain {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of series)
    for (const p of s.points)
      if (Number.isFinite(p.y)) {
        lo = Math.min(lo, p.y);
        hi = Math.max(hi, p.y);
      }
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  let dMin = min ?? Math.min(0, lo);
  let dMax = max ?? hi;
  if (dMax <= dMin) dMax = dMin + (Math.abs(dMin) || 1);
  if (max === undefined) {
    // 4 % headroom so a line at the maximum does not sit on the frame
    const top = dMax + (dMax - dMin) * 0.04;
    const step = niceStep(top - dMin);
    dMax = Math.ceil(top / step - 1e-9) * step;
  }
  if (min === undefined && dMin < 0) {
    const step = niceStep(dMax - dMin);
    dMin = Math.floor(dMin / step + 1e-9) * step;
  }
  return { min: dMin, max: dMax };
}

function xDomain(series: ChartSeries[], min?: number, max?: number): Domain {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of series)
    for (const p of s.points)
      if (Number.isFinite(p.x)) {
        lo = Math.min(lo, p.x);
        hi = Math.max(hi, p.x);
      }
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  const dMin = min ?? lo;
  let dMax = max ?? hi;
  if (dMax <= dMin) dMax = dMin + 1;
  return { min: dMin, max: dMax };
}

/** Render a line chart to a raster. */
export function renderLineChart(opts: LineChartOptions): Raster {
  const W = opts.width ?? 1000;
  const H = opts.height ?? 560;
  const fs = opts.fontScale ?? 2;
  const r = new Raster(W, H);
  const th = textHeight(fs);
  const lineH = CELL_H * fs;

  const left = opts.series.filter((s) => s.axis !== "right");
  const right = opts.series.filter((s) => s.axis === "right");
  const hasRight = right.length > 0;
  const x = xDomain(opts.series, opts.xMin, opts.xMax);
  const y = yDomain(left.length ? left : right, opts.yMin, opts.yMax);
  const y2 = hasRight ? yDomain(right, opts.y2Min, opts.y2Max) : y;

  const xTicks = ticks(x.min, x.max, Math.max(3, Math.floor(W / 120)));
  const yTicks = ticks(y.min, y.max, Math.max(3, Math.floor(H / 90)));
  const y2Ticks = hasRight ? ticks(y2.min, y2.max, Math.max(3, Math.floor(H / 90))) : [];
  const xLabels = formatTicks(xTicks);
  const yLabels = formatTicks(yTicks);
  const y2Labels = formatTicks(y2Ticks);
  const yLabelW = Math.max(0, ...yLabels.map((s) => textWidth(s, fs)));
  const y2LabelW = Math.max(0, ...y2Labels.map((s) => textWidth(s, fs)));

  const pad = 12;
  const tick = 5;
  const titleH = opts.title ? CELL_H * (fs + 1) + pad : 0;
  const plotX = pad + (opts.yLabel ? lineH + pad : 0) + yLabelW + tick + 6;
  const plotRight = W - pad - (hasRight ? y2LabelW + tick + 6 + (opts.y2Label ? lineH + pad : 0) : textWidth("0000", fs) / 2);
  const plotY = pad + titleH;
  const plotBottom = H - pad - (opts.xLabel ? lineH + pad / 2 : 0) - lineH - tick - 4;
  const plotW = Math.max(10, plotRight - plotX);
  const plotH = Math.max(10, plotBottom - plotY);

  const sx = (v: number) => plotX + ((v - x.min) / (x.max - x.min)) * plotW;
  const sy = (v: number) => plotY + plotH - ((v - y.min) / (y.max - y.min)) * plotH;
  const sy2 = (v: number) => plotY + plotH - ((v - y2.min) / (y2.max - y2.min)) * plotH;

  if (opts.title) {
    const ts = textWidth(opts.title, fs + 1) <= W - 2 * pad ? fs + 1 : fs;
    r.text(Math.max(pad, Math.round((W - textWidth(opts.title, ts)) / 2)), pad, opts.title, TEXT, ts);
  }

  // grid + y ticks
  yTicks.forEach((v, i) => {
    const py = Math.round(sy(v));
    r.hline(plotX, plotX + plotW, py, GRID);
    r.hline(plotX - tick, plotX - 1, py, AXIS);
    r.text(plotX - tick - 4 - textWidth(yLabels[i], fs), py - Math.floor(th / 2), yLabels[i], TEXT, fs);
  });
  y2Ticks.forEach((v, i) => {
    const py = Math.round(sy2(v));
    r.hline(plotX + plotW + 1, plotX + plotW + tick, py, AXIS);
    r.text(plotX + plotW + tick + 4, py - Math.floor(th / 2), y2Labels[i], TEXT, fs);
  });
  xTicks.forEach((v, i) => {
    const px = Math.round(sx(v));
    r.vline(px, plotY, plotY + plotH, GRID);
    r.vline(px, plotY + plotH, plotY + plotH + tick, AXIS);
    const label = xLabels[i];
    const lw = textWidth(label, fs);
    const lx = Math.min(W - pad - lw, Math.max(pad, px - Math.floor(lw / 2)));
    r.text(lx, plotY + plotH + tick + 4, label, TEXT, fs);
  });

  // axes
  r.vline(plotX, plotY, plotY + plotH, AXIS);
  r.hline(plotX, plotX + plotW, plotY + plotH, AXIS);
  if (hasRight) r.vline(plotX + plotW, plotY, plotY + plotH, AXIS);

  // axis labels
  if (opts.xLabel) {
    r.text(Math.round(plotX + (plotW - textWidth(opts.xLabel, fs)) / 2), H - pad - th, opts.xLabel, MUTED, fs);
  }
  if (opts.yLabel) {
    const len = textWidth(opts.yLabel, fs);
    r.text(pad, Math.round(plotY + (plotH - len) / 2), opts.yLabel, MUTED, fs, -90);
  }
  if (hasRight && opts.y2Label) {
    const len = textWidth(opts.y2Label, fs);
    r.text(W - pad - lineH, Math.round(plotY + (plotH - len) / 2), opts.y2Label, MUTED, fs, 90);
  }

  // markers (vertical dashed lines)
  for (const m of opts.markers ?? []) {
    if (m.x < x.min || m.x > x.max) continue;
    const px = Math.round(sx(m.x));
    const color = m.color ?? "#888888";
    r.vline(px, plotY, plotY + plotH, color, 6);
    if (m.label) {
      const lw = textWidth(m.label, fs);
      const lx = px + 4 + lw <= plotX + plotW ? px + 4 : px - 4 - lw;
      r.text(lx, plotY + plotH - th - 6, m.label, color, fs);
    }
  }

  // series
  const clip = { x: plotX, y: plotY - 1, w: plotW + 1, h: plotH + 2 };
  opts.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const toY = s.axis === "right" ? sy2 : sy;
    const pts = s.points.map((p) => [sx(p.x), toY(p.y)] as const);
    r.polyline(pts, color, s.width ?? 2, clip);
    if (s.markers) for (const [px, py] of pts) if (Number.isFinite(px) && Number.isFinite(py)) r.dot(px, py, 3, color);
  });

  // legend
  if ((opts.legend ?? "top-right") !== "none" && opts.series.length > 0) {
    const swatch = 18;
    const rowH = lineH + 4;
    const names = opts.series.map((s) => (s.axis === "right" && left.length ? `${s.name} (right)` : s.name));
    const boxW = swatch + 8 + Math.max(...names.map((n) => textWidth(n, fs))) + 16;
    const boxH = names.length * rowH + 10;
    const bx = opts.legend === "top-left" ? plotX + 10 : plotX + plotW - boxW - 10;
    const by = plotY + 10;
    r.fillRect(bx, by, boxW, boxH, "#ffffff", 0.9);
    r.strokeRect(bx, by, boxW, boxH, "#bbbbbb");
    names.forEach((n, i) => {
      const color = opts.series[i].color ?? PALETTE[i % PALETTE.length];
      const cy = by + 6 + i * rowH + Math.floor(th / 2);
      r.polyline(
        [
          [bx + 8, cy],
          [bx + 8 + swatch, cy],
        ],
        color,
        opts.series[i].width ?? 2,
      );
      r.text(bx + 8 + swatch + 8, cy - Math.floor(th / 2), n, TEXT, fs);
    });
  }
  return r;
}

/** Render and write a PNG; creates the directory. Returns the path. */
export function writeLineChart(path: string, opts: LineChartOptions): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderLineChart(opts).toPng());
  return path;
}

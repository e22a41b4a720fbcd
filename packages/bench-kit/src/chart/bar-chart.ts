/** Horizontal bar charts as PNG: one labelled bar per row, its value printed beside it, optional goal ticks. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { CELL_H, textHeight, textWidth } from "./font.js";
import { formatTicks, PALETTE, ticks } from "./line-chart.js";
import { Raster } from "./raster.js";

export interface Bar {
  label: string;
  value: number;
  /** Text printed after the bar (default: the value with 2 significant decimals). */
  valueLabel?: string;
  /** A dashed tick across this bar's row at this value (e.g. the target ratio). */
  goal?: number;
  color?: string;
}

export interface BarChartOptions {
  bars: Bar[];
  title?: string;
  /** Label under the value axis. */
  xLabel?: string;
  /** A dashed line across every row (e.g. 1 for "parity"). */
  reference?: { value: number; label?: string };
  /** Default 1000 wide; the height follows the number of bars unless given. */
  width?: number;
  height?: number;
  /** Axis maximum; default a nice value above every bar, goal and the reference. */
  max?: number;
  fontScale?: number;
}

const AXIS = "#333333";
const GRID = "#e2e2e2";
const TEXT = "#222222";
const MUTED = "#555555";
const GOAL = "#222222";

function defaultValueLabel(v: number): string {
  if (!Number.isFinite(v)) return "n/a";
  return v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);
}

/** Render a horizontal bar chart to a raster. Values below 0 or not finite draw no bar. */
export function renderBarChart(opts: BarChartOptions): Raster {
  const fs = opts.fontScale ?? 2;
  const th = textHeight(fs);
  const lineH = CELL_H * fs;
  const pad = 12;
  const rowH = lineH + 14;
  const titleH = opts.title ? CELL_H * (fs + 1) + pad : 0;
  const axisH = lineH + 10 + (opts.xLabel ? lineH + pad / 2 : 0);
  const W = opts.width ?? 1000;
  const H = opts.height ?? pad * 2 + titleH + opts.bars.length * rowH + axisH + 6;
  const r = new Raster(W, H);

  const finite = opts.bars.flatMap((b) => [b.value, b.goal ?? 0]).filter((v) => Number.isFinite(v));
  const top = opts.max ?? Math.max(1e-9, ...finite, opts.reference?.value ?? 0) * 1.08;
  const xTicks = ticks(0, top, Math.max(3, Math.floor(W / 140)));
  const max = opts.max ?? xTicks[xTicks.length - 1] ?? top;
  const labels = opts.bars.map((b) => b.valueLabel ?? defaultValueLabel(b.value));

  const labelW = Math.max(0, ...opts.bars.map((b) => textWidth(b.label, fs)));
  const plotX = pad + labelW + 10;
  const valueRoom = Math.max(0, ...labels.map((l) => textWidth(l, fs))) + 10;
  const plotW = Math.max(10, W - pad - valueRoom - plotX);
  const plotY = pad + titleH;
  const plotH = opts.bars.length * rowH;
  const sx = (v: number) => plotX + (Math.min(Math.max(v, 0), max) / max) * plotW;

  if (opts.title) {
    const ts = textWidth(opts.title, fs + 1) <= W - 2 * pad ? fs + 1 : fs;
    r.text(Math.max(pad, Math.round((W - textWidth(opts.title, ts)) / 2)), pad, opts.title, TEXT, ts);
  }

  const tickLabels = formatTicks(xTicks);
  xTicks.forEach((v, i) => {
    const px = Math.round(sx(v));
    r.vline(px, plotY, plotY + plotH, GRID);
    r.vline(px, plotY + plotH, plotY + plotH + 5, AXIS);
    const lw = textWidth(tickLabels[i], fs);
    r.text(Math.min(W - pad - lw, Math.max(pad, px - Math.floor(lw / 2))), plotY + plotH + 9, tickLabels[i], TEXT, fs);
  });
  r.vline(plotX, plotY, plotY + plotH, AXIS);
  r.hline(plotX, plotX + plotW, plotY + plotH, AXIS);
  if (opts.xLabel) r.text(Math.round(plotX + (plotW - textWidth(opts.xLabel, fs)) / 2), H - pad - th, opts.xLabel, MUTED, fs);

  opts.bars.forEach((b, i) => {
    const y = plotY + i * rowH;
    const barTop = y + 5;
    const barH = rowH - 10;
    r.text(plotX - 10 - textWidth(b.label, fs), y + Math.floor((rowH - th) / 2), b.label, TEXT, fs);
    const end = Number.isFinite(b.value) && b.value > 0 ? Math.max(plotX + 1, Math.round(sx(b.value))) : plotX;
    if (end > plotX) r.fillRect(plotX + 1, barTop, end - plotX, barH, b.color ?? PALETTE[i % PALETTE.length]);
    r.text(end + 6, y + Math.floor((rowH - th) / 2), labels[i], TEXT, fs);
    if (b.goal !== undefined && Number.isFinite(b.goal)) {
      const gx = Math.round(sx(b.goal));
      for (const dx of [-1, 0, 1]) r.vline(gx + dx, barTop - 4, barTop + barH + 4, GOAL, 4);
    }
  });

  if (opts.reference && opts.reference.value <= max) {
    const px = Math.round(sx(opts.reference.value));
    r.vline(px, plotY, plotY + plotH, "#888888", 6);
    if (opts.reference.label) r.text(px + 4, plotY + plotH - th - 2, opts.reference.label, MUTED, fs);
  }
  return r;
}

/** Render and write a PNG; creates the directory. Returns the path. */
export function writeBarChart(path: string, opts: BarChartOptions): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderBarChart(opts).toPng());
  return path;
}

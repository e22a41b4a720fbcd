import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { formatTicks, renderLineChart, ticks, writeLineChart } from "../src/chart/index.js";

describe("line chart PNG", () => {
  it("writes a valid PNG of the expected size with the series drawn", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-kit-chart-"));
    const path = writeLineChart(join(dir, "sub", "chart.png"), {
      title: "accepted vs drained",
      width: 640,
      height: 360,
      xLabel: "time (s)",
      yLabel: "per second",
      y2Label: "p99 ms",
      series: [
        { name: "accepted/s", color: "#ff0000", points: Array.from({ length: 30 }, (_, t) => ({ x: t, y: t < 10 ? 1000 : 0 })) },
        { name: "drained/s", color: "#0000ff", points: Array.from({ length: 30 }, (_, t) => ({ x: t, y: 400 })) },
        { name: "p99", axis: "right", points: [{ x: 0, y: 5 }, { x: 29, y: 50 }], markers: true },
      ],
      markers: [{ x: 10, label: "burst ends" }],
    });
    const bytes = readFileSync(path);
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const png = PNG.sync.read(bytes);
    expect(png.width).toBe(640);
    expect(png.height).toBe(360);
    let red = 0;
    let blue = 0;
    let dark = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
      if (r > 200 && g < 60 && b < 60) red++;
      if (b > 200 && r < 60 && g < 60) blue++;
      if (r < 80 && g < 80 && b < 80) dark++; // axes and text
    }
    expect(red).toBeGreaterThan(200);
    expect(blue).toBeGreaterThan(200);
    expect(dark).toBeGreaterThan(1000);
  });

  it("copes with empty and NaN-only series", () => {
    const r = renderLineChart({ series: [{ name: "none", points: [] }, { name: "nan", points: [{ x: 1, y: Number.NaN }] }], width: 200, height: 120 });
    expect(r.width).toBe(200);
    expect(PNG.sync.read(r.toPng()).height).toBe(120);
  });

  it("picks nice ticks with one suffix per axis", () => {
    expect(formatTicks(ticks(0, 12_000))).toEqual(["0", "2k", "4k", "6k", "8k", "10k", "12k"]);
    expect(formatTicks(ticks(0, 1))).toEqual(["0", "0.2", "0.4", "0.6", "0.8", "1"]);
    expect(formatTicks(ticks(0, 2_500_000))).toEqual(["0", "0.5M", "1M", "1.5M", "2M", "2.5M"]);
  });
});

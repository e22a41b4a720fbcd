import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { renderBarChart, writeBarChart } from "../src/chart/index.js";

function countColour(png: PNG, match: (r: number, g: number, b: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4) if (match(png.data[i], png.data[i + 1], png.data[i + 2])) n++;
  return n;
}

describe("bar chart PNG", () => {
  it("draws bars whose lengths follow their values", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-kit-bars-"));
    const path = writeBarChart(join(dir, "sub", "bars.png"), {
      title: "Runplane / peer",
      xLabel: "ratio",
      width: 600,
      reference: { value: 1, label: "parity" },
      bars: [
        { label: "short", value: 0.5, color: "#ff0000", goal: 2 },
        { label: "long", value: 2, color: "#0000ff", valueLabel: "2.0x" },
      ],
    });
    const png = PNG.sync.read(readFileSync(path));
    expect(png.width).toBe(600);
    const red = countColour(png, (r, g, b) => r > 200 && g < 60 && b < 60);
    const blue = countColour(png, (r, g, b) => b > 200 && r < 60 && g < 60);
    expect(red).toBeGreaterThan(500);
    // same bar height, four times the value: about four times the pixels
    expect(blue / red).toBeGreaterThan(3.5);
    expect(blue / red).toBeLessThan(4.5);
    expect(countColour(png, (r, g, b) => r < 80 && g < 80 && b < 80)).toBeGreaterThan(500); // text, axis, goal tick
  });

  it("grows with the number of bars and skips bars without a finite positive value", () => {
    const one = renderBarChart({ bars: [{ label: "a", value: 1 }] });
    const three = renderBarChart({ bars: [{ label: "a", value: 1 }, { label: "n/a", value: Number.NaN }, { label: "zero", value: 0 }] });
    expect(three.height).toBeGreaterThan(one.height);
    expect(PNG.sync.read(three.toPng()).width).toBe(1000);
  });
});

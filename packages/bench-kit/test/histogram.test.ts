import { describe, expect, it } from "vitest";
import { Histogram } from "../src/histogram.js";

describe("Histogram", () => {
  it("gives nearest-rank percentiles within 1 % on 1..10000 ms", () => {
    const h = new Histogram();
    for (let v = 1; v <= 10_000; v++) h.record(v);
    const s = h.summary();
    expect(s.count).toBe(10_000);
    expect(s.min).toBe(1);
    expect(s.max).toBe(10_000);
    expect(s.mean).toBeCloseTo(5000.5, 3);
    for (const [p, exact] of [
      [50, 5000],
      [90, 9000],
      [99, 9900],
      [99.9, 9990],
      [100, 10_000],
    ] as const) {
      const got = h.percentile(p);
      expect(Math.abs(got - exact) / exact).toBeLessThan(0.01);
      expect(got).toBeGreaterThanOrEqual(exact); // reported as the bucket's highest value
    }
  });

  it("is exact below 256 µs and handles a skewed distribution", () => {
    const h = new Histogram();
    for (let i = 0; i < 990; i++) h.record(0.1); // 100 µs
    for (let i = 0; i < 10; i++) h.record(250); // 250 ms tail
    expect(h.percentile(50)).toBe(0.1);
    expect(h.percentile(99)).toBe(0.1);
    expect(h.percentile(99.1)).toBeCloseTo(250, -1);
    expect(h.max).toBe(250);
  });

  it("merges, resets and copes with huge values", () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let v = 1; v <= 500; v++) a.record(v);
    for (let v = 501; v <= 1000; v++) b.record(v);
    a.merge(b);
    expect(a.count).toBe(1000);
    expect(Math.abs(a.percentile(50) - 500) / 500).toBeLessThan(0.01);
    const big = new Histogram();
    big.record(3 * 3600_000); // 3 h in ms = 1.08e10 µs
    big.record(1);
    expect(Math.abs(big.percentile(100) - 3 * 3600_000) / (3 * 3600_000)).toBeLessThan(0.01);
    expect(big.percentile(50)).toBeCloseTo(1, 1);
    a.reset();
    expect(a.count).toBe(0);
    expect(a.percentile(99)).toBe(0);
  });
});

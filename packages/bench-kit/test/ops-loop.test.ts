import { describe, expect, it } from "vitest";
import { runClosedLoopOps } from "../src/load/index.js";
import { sleep } from "./helpers.js";

describe("closed loop over an in-process operation", () => {
  it("keeps `concurrency` operations in flight and records only the measured window", async () => {
    let inFlight = 0;
    let peak = 0;
    const seen = new Set<number>();
    const result = await runClosedLoopOps({
      concurrency: 4,
      warmupMs: 50,
      durationMs: 200,
      op: async (i) => {
        seen.add(i);
        peak = Math.max(peak, ++inFlight);
        await sleep(5);
        inFlight--;
      },
    });
    expect(peak).toBe(4);
    expect(result.ok).toBeGreaterThan(0);
    expect(result.ok).toBeLessThan(seen.size); // warm-up operations ran but were not counted
    expect(result.errors).toBe(0);
    expect(result.latency.count).toBe(result.ok);
    expect(result.latency.p50).toBeGreaterThanOrEqual(4);
    expect(result.perSec).toBeCloseTo(result.ok / (result.elapsedMs / 1000), 6);
  });

  it("counts rejections as errors and keeps the first message", async () => {
    const result = await runClosedLoopOps({
      concurrency: 2,
      durationMs: 50,
      op: async (i) => {
        await sleep(1);
        if (i % 2 === 1) throw new Error(`boom ${i}`);
      },
    });
    expect(result.errors).toBeGreaterThan(0);
    expect(result.firstError).toMatch(/^boom \d+$/);
  });
});

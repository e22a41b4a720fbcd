import { describe, expect, it } from "vitest";
import { measureStartLatency, type PeerQueue } from "../src/peers/index.js";
import { sleep } from "./helpers.js";

/** An in-memory queue whose adds take `addMs` and whose worker starts each job at once. */
function memoryQueue(addMs: number): PeerQueue {
  let handler: ((p: Record<string, unknown>) => void) | undefined;
  return {
    label: "memory",
    add: async (payload) => {
      await sleep(addMs);
      handler?.(payload);
    },
    addMany: async () => undefined,
    startWorker: async (_concurrency, h) => {
      handler = h;
    },
    stopWorker: async () => {
      handler = undefined;
    },
    pending: async () => 0,
    clear: async () => undefined,
    close: async () => undefined,
  };
}

describe("add → start latency, open loop", () => {
  it("measures from the intended add time when the queue keeps up", async () => {
    const result = await measureStartLatency(memoryQueue(2), { rate: 100, durationMs: 300, concurrency: 1, drainTimeoutMs: 2_000, payloadBytes: 50 });
    expect(result.scheduled).toBe(30);
    expect(result.started).toBe(30);
    expect(result.notSent).toBe(0);
    expect(result.backlogAtEnd).toBe(0);
    expect(result.latency.p50).toBeGreaterThanOrEqual(2);
    expect(result.lowerBound).toBe(false);
  });

  it("ends at the deadline and reports the backlog when the queue cannot keep up", async () => {
    const began = Date.now();
    // 2 adds in flight × 100 ms each = 20/s against 200/s offered
    const result = await measureStartLatency(memoryQueue(100), { rate: 200, durationMs: 500, concurrency: 1, drainTimeoutMs: 500, payloadBytes: 50, maxInFlight: 2 });
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(result.scheduled).toBe(100);
    expect(result.notSent).toBeGreaterThan(50);
    expect(result.backlogAtWindowEnd).toBeGreaterThan(50);
    expect(result.backlogAtEnd).toBe(result.scheduled - result.started);
    expect(result.latency.max).toBeGreaterThan(100); // delayed adds count from when they were due
    expect(result.lowerBound).toBe(true);
    expect(result.latency.count).toBe(result.scheduled); // the unstarted ones are in, with their age
  });
});

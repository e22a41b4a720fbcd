import { describe, expect } from "vitest";
import { redisTest } from "@internal/testcontainers";
import { MeterProvider, MetricReader, type MetricData } from "@opentelemetry/sdk-metrics";
import { MOLLIFIER_METRICS, MollifierDrainer, MollifierMetrics, MollifierStaleSweep, RetryableDrainError } from "../src/mollifier/index.js";
import { acceptInput, makeBuffer } from "./mollifierHelpers.js";

class TestReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function instruments() {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const metrics = new MollifierMetrics(provider.getMeter("runplane.mollifier"));
  const collect = async (): Promise<Map<string, MetricData>> => {
    const { resourceMetrics } = await reader.collect();
    return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
  };
  return { metrics, collect };
}

const BANNED = ["envId", "env", "orgId", "org", "runId", "run"];

describe("mollifier telemetry", () => {
  redisTest("decisions, drain outcomes, dwell time and buffer gauges, with no high-cardinality attributes", async ({ redis }) => {
    const { metrics, collect } = instruments();
    const buffer = makeBuffer(redis);
    metrics.recordDecision("mollify", { enrolled: true, reason: "per_env_rate" });
    metrics.recordDecision("pass_through", { enrolled: false, reason: "ignored" });
    await buffer.accept(acceptInput("run_ok", { createdAt: new Date(Date.now() - 250) }));
    await buffer.accept(acceptInput("run_retry"));
    await buffer.accept(acceptInput("run_bad"));
    await buffer.accept(acceptInput("run_waiting", { envId: "env_b", orgId: "org_b" }));
    const drainer = new MollifierDrainer({
      buffer,
      metrics,
      maxOrgsPerTick: 1,
      handler: async (e) => {
        if (e.runId === "run_retry") throw new RetryableDrainError("timeout");
        if (e.runId === "run_bad") throw new Error("invalid");
      },
    });
    await drainer.runOnce(); // org_a only (one org per tick)

    const byName = await collect();
    const decisions = byName.get(MOLLIFIER_METRICS.decisions)!;
    expect(decisions.dataPoints.map((p) => p.attributes)).toEqual(
      expect.arrayContaining([{ outcome: "mollify", enrolled: "true", reason: "per_env_rate" }, { outcome: "pass_through", enrolled: "false" }]),
    );
    const drained = byName.get(MOLLIFIER_METRICS.drained)!;
    expect(Object.fromEntries(drained.dataPoints.map((p) => [p.attributes.outcome, p.value]))).toEqual({ drained: 1, retried: 1, failed: 1 });
    const dwell = byName.get(MOLLIFIER_METRICS.dwell)!;
    expect(dwell.descriptor.unit).toBe("ms");
    const histogram = dwell.dataPoints[0]!.value as { count: number; min?: number };
    expect(histogram.count).toBe(1);
    expect(histogram.min!).toBeGreaterThanOrEqual(250);
    expect(byName.get(MOLLIFIER_METRICS.bufferDepth)!.dataPoints[0]!.value).toBe(2); // run_retry (delayed) + run_waiting
    expect(byName.get(MOLLIFIER_METRICS.draining)!.dataPoints[0]!.value).toBe(0);

    for (const metric of byName.values()) {
      for (const point of metric.dataPoints) for (const key of Object.keys(point.attributes)) expect(BANNED).not.toContain(key);
    }
    await buffer.close();
  });

  redisTest("only the sweep lease holder reports the stale-entries gauge", async ({ redis }) => {
    const one = instruments();
    const two = instruments();
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1", { createdAt: new Date(Date.now() - 600_000) }));
    const holder = new MollifierStaleSweep({ buffer, metrics: one.metrics });
    const other = new MollifierStaleSweep({ buffer, metrics: two.metrics });
    const input = { now: Date.now(), thresholdMs: 300_000, shardCount: 1 };
    await holder.runStaleSweepTick(input);
    await other.runStaleSweepTick(input);
    expect((await one.collect()).get(MOLLIFIER_METRICS.staleEntries)!.dataPoints[0]!.value).toBe(1);
    expect((await two.collect()).get(MOLLIFIER_METRICS.staleEntries)?.dataPoints ?? []).toEqual([]);
    await buffer.close();
  });
});

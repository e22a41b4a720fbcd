import { metrics, type Attributes, type Counter, type Histogram, type Meter, type ObservableGauge, type ObservableResult } from "@opentelemetry/api";

export const MOLLIFIER_METER_NAME = "runplane.mollifier";

/** Metric names. Attributes are low-cardinality only: never env, org or run ids. */
export const MOLLIFIER_METRICS = {
  /** Counter; `outcome` pass_through | shadow_log | mollify, `enrolled` "true" | "false", `reason` on diverts. */
  decisions: "mollifier.decisions",
  /** Counter of drain results; `outcome` drained | retried | failed. */
  drained: "mollifier.drain.entries",
  /** Histogram, ms from accept to materialised (drained outcome only). */
  dwell: "mollifier.drain.dwell_time",
  /** Observable gauge: unacked entries (queued + delayed + draining). */
  bufferDepth: "mollifier.buffer.depth",
  /** Observable gauge: popped, unacked entries. */
  draining: "mollifier.draining.current",
  /** Observable gauge: entries older than the stale threshold, as of the latest sweep by the lease holder. */
  staleEntries: "mollifier.stale_entries.current",
} as const;

export type DecisionOutcome = "pass_through" | "shadow_log" | "mollify";
export type DrainOutcome = "drained" | "retried" | "failed";

type GaugeSource = () => Promise<number | undefined> | number | undefined;

/**
 * The mollifier's instruments. Gauges read their source at collection time; a source that throws or
 * returns undefined reports nothing for that collection (an instance that is not the sweep's lease
 * holder must not report a stale total, or a sum across instances would multiply it).
 */
export class MollifierMetrics {
  private readonly decisions: Counter;
  private readonly drainedCounter: Counter;
  private readonly dwell: Histogram;
  private readonly gauges = new Map<keyof typeof MOLLIFIER_METRICS, { gauge: ObservableGauge; source?: GaugeSource }>();

  constructor(meter: Meter = metrics.getMeter(MOLLIFIER_METER_NAME)) {
    this.decisions = meter.createCounter(MOLLIFIER_METRICS.decisions, { description: "Mollifier gate decisions" });
    this.drainedCounter = meter.createCounter(MOLLIFIER_METRICS.drained, { description: "Buffered entries processed by the drainer" });
    this.dwell = meter.createHistogram(MOLLIFIER_METRICS.dwell, { description: "Time from accept to materialisation", unit: "ms" });
    for (const name of ["bufferDepth", "draining", "staleEntries"] as const) {
      const gauge = meter.createObservableGauge(MOLLIFIER_METRICS[name]);
      const slot: { gauge: ObservableGauge; source?: GaugeSource } = { gauge };
      gauge.addCallback(async (result: ObservableResult) => {
        if (!slot.source) return;
        try {
          const value = await slot.source();
          if (value !== undefined) result.observe(value);
        } catch {
          // keep silent: a failed read reports nothing for this collection
        }
      });
      this.gauges.set(name, slot);
    }
  }

  recordDecision(outcome: DecisionOutcome, labels: { enrolled: boolean; reason?: string }): void {
    const attributes: Attributes = { outcome, enrolled: labels.enrolled ? "true" : "false" };
    if (labels.reason && outcome !== "pass_through") attributes.reason = labels.reason;
    this.decisions.add(1, attributes);
  }

  recordDrain(outcome: DrainOutcome, dwellMs?: number): void {
    this.drainedCounter.add(1, { outcome });
    if (outcome === "drained" && dwellMs !== undefined) this.dwell.record(Math.max(0, dwellMs));
  }

  /** Attach the source a gauge reads (replaces any previous one). */
  observe(name: "bufferDepth" | "draining" | "staleEntries", source: GaugeSource): void {
    this.gauges.get(name)!.source = source;
  }
}

let defaultMetrics: MollifierMetrics | undefined;

/** The process-wide instruments on the global meter provider (created on first use). */
export function mollifierMetrics(): MollifierMetrics {
  defaultMetrics ??= new MollifierMetrics();
  return defaultMetrics;
}

/** For the webapp gate: exactly one call per evaluation. */
export function recordMollifierDecision(outcome: DecisionOutcome, labels: { enrolled: boolean; reason?: string }): void {
  mollifierMetrics().recordDecision(outcome, labels);
}

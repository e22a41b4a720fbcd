import { metrics, type Counter, type Meter } from "@opentelemetry/api";

export const SCHEDULER_METRICS = {
  fired: "runplane_schedule_ticks_fired",
  skipped: "runplane_schedule_ticks_skipped",
  lag: "runplane_scheduler_lag_ms",
} as const;

export type TickSkipReason = "missed" | "environment_paused" | "environment_gone";

/**
 * `/metrics`: ticks fired, ticks skipped (by reason) and the scheduler's lag — how long after its
 * tick time the latest tick fired, as seen by the instance holding the lease. Create after
 * setupMetrics() (instruments made on the no-op provider stay no-ops).
 */
export class SchedulerMetrics {
  private readonly fired: Counter;
  private readonly skipped: Counter;
  private lagMs: number | undefined;

  constructor(meter: Meter = metrics.getMeter("runplane-scheduler")) {
    this.fired = meter.createCounter(SCHEDULER_METRICS.fired, { description: "Schedule ticks that triggered a run" });
    this.skipped = meter.createCounter(SCHEDULER_METRICS.skipped, { description: "Schedule ticks that did not trigger a run" });
    meter
      .createObservableGauge(SCHEDULER_METRICS.lag, { description: "Milliseconds between the latest fired tick's time and its firing" })
      .addCallback((result) => {
        if (this.lagMs !== undefined) result.observe(this.lagMs);
      });
  }

  tickFired(lagMs: number): void {
    this.fired.add(1);
    this.lagMs = Math.max(0, lagMs);
  }

  ticksSkipped(count: number, reason: TickSkipReason): void {
    if (count > 0) this.skipped.add(count, { reason });
  }
}

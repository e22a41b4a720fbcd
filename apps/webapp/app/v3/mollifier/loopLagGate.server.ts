import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

/**
 * Backpressure for the in-process drainer: the drainer shares the event loop with the HTTP server,
 * and a burst is exactly when both want it. Before each replay the drainer waits (bounded) while
 * the loop's recent delay is above `maxLagMs`, so accepting triggers keeps priority and the drain
 * takes the idle time. One sampler per process; the window is reset every `windowMs`.
 */
export class LoopLagGate {
  private readonly histogram: IntervalHistogram;
  private lagMs = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: { maxLagMs: number; windowMs?: number; maxWaitMs?: number }) {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.lagMs = this.histogram.percentile(90) / 1e6;
      this.histogram.reset();
    }, options.windowMs ?? 200);
    this.timer.unref();
  }

  /** The loop delay (p90 ms) over the last window. */
  get currentLagMs(): number {
    return this.lagMs;
  }

  /** Resolves once the loop is calm again, or after `maxWaitMs` (the drain never stalls for good). */
  async waitForCalm(): Promise<void> {
    const deadline = Date.now() + (this.options.maxWaitMs ?? 2_000);
    while (this.lagMs > this.options.maxLagMs && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}

import { Histogram, type HistogramSummary } from "../histogram.js";

export interface OpsLoopOptions {
  /** Operations in flight at once (each worker starts its next one when the previous settles). */
  concurrency: number;
  /** Measured window; operations started during `warmupMs` before it are not recorded. */
  durationMs: number;
  warmupMs?: number;
  /** One operation; `i` is unique per call. A rejection counts as an error. */
  op: (i: number) => Promise<unknown>;
}

export interface OpsLoopResult {
  concurrency: number;
  /** ISO time of the measured start. */
  startedAt: string;
  elapsedMs: number;
  ok: number;
  errors: number;
  /** The first error's message, to tell a broken arm from a slow one. */
  firstError?: string;
  /** ok / elapsed seconds. */
  perSec: number;
  latency: HistogramSummary;
}

/**
 * The closed loop of `runClosedLoop` for an in-process call instead of an HTTP request (a library's
 * `addJob`, `queue.add`): `concurrency` workers, each awaiting its operation before starting the next.
 */
export async function runClosedLoopOps(opts: OpsLoopOptions): Promise<OpsLoopResult> {
  const t0 = performance.now() + (opts.warmupMs ?? 0);
  const endAt = t0 + opts.durationMs;
  const histogram = new Histogram();
  let index = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  let lastDoneAt = t0;

  const worker = async () => {
    for (;;) {
      const start = performance.now();
      if (start >= endAt) return;
      const measured = start >= t0;
      try {
        await opts.op(index++);
        const done = performance.now();
        if (measured) {
          ok++;
          histogram.record(done - start);
          lastDoneAt = Math.max(lastDoneAt, done);
        }
      } catch (error) {
        if (measured) errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const elapsedMs = Math.max(endAt, lastDoneAt) - t0;
  return {
    concurrency: opts.concurrency,
    startedAt: new Date(performance.timeOrigin + t0).toISOString(),
    elapsedMs,
    ok,
    errors,
    firstError,
    perSec: elapsedMs > 0 ? ok / (elapsedMs / 1000) : 0,
    latency: histogram.summary(),
  };
}

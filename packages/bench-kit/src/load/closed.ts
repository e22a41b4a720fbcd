import { Recorder } from "./recorder.js";
import { Sender } from "./sender.js";
import type { ClosedLoopOptions, LoadResult } from "./types.js";

/**
 * Closed loop: `connections` workers, each sends its next request as soon as the previous one
 * completed. Finds the maximum throughput; latency is from the actual send time. Warm-up requests
 * (started before warm-up ends) are sent but not recorded.
 */
export async function runClosedLoop(opts: ClosedLoopOptions): Promise<LoadResult> {
  if (opts.durationMs === undefined && opts.requests === undefined) {
    throw new Error("runClosedLoop: give durationMs or requests");
  }
  const sender = new Sender(opts);
  const warmupMs = opts.warmupMs ?? 0;
  const begin = performance.now();
  const t0 = begin + warmupMs;
  const recorder = new Recorder(t0);
  const endAt = opts.durationMs !== undefined ? t0 + opts.durationMs : Number.POSITIVE_INFINITY;
  const limit = opts.requests ?? Number.POSITIVE_INFINITY;
  let index = 0;
  let measuredStarted = 0;

  const worker = async () => {
    for (;;) {
      if (opts.signal?.aborted) return;
      const now = performance.now();
      if (now >= endAt) return;
      const measured = now >= t0;
      if (measured) {
        if (measuredStarted >= limit) return;
        measuredStarted++;
      }
      await sender.send(index++, now, measured ? recorder : null, false);
    }
  };

  try {
    await Promise.all(Array.from({ length: sender.connections }, worker));
  } finally {
    await sender.close();
  }
  const end = opts.durationMs !== undefined ? Math.max(endAt, recorder.lastDoneAt) : recorder.lastDoneAt;
  return recorder.build(
    { mode: "closed", url: opts.url, connections: sender.connections, targetRate: undefined },
    Math.max(0, end - t0),
    0,
    0,
    false,
  );
}

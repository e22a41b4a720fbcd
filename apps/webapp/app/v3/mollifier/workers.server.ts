import { BackgroundLoop } from "@runplane/core/lifecycle";
import { MollifierDrainer, MollifierStaleSweep, type MollifierBuffer } from "@runplane/redis-worker/mollifier";
import type { BackgroundWorker } from "~/services/backgroundWorkers.server";
import type { MollifierConfig } from "./config.server";
import { createDrainerHandler, createTerminalFailureHandler, isRetryableReplayError, type DrainerHandlerDeps } from "./drainerHandler.server";
import { errorMessage } from "./gate.server";
import { LoopLagGate } from "./loopLagGate.server";
import type { MollifierLog } from "./types.server";

/**
 * The drainer as a background worker: pops org→env fairly, replays each entry, retries retryable
 * failures after a backoff, writes SYSTEM_FAILURE rows for terminal ones. Several instances are safe
 * (pops are atomic and leased; replays are idempotent per run id). `stop` lets in-flight replays
 * finish within the deadline; anything cut off is handed back when its lease expires.
 */
export function createDrainerWorker(
  deps: DrainerHandlerDeps & { buffer: MollifierBuffer; config: MollifierConfig["drainer"] }
): BackgroundWorker & { drainer: MollifierDrainer } {
  const replay = createDrainerHandler(deps);
  // created on start: the sampler's timer must not run in processes that never drain
  let gate: LoopLagGate | undefined;
  const drainer = new MollifierDrainer({
    buffer: deps.buffer,
    handler: async (entry) => {
      await gate?.waitForCalm();
      await replay(entry);
    },
    onTerminalFailure: createTerminalFailureHandler(deps),
    isRetryable: isRetryableReplayError,
    concurrency: deps.config.concurrency,
    batchSize: deps.config.batchSize,
    maxAttempts: deps.config.maxAttempts,
    leaseMs: deps.config.leaseMs,
    logger: deps.logger,
  });
  return {
    name: "mollifier-drainer",
    drainer,
    start: () => {
      if (deps.config.maxLoopLagMs > 0) gate ??= new LoopLagGate({ maxLagMs: deps.config.maxLoopLagMs });
      drainer.start();
    },
    stop: async (deadlineMs: number) => {
      const stopped = await drainer.stop({ deadlineMs: Math.min(deadlineMs, deps.config.stopDeadlineMs) });
      gate?.close();
      gate = undefined;
      return stopped;
    },
  };
}

/**
 * The stale sweep: one shard per tick under a Redis lease (only the holder sweeps and reports the
 * gauge), read-only on the buffer. Logs each env holding stale entries; never removes anything.
 */
export function createStaleSweepWorker(deps: {
  buffer: MollifierBuffer;
  config: MollifierConfig["staleSweep"];
  logger: MollifierLog;
}): BackgroundWorker & { sweep: MollifierStaleSweep; tick: () => Promise<void> } {
  const sweep = new MollifierStaleSweep({ buffer: deps.buffer, leaseMs: deps.config.leaseMs });
  const tick = async () => {
    const result = await sweep.runStaleSweepTick({ now: Date.now(), thresholdMs: deps.config.thresholdMs, shardCount: deps.config.shardCount });
    if (result.skipped) return;
    for (const [envId, count] of Object.entries(result.counts)) {
      deps.logger.warn("mollifier.stale_entries", { envId, count, staleThresholdMs: deps.config.thresholdMs });
    }
  };
  const loop = new BackgroundLoop({
    name: "mollifier-stale-sweep",
    intervalMs: deps.config.intervalMs,
    tick,
    onError: (error) => deps.logger.warn("mollifier.stale_sweep.failed", { error: errorMessage(error) }),
  });
  return {
    name: "mollifier-stale-sweep",
    sweep,
    tick,
    start: () => loop.start(),
    stop: async (deadlineMs: number) => {
      const stopped = await loop.stop(deadlineMs);
      await sweep.release().catch((error: unknown) => deps.logger.warn("mollifier stale sweep: lease release failed", { error: errorMessage(error) }));
      return stopped;
    },
  };
}

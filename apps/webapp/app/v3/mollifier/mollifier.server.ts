import type { RunEngine } from "@internal/run-engine";
import type { RunStore } from "@internal/run-store";
import type { MintKind } from "@runplane/core";
import { MollifierBuffer } from "@runplane/redis-worker/mollifier";
import type { Redis } from "ioredis";
import type { MollifierConfig } from "./config.server";
import { createTripEvaluator, type TripEvaluator } from "./gate.server";
import type { MollifierLog } from "./types.server";
import { createDrainerWorker, createStaleSweepWorker } from "./workers.server";

/**
 * The mollifier's long-lived pieces, built once per process with the runtime: the buffer (its own
 * Redis connection; every key under REDIS_KEY_PREFIX), the trip evaluator, the drainer and the stale
 * sweep (background workers, each behind its flag).
 */
export type Mollifier = {
  config: MollifierConfig;
  buffer: MollifierBuffer;
  evaluateTrip: TripEvaluator;
  mintKind: MintKind;
  logger: MollifierLog;
  runStore: RunStore;
  engine: RunEngine;
  drainerWorker: ReturnType<typeof createDrainerWorker>;
  staleSweepWorker: ReturnType<typeof createStaleSweepWorker>;
  close(): Promise<void>;
};

export function createMollifier(deps: {
  config: MollifierConfig;
  engine: RunEngine;
  runStore: RunStore;
  logger: MollifierLog;
  mintKind: MintKind;
  /** A client to share (tests); by default the buffer opens its own from config.redisUrl. */
  redis?: Redis;
}): Mollifier {
  const { config, logger } = deps;
  const buffer = new MollifierBuffer({
    redis: deps.redis ?? config.redisUrl,
    namespace: `${config.keyPrefix}mollifier:`,
    logger,
  });
  const evaluateTrip = createTripEvaluator({ buffer, config: () => config.trip, logger });
  const drainerWorker = createDrainerWorker({ buffer, engine: deps.engine, runStore: deps.runStore, logger, config: config.drainer });
  const staleSweepWorker = createStaleSweepWorker({ buffer, config: config.staleSweep, logger });
  return {
    config,
    buffer,
    evaluateTrip,
    mintKind: deps.mintKind,
    logger,
    runStore: deps.runStore,
    engine: deps.engine,
    drainerWorker,
    staleSweepWorker,
    close: () => buffer.close(),
  };
}

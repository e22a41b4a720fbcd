import { ConfigurationError } from "@runplane/core";
import type { Env } from "~/env.server";

/** Boot refuses to start with a mollifier setting that cannot work; the message names the variables. */
export class MollifierConfigurationError extends ConfigurationError {
  constructor(message: string) {
    super("mollifier_misconfigured", `Mollifier misconfiguration: ${message}`);
    this.name = "MollifierConfigurationError";
  }
}

export type MollifierConfig = {
  /** Master switch of the gate (new triggers). The drainer and sweep have their own flags. */
  enabled: boolean;
  trip: { windowMs: number; threshold: number; holdMs: number };
  drainer: {
    enabled: boolean;
    concurrency: number;
    batchSize: number;
    maxAttempts: number;
    /** How long a popped entry stays leased before another instance may take it back. */
    leaseMs: number;
    /** What SIGTERM gives the drainer to finish in-flight replays (inside the shutdown deadline). */
    stopDeadlineMs: number;
    /** Replays wait (≤ 2 s each) while the event loop lags more than this: accepting keeps priority. 0 = off. */
    maxLoopLagMs: number;
  };
  staleSweep: { enabled: boolean; intervalMs: number; thresholdMs: number; shardCount: number; leaseMs: number };
  /** Mutations on an entry that is being drained wait this long for the drain to settle. */
  mutateSafetyNetMs: number;
  /** Pre-gate idempotency claims. */
  claim: { ttlSeconds: number; minTtlSeconds: number; waitMs: number; pollMs: number };
  metadataMaxRetries: number;
  redisUrl: string;
  /** ioredis keyPrefix of the buffer's client: every mollifier key lives under REDIS_KEY_PREFIX. */
  keyPrefix: string;
};

const SHUTDOWN_MARGIN_MS = 1_000;
const DRAIN_LEASE_MS = 60_000;

/** The mollifier's settings from the one env schema, checked for combinations that cannot work. */
export function mollifierConfigFromEnv(env: Env): MollifierConfig {
  const problems: string[] = [];
  const stopDeadlineMs = env.GRACEFUL_SHUTDOWN_TIMEOUT_MS - SHUTDOWN_MARGIN_MS;
  if (env.MOLLIFIER_DRAINER_ENABLED && stopDeadlineMs <= 0) {
    problems.push(
      `GRACEFUL_SHUTDOWN_TIMEOUT_MS (${env.GRACEFUL_SHUTDOWN_TIMEOUT_MS}) must exceed ${SHUTDOWN_MARGIN_MS} ms while MOLLIFIER_DRAINER_ENABLED is on, or in-flight replays are cut off at SIGTERM`
    );
  }
  if (env.MOLLIFIER_DRAINER_ENABLED && stopDeadlineMs >= DRAIN_LEASE_MS) {
    // a replay still running when its lease expires could be replayed by another instance too
    problems.push(`GRACEFUL_SHUTDOWN_TIMEOUT_MS (${env.GRACEFUL_SHUTDOWN_TIMEOUT_MS}) must stay below the drain lease (${DRAIN_LEASE_MS} ms)`);
  }
  if (env.MOLLIFIER_STALE_SWEEP_ENABLED && env.MOLLIFIER_STALE_THRESHOLD_MS < env.MOLLIFIER_TRIP_WINDOW_MS) {
    problems.push(
      `MOLLIFIER_STALE_THRESHOLD_MS (${env.MOLLIFIER_STALE_THRESHOLD_MS}) is below MOLLIFIER_TRIP_WINDOW_MS (${env.MOLLIFIER_TRIP_WINDOW_MS}): every buffered entry would be reported stale`
    );
  }
  if (problems.length > 0) throw new MollifierConfigurationError(problems.join("; "));

  return {
    enabled: env.MOLLIFIER_ENABLED,
    trip: { windowMs: env.MOLLIFIER_TRIP_WINDOW_MS, threshold: env.MOLLIFIER_TRIP_THRESHOLD, holdMs: env.MOLLIFIER_HOLD_MS },
    drainer: {
      enabled: env.MOLLIFIER_DRAINER_ENABLED,
      concurrency: env.MOLLIFIER_DRAIN_CONCURRENCY,
      batchSize: env.MOLLIFIER_DRAIN_BATCH_SIZE,
      maxAttempts: env.MOLLIFIER_DRAIN_MAX_ATTEMPTS,
      leaseMs: DRAIN_LEASE_MS,
      stopDeadlineMs: Math.max(0, stopDeadlineMs),
      maxLoopLagMs: env.MOLLIFIER_DRAIN_MAX_LOOP_LAG_MS,
    },
    staleSweep: {
      enabled: env.MOLLIFIER_STALE_SWEEP_ENABLED,
      intervalMs: env.MOLLIFIER_STALE_SWEEP_INTERVAL_MS,
      thresholdMs: env.MOLLIFIER_STALE_THRESHOLD_MS,
      shardCount: 10,
      // outlives a couple of ticks so the holder keeps it; a dead holder is replaced after this
      leaseMs: Math.max(3 * env.MOLLIFIER_STALE_SWEEP_INTERVAL_MS, 10_000),
    },
    mutateSafetyNetMs: 2_000,
    claim: { ttlSeconds: 30, minTtlSeconds: 5, waitMs: 5_000, pollMs: 25 },
    metadataMaxRetries: 12,
    redisUrl: env.MOLLIFIER_REDIS_URL,
    keyPrefix: env.REDIS_KEY_PREFIX,
  };
}

import type { RedisConnectionOptions } from "@runplane/redis-worker/redis";

export type RunLockerOptions = {
  redis: RedisConnectionOptions;
  /** Namespace for lock keys, after the connection's own `keyPrefix`. Default `runlock:`. */
  keyPrefix?: string;
  /** Lock lifetime; extended while the holder runs. Default 5000 ms. */
  durationMs?: number;
  /** Extend when this much of the lifetime is left. Default 1000 ms. */
  extendBeforeMs?: number;
  /** First retry delay. Default 100 ms. */
  retryDelayMs?: number;
  /** Backoff factor per retry. Default 1.8. */
  retryFactor?: number;
  /** Longest delay between retries. Default 3000 ms. */
  maxRetryDelayMs?: number;
  /** ± fraction applied to every delay. Default 0.15. */
  jitter?: number;
  /** Give up with `LockAcquisitionTimeoutError` after this long. Default 15000 ms. */
  acquireTimeoutMs?: number;
};

export type LockOptions = {
  /** Overrides the locker's `acquireTimeoutMs` for this call. */
  acquireTimeoutMs?: number;
};

/** Passed to the critical section: aborted when an extension failed and the lock may be lost. */
export type LockContext = { signal: AbortSignal };

export interface RunLockerApi {
  /**
   * Runs `fn` while holding every resource (all or none). Re-entrant: within a call chain that already
   * holds some of the resources, only the others are acquired.
   */
  lock<T>(resources: string[], fn: (context: LockContext) => Promise<T>, options?: LockOptions): Promise<T>;
  /** True when the current async call chain holds the resource. */
  isHeld(resource: string): boolean;
  close(): Promise<void>;
}

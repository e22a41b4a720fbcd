import { luaCommand } from "@runplane/redis-worker/jobs";
import type { Redis } from "ioredis";
import { tokenBucketLua } from "./tokenBucket.lua";

export type TokenBucketConfig = {
  /** Most tokens the bucket holds (the burst). */
  size: number;
  /** Tokens added each interval. */
  refill: number;
  intervalMs: number;
};

export type TokenBucketDecision = {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms of the next refill: when a refused caller may try again. */
  resetAt: number;
};

/**
 * A named family of per-key token buckets in Redis (one Lua script: refill, take, expire). Keys are
 * `<prefix><key>`; the caller's prefix carries REDIS_KEY_PREFIX.
 */
export class TokenBucketLimiter {
  readonly #take: (keys: string[], args: Array<string | number>) => Promise<unknown>;

  constructor(
    redis: Redis,
    private readonly keyPrefix: string,
    private readonly config: TokenBucketConfig
  ) {
    this.#take = luaCommand(redis, "runplaneTokenBucket", tokenBucketLua);
  }

  async take(key: string, cost = 1): Promise<TokenBucketDecision> {
    const { size, refill, intervalMs } = this.config;
    const [allowed, remaining, resetAt] = (await this.#take([`${this.keyPrefix}${key}`], [size, refill, intervalMs, cost])) as [
      number,
      number,
      number,
    ];
    return { allowed: allowed === 1, limit: size, remaining: Number(remaining), resetAt: Number(resetAt) };
  }
}

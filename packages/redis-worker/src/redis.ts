import { Redis, type RedisOptions } from "ioredis";

export type RedisConnectionOptions = RedisOptions | string;

/**
 * The one Redis connection factory. Accepts a URL or ioredis options (tests pass options with a
 * `keyPrefix`; ioredis applies it to every key, including Lua KEYS, but not to SCAN patterns).
 */
export function createRedisClient(options: RedisConnectionOptions, name?: string): Redis {
  const base: RedisOptions = { maxRetriesPerRequest: 20, enableAutoPipelining: true, connectionName: name };
  return typeof options === "string" ? new Redis(options, base) : new Redis({ ...base, ...options });
}

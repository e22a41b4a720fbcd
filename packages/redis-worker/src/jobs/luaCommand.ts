import type { Redis } from "ioredis";

export type LuaCommand = (keys: string[], args: Array<string | number>) => Promise<unknown>;

/**
 * Registers a script once per connection (ioredis `defineCommand`: EVALSHA, EVAL on a cache miss)
 * and returns a caller taking keys and args. Key count is passed per call (plans vary in size).
 */
export function luaCommand(redis: Redis, name: string, lua: string): LuaCommand {
  const client = redis as unknown as Record<string, (...args: Array<string | number>) => Promise<unknown>>;
  if (typeof client[name] !== "function") redis.defineCommand(name, { lua });
  const command = client[name]!.bind(redis);
  return (keys, args) => command(keys.length, ...keys, ...args);
}

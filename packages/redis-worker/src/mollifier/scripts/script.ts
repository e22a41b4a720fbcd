import type { Redis } from "ioredis";

/** One named Lua script: its source, how many of its arguments are KEYS, and its command name. */
export type MollifierScript = { name: string; numberOfKeys: number; lua: string };

export type ScriptArg = string | number;
export type RunScript = (keys: string[], args: ScriptArg[]) => Promise<unknown>;

const defined = new WeakMap<Redis, Set<string>>();

/**
 * Registers the script on the client once (ioredis `defineCommand`: EVALSHA, falling back to EVAL
 * and caching the script after a NOSCRIPT) and returns a typed-enough runner.
 */
export function bindScript(redis: Redis, script: MollifierScript): RunScript {
  let names = defined.get(redis);
  if (!names) {
    names = new Set();
    defined.set(redis, names);
  }
  if (!names.has(script.name)) {
    redis.defineCommand(script.name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
    names.add(script.name);
  }
  const command = (redis as unknown as Record<string, (...a: ScriptArg[]) => Promise<unknown>>)[script.name]!;
  return (keys, args) => {
    if (keys.length !== script.numberOfKeys) {
      throw new Error(`${script.name}: expected ${script.numberOfKeys} keys, got ${keys.length}`);
    }
    return command.call(redis, ...keys, ...args);
  };
}

/** Lua lines shared by scripts that need Redis time in milliseconds (one clock for every replica). */
export const LUA_NOW_MS = `
local __t = redis.call('TIME')
local nowMs = tonumber(__t[1]) * 1000 + math.floor(tonumber(__t[2]) / 1000)
`;

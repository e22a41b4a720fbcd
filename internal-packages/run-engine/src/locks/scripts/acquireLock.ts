import type { Redis } from "ioredis";
import { luaCommand } from "@runplane/redis-worker/jobs";
import { acquireLockLua } from "./acquireLock.lua.js";

/** True when every key is now held with `token`. */
export function acquireLockScript(redis: Redis) {
  const run = luaCommand(redis, "runLockAcquireLock", acquireLockLua);
  return async (keys: string[], token: string, durationMs: number): Promise<boolean> => (await run(keys, [token, durationMs])) === 1;
}

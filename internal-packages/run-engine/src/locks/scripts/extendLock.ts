import type { Redis } from "ioredis";
import { luaCommand } from "@runplane/redis-worker/jobs";
import { extendLockLua } from "./extendLock.lua.js";

/** True when every key was still ours and got a fresh lifetime. */
export function extendLockScript(redis: Redis) {
  const run = luaCommand(redis, "runLockExtendLock", extendLockLua);
  return async (keys: string[], token: string, durationMs: number): Promise<boolean> => (await run(keys, [token, durationMs])) === 1;
}

import type { Redis } from "ioredis";
import { luaCommand } from "@runplane/redis-worker/jobs";
import { releaseLockLua } from "./releaseLock.lua.js";

/** Deletes the keys still holding `token`; returns how many. */
export function releaseLockScript(redis: Redis) {
  const run = luaCommand(redis, "runLockReleaseLock", releaseLockLua);
  return async (keys: string[], token: string): Promise<number> => Number(await run(keys, [token]));
}

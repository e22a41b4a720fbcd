import type { Redis } from "ioredis";
import { luaCommand } from "../luaCommand.js";
import type { JobKeys } from "../keys.js";
import { enqueueJobLua } from "./enqueueJob.lua.js";

/** Writes the job (replacing one with the same id, or keeping it with `once`); true when written. */
export function enqueueJobScript(redis: Redis, keys: JobKeys) {
  const run = luaCommand(redis, "jobsEnqueueJob", enqueueJobLua);
  return async (id: string, data: string, availableAt: number, once: boolean): Promise<boolean> =>
    (await run(keys.state(), [id, data, availableAt, once ? "1" : "0"])) === 1;
}

import type { Redis } from "ioredis";
import { luaCommand } from "../luaCommand.js";
import type { JobKeys } from "../keys.js";
import { completeJobLua } from "./completeJob.lua.js";

/** Deletes the job if our claim is still current; true when deleted. */
export function completeJobScript(redis: Redis, keys: JobKeys) {
  const run = luaCommand(redis, "jobsCompleteJob", completeJobLua);
  return async (id: string, token: string): Promise<boolean> => (await run(keys.state(), [id, token])) === 1;
}

import type { Redis } from "ioredis";
import { luaCommand } from "../luaCommand.js";
import type { JobKeys } from "../keys.js";
import { ackJobLua } from "./ackJob.lua.js";

/** Cancels the job wherever it is; true when it existed. */
export function ackJobScript(redis: Redis, keys: JobKeys) {
  const run = luaCommand(redis, "jobsAckJob", ackJobLua);
  return async (id: string): Promise<boolean> => (await run(keys.state(), [id])) === 1;
}

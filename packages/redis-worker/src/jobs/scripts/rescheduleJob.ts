import type { Redis } from "ioredis";
import { luaCommand } from "../luaCommand.js";
import type { JobKeys } from "../keys.js";
import { rescheduleJobLua } from "./rescheduleJob.lua.js";

/** Moves an existing job (releasing any claim); false when there is none. */
export function rescheduleJobScript(redis: Redis, keys: JobKeys) {
  const run = luaCommand(redis, "jobsRescheduleJob", rescheduleJobLua);
  return async (id: string, availableAt: number): Promise<boolean> =>
    (await run([keys.due, keys.jobs, keys.claims], [id, availableAt])) === 1;
}

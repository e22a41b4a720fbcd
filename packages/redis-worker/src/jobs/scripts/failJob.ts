import type { Redis } from "ioredis";
import { luaCommand } from "../luaCommand.js";
import type { JobKeys } from "../keys.js";
import { failJobLua } from "./failJob.lua.js";

export type FailJobResult = "retry" | "dead" | "stale";

/** Schedules a retry at `retryAt`, or dead-letters the job, if our claim is still current. */
export function failJobScript(redis: Redis, keys: JobKeys) {
  const run = luaCommand(redis, "jobsFailJob", failJobLua);
  return async (
    id: string,
    token: string,
    error: string,
    retryAt: number,
    deadLetter: boolean,
    now: number,
    deadLetterCap: number,
  ): Promise<FailJobResult> =>
    (await run([...keys.state(), keys.deadLetters], [id, token, error, retryAt, deadLetter ? "1" : "0", now, deadLetterCap])) as FailJobResult;
}

import type { Redis } from "ioredis";
import { luaCommand } from "../luaCommand.js";
import type { JobKeys } from "../keys.js";
import { claimJobsLua } from "./claimJobs.lua.js";

export type ClaimedJob = { id: string; data: string; attempt: number; token: string };

export type ClaimSettings = {
  tokenPrefix: string;
  visibilityTimeoutMs: number;
  maxAttempts: number;
  visibilityByJob: Record<string, number>;
  maxAttemptsByJob: Record<string, number>;
  deadLetterCap: number;
};

/** Atomically claims up to `count` due jobs (see claimJobs.lua.ts). */
export function claimJobsScript(redis: Redis, keys: JobKeys) {
  const run = luaCommand(redis, "jobsClaimJobs", claimJobsLua);
  return async (count: number, now: number, s: ClaimSettings): Promise<ClaimedJob[]> => {
    const flat = (await run(
      [...keys.state(), keys.deadLetters],
      [
        now,
        count,
        s.tokenPrefix,
        s.visibilityTimeoutMs,
        s.maxAttempts,
        JSON.stringify(s.visibilityByJob),
        JSON.stringify(s.maxAttemptsByJob),
        s.deadLetterCap,
      ],
    )) as Array<string | number>;
    const claimed: ClaimedJob[] = [];
    for (let i = 0; i < flat.length; i += 4) {
      claimed.push({ id: String(flat[i]), data: String(flat[i + 1]), attempt: Number(flat[i + 2]), token: String(flat[i + 3]) });
    }
    return claimed;
  };
}

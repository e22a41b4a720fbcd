import type { Redis } from "ioredis";
import { luaCommand } from "@runplane/redis-worker/jobs";
import { RunQueueKeys } from "../keys.js";
import { identityOf, type StoredMessage } from "../messageCodec.js";
import { expireMessagesLua } from "./expireMessages.lua.js";

export type ExpiryCandidate = { runId: string; stored?: StoredMessage };

/** Deletes candidates still queued, unchanged and past their TTL; returns their run ids. */
export function expireMessagesScript(redis: Redis, keys: RunQueueKeys) {
  const run = luaCommand(redis, "runQueueExpireMessages", expireMessagesLua);
  return async (candidates: ExpiryCandidate[], now: number): Promise<string[]> => {
    const redisKeys = keys.globals();
    const args: Array<string | number> = [now, candidates.length];
    for (const { runId, stored } of candidates) {
      if (!stored) {
        args.push(runId, "", "0");
        continue;
      }
      const identity = identityOf(stored.message);
      redisKeys.push(...keys.placement(identity));
      args.push(runId, stored.raw, "1", ...RunQueueKeys.identityArgs(identity));
    }
    return (await run(redisKeys, args)) as string[];
  };
}

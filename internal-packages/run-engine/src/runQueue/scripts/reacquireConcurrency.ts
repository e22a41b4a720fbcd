import type { Redis } from "ioredis";
import { luaCommand } from "@runplane/redis-worker/jobs";
import { RunQueueKeys } from "../keys.js";
import { identityOf, type StoredMessage } from "../messageCodec.js";
import { reacquireConcurrencyLua } from "./reacquireConcurrency.lua.js";

export type ReacquireScriptResult = "ok" | "full" | "missing" | "not_in_progress" | "stale";

/** Takes an in-progress run's slots back unless a limit is full (or `force`). */
export function reacquireConcurrencyScript(redis: Redis, keys: RunQueueKeys, defaultEnvLimit: number) {
  const run = luaCommand(redis, "runQueueReacquireConcurrency", reacquireConcurrencyLua);
  return async (stored: StoredMessage, force: boolean): Promise<ReacquireScriptResult> => {
    const identity = identityOf(stored.message);
    return (await run(
      [...keys.globals(), ...keys.placement(identity), keys.keyLimit(identity.environmentId, identity.queue, identity.concurrencyKey)],
      [stored.message.runId, stored.raw, ...RunQueueKeys.identityArgs(identity), force ? "1" : "0", defaultEnvLimit],
    )) as ReacquireScriptResult;
  };
}

import type { Redis } from "ioredis";
import { luaCommand } from "@runplane/redis-worker/jobs";
import { RunQueueKeys } from "../keys.js";
import { identityOf, type StoredMessage } from "../messageCodec.js";
import { releaseConcurrencyLua } from "./releaseConcurrency.lua.js";

export type ReleaseConcurrencyScriptResult = "ok" | "missing" | "not_in_progress" | "stale";

export type ReleaseMode = "all" | "waitpoint";

/** Frees an in-progress run's slots (all, or those a waiting run gives back). */
export function releaseConcurrencyScript(redis: Redis, keys: RunQueueKeys) {
  const run = luaCommand(redis, "runQueueReleaseConcurrency", releaseConcurrencyLua);
  return async (stored: StoredMessage, mode: ReleaseMode): Promise<ReleaseConcurrencyScriptResult> => {
    const identity = identityOf(stored.message);
    return (await run(
      [...keys.globals(), ...keys.placement(identity)],
      [stored.message.runId, stored.raw, ...RunQueueKeys.identityArgs(identity), mode],
    )) as ReleaseConcurrencyScriptResult;
  };
}

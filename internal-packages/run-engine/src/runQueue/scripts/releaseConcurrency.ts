import type { Redis } from "ioredis";
import { luaCommand } from "@runplane/redis-worker/jobs";
import { RunQueueKeys } from "../keys.js";
import { identityOf, type StoredMessage } from "../messageCodec.js";
import { releaseConcurrencyLua } from "./releaseConcurrency.lua.js";

export type ReleaseConcurrencyScriptResult = "ok" | "missing" | "not_in_progress" | "stale";

/** Frees an in-progress run's slots. */
export function releaseConcurrencyScript(redis: Redis, keys: RunQueueKeys) {
  const run = luaCommand(redis, "runQueueReleaseConcurrency", releaseConcurrencyLua);
  return async (stored: StoredMessage): Promise<ReleaseConcurrencyScriptResult> => {
    const identity = identityOf(stored.message);
    return (await run(
      [...keys.globals(), ...keys.placement(identity)],
      [stored.message.runId, stored.raw, ...RunQueueKeys.identityArgs(identity)],
    )) as ReleaseConcurrencyScriptResult;
  };
}

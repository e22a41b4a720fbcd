import type { Redis } from "ioredis";
import { luaCommand } from "@runplane/redis-worker/jobs";
import { RunQueueKeys } from "../keys.js";
import { identityOf, scoreOf, type StoredMessage } from "../messageCodec.js";
import { continueMessageLua } from "./continueMessage.lua.js";

export type ContinueScriptResult = "ok" | "queued" | "missing" | "stale";

/** How far ahead of new runs a continuing run is queued (ms off its score): about 31 years. */
export const CONTINUE_AHEAD_MS = 1e12;

/** Slots back for a run whose waitpoints completed, or a place at the head of its sub-queue. */
export function continueMessageScript(redis: Redis, keys: RunQueueKeys, defaultEnvLimit: number) {
  const run = luaCommand(redis, "runQueueContinueMessage", continueMessageLua);
  return async (stored: StoredMessage): Promise<ContinueScriptResult> => {
    const identity = identityOf(stored.message);
    return (await run(
      [...keys.globals(), ...keys.placement(identity), keys.keyLimit(identity.environmentId, identity.queue, identity.concurrencyKey)],
      [
        stored.message.runId,
        stored.raw,
        ...RunQueueKeys.identityArgs(identity),
        defaultEnvLimit,
        scoreOf(stored.message) - CONTINUE_AHEAD_MS,
      ],
    )) as ContinueScriptResult;
  };
}

import type { Redis } from "ioredis";
import { luaCommand } from "@runplane/redis-worker/jobs";
import { RunQueueKeys } from "../keys.js";
import { encodeMessage, identityOf, type StoredMessage } from "../messageCodec.js";
import { nackMessageLua } from "./nackMessage.lua.js";

export type NackScriptResult = "requeued" | "dead_lettered" | "missing" | "not_in_progress" | "stale";

/** Back to the sub-queue at `retryAt` with attempt + 1 and no TTL, or to the DLQ; frees the slots. */
export function nackMessageScript(redis: Redis, keys: RunQueueKeys) {
  const run = luaCommand(redis, "runQueueNackMessage", nackMessageLua);
  return async (stored: StoredMessage, retryAt: number, maxAttempts: number, now: number): Promise<NackScriptResult> => {
    const identity = identityOf(stored.message);
    const next = { ...stored.message, attempt: stored.message.attempt + 1 };
    delete next.ttlExpiresAt;
    return (await run(
      [...keys.globals(), ...keys.placement(identity)],
      [
        stored.message.runId,
        stored.raw,
        ...RunQueueKeys.identityArgs(identity),
        encodeMessage(next),
        retryAt,
        next.attempt >= maxAttempts ? "1" : "0",
        now,
      ],
    )) as NackScriptResult;
  };
}

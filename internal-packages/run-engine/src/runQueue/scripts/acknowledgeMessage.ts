import type { Redis } from "ioredis";
import { luaCommand } from "@runplane/redis-worker/jobs";
import { RunQueueKeys } from "../keys.js";
import { identityOf, type StoredMessage } from "../messageCodec.js";
import { acknowledgeMessageLua } from "./acknowledgeMessage.lua.js";

export type AcknowledgeMessageScriptResult = "ok" | "missing" | "stale";

/** Deletes the message wherever it is and frees its slots. */
export function acknowledgeMessageScript(redis: Redis, keys: RunQueueKeys) {
  const run = luaCommand(redis, "runQueueAcknowledgeMessage", acknowledgeMessageLua);
  return async (stored: StoredMessage): Promise<AcknowledgeMessageScriptResult> => {
    const identity = identityOf(stored.message);
    return (await run(
      [...keys.globals(), ...keys.placement(identity)],
      [stored.message.runId, stored.raw, ...RunQueueKeys.identityArgs(identity)],
    )) as AcknowledgeMessageScriptResult;
  };
}

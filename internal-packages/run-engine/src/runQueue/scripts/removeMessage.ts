import type { Redis } from "ioredis";
import { luaCommand } from "@runplane/redis-worker/jobs";
import { RunQueueKeys } from "../keys.js";
import { identityOf, type StoredMessage } from "../messageCodec.js";
import { removeMessageLua } from "./removeMessage.lua.js";

export type RemoveMessageScriptResult = "ok" | "missing" | "in_progress" | "stale";

/** Deletes a queued (not in-progress) message. */
export function removeMessageScript(redis: Redis, keys: RunQueueKeys) {
  const run = luaCommand(redis, "runQueueRemoveMessage", removeMessageLua);
  return async (stored: StoredMessage): Promise<RemoveMessageScriptResult> => {
    const identity = identityOf(stored.message);
    return (await run(
      [...keys.globals(), ...keys.placement(identity)],
      [stored.message.runId, stored.raw, ...RunQueueKeys.identityArgs(identity)],
    )) as RemoveMessageScriptResult;
  };
}

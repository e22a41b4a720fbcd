import type { Redis } from "ioredis";
import { luaCommand } from "@runplane/redis-worker/jobs";
import { RunQueueKeys } from "../keys.js";
import { encodeMessage, identityOf, scoreOf, type StoredMessage } from "../messageCodec.js";
import type { QueueMessage } from "../types.js";
import { enqueueMessageLua } from "./enqueueMessage.lua.js";

export type EnqueueScriptResult = "enqueued" | "replaced" | "duplicate" | "stale";

export function enqueueMessageScript(redis: Redis, keys: RunQueueKeys) {
  const run = luaCommand(redis, "runQueueEnqueueMessage", enqueueMessageLua);
  return async (message: QueueMessage, replace: boolean, existing: StoredMessage | undefined): Promise<EnqueueScriptResult> => {
    const identity = identityOf(message);
    const redisKeys = [...keys.globals(), ...keys.placement(identity)];
    const args = [
      message.runId,
      encodeMessage(message),
      scoreOf(message),
      message.ttlExpiresAt ?? "",
      replace ? "1" : "0",
      existing?.raw ?? "",
      ...RunQueueKeys.identityArgs(identity),
    ];
    if (replace && existing) {
      const old = identityOf(existing.message);
      redisKeys.push(...keys.placement(old));
      args.push(...RunQueueKeys.identityArgs(old));
    }
    return (await run(redisKeys, args)) as EnqueueScriptResult;
  };
}

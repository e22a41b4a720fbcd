import type { Redis } from "ioredis";
import { luaCommand } from "@runplane/redis-worker/jobs";
import type { RunQueueKeys } from "../keys.js";
import type { DequeuePlan } from "../planner.js";
import { dequeueMessagesLua } from "./dequeueMessages.lua.js";

/** Runs one plan atomically; returns the raw JSON of every message moved to in progress. */
export function dequeueMessagesScript(redis: Redis, keys: RunQueueKeys, defaultEnvLimit: number) {
  const run = luaCommand(redis, "runQueueDequeueMessages", dequeueMessagesLua);
  return async (plan: DequeuePlan, consumerId: string, maxCount: number, now: number): Promise<string[]> => {
    const redisKeys = [...keys.globals(), keys.envs(), keys.envsRotation()];
    const args: Array<string | number> = [now, maxCount, consumerId, defaultEnvLimit, plan.length];
    for (const env of plan) {
      const e = env.environmentId;
      redisKeys.push(keys.envQueues(e), keys.envQueuesRotation(e), keys.envRunning(e), keys.envMeta(e));
      args.push(e, env.queues.length);
      for (const queue of env.queues) {
        const q = queue.name;
        redisKeys.push(keys.queueMeta(e, q), keys.queueRunning(e, q), keys.queueSubs(e, q), keys.queueSubsRotation(e, q));
        args.push(q, queue.concurrencyKeys.length);
        for (const ck of queue.concurrencyKeys) {
          redisKeys.push(keys.subQueue(e, q, ck), keys.subRunning(e, q, ck), keys.keyLimit(e, q, ck));
          args.push(ck);
        }
      }
    }
    return (await run(redisKeys, args)) as string[];
  };
}

import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";

/** Deletes the lease only while it is still ours (it may have expired and been taken by another instance). */
const RELEASE_LEASE_SCRIPT = `
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0`;

/** A short exclusive lease per bulk action in Redis: SET NX PX to take it, a compare-and-delete script to give it back. */
export function createBulkActionLease(redis: Redis, keyPrefix: string) {
  redis.defineCommand("runplaneReleaseBulkActionLease", { numberOfKeys: 1, lua: RELEASE_LEASE_SCRIPT });
  return async (bulkActionId: string, ttlMs: number): Promise<{ release(): Promise<void> } | null> => {
    const key = `${keyPrefix}bulk-action:lease:${bulkActionId}`;
    const token = randomUUID();
    if ((await redis.set(key, token, "PX", ttlMs, "NX")) !== "OK") return null;
    return {
      release: async () => {
        await (redis as unknown as { runplaneReleaseBulkActionLease(key: string, token: string): Promise<number> }).runplaneReleaseBulkActionLease(key, token);
      },
    };
  };
}

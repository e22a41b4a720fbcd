import { ConflictError } from "@runplane/core";
import { withResponseFields } from "~/services/httpErrors.server";
import { getRuntime } from "~/services/runtime.server";

/** How long a request's answer is remembered: longer than the client's whole retry schedule (~10 s). */
const REMEMBER_MS = 24 * 3600_000;
/** How long a request may be in flight before a retry may run it again. */
const IN_FLIGHT_MS = 60_000;
const IN_FLIGHT = "__in_flight__";

/**
 * `x-trigger-request-idempotency-key`: the SDK sends one uuid per logical call and reuses it on its
 * automatic retries. A retry of a POST that already succeeded gets the first answer back instead of
 * creating a second run or batch. A retry that arrives while the first is still running gets a 409
 * marked retryable, and the client tries again a moment later.
 *
 * `scope` names the route (`trigger:<taskId>`, `batch`). `run` returns the value to remember (a small
 * JSON value); `respond` turns a remembered or fresh value into the response.
 */
export async function withRequestIdempotency<T>(input: {
  environmentId: string;
  scope: string;
  key: string | undefined;
  run: () => Promise<T>;
}): Promise<T> {
  if (!input.key || input.key.length > 256) return input.run();
  const { redis, env } = getRuntime();
  const redisKey = `${env.REDIS_KEY_PREFIX}api:req:${input.environmentId}:${input.scope}:${input.key}`;

  const claimed = await redis.set(redisKey, IN_FLIGHT, "PX", IN_FLIGHT_MS, "NX");
  if (claimed !== "OK") {
    const stored = await redis.get(redisKey);
    if (stored !== null && stored !== IN_FLIGHT) return JSON.parse(stored) as T;
    if (stored === IN_FLIGHT) {
      throw withResponseFields(new ConflictError("A request with this x-trigger-request-idempotency-key is still in progress"), {
        headers: { "x-should-retry": "true" },
      });
    }
    // Expired between the two calls: run it.
  }
  try {
    const value = await input.run();
    await redis.set(redisKey, JSON.stringify(value), "PX", REMEMBER_MS);
    return value;
  } catch (error) {
    await redis.del(redisKey).catch(() => {});
    throw error;
  }
}

import { Redis } from "ioredis";
import { afterEach, describe, expect, test } from "vitest";
import { startRedisProcess, type RedisProcess } from "../support/redisProcess";
import { waitFor } from "../api/support/api";
import { startTestServer, type TestServer } from "../support/testServer";
import { notExactlyOnce, runDatabases, startTriggerLoad, waitForRows } from "./support";

/**
 * Redis crashes (SIGKILL) in the middle of a burst that the mollifier is buffering, and comes back on
 * its own data. With AOF and `appendfsync always` (the production setting, docs/operations.md) every
 * trigger the server answered 200 ends as exactly one run. Without AOF, what was still in the buffer is
 * lost — never more than the buffer's depth at the crash — and everything already drained survives.
 */
describe("Redis restarted mid-burst", () => {
  let redis: RedisProcess | undefined;
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.stop();
    await redis?.destroy();
  });

  async function startBufferingServer(appendOnly: boolean): Promise<{ redis: RedisProcess; server: TestServer }> {
    redis = await startRedisProcess({ appendOnly });
    server = await startTestServer({
      env: {
        REDIS_URL: redis.url,
        // every trigger goes through the buffer: the crash hits buffered, not yet drained entries
        MOLLIFIER_TRIP_THRESHOLD: "1",
        MOLLIFIER_HOLD_MS: "60000",
        API_RATE_LIMIT_ENABLED: "false",
      },
    });
    return { redis, server };
  }

  /** Unacked buffer entries (queued, delayed and draining): what a crash without AOF can lose. */
  async function bufferDepth(redis: RedisProcess, server: TestServer): Promise<number> {
    const client = new Redis(redis.url);
    try {
      return Number((await client.get(`${server.redis.keyPrefix}mollifier:depth`)) ?? 0);
    } finally {
      client.disconnect();
    }
  }

  test("with AOF: no accepted trigger is lost, none runs twice", async () => {
    const { redis, server } = await startBufferingServer(true);
    const load = startTriggerLoad(server, 20);
    await waitFor(async () => load.tally.accepted.length >= 300, 60_000, "300 accepted triggers");
    expect(await bufferDepth(redis, server)).toBeGreaterThan(0);
    await redis.kill();
    const atCrash = load.tally.accepted.length;
    await new Promise((r) => setTimeout(r, 1_000));
    await redis.start();
    await waitFor(async () => load.tally.accepted.length >= atCrash + 300, 60_000, "300 more accepted triggers after the restart");
    const tally = await load.stop();

    const counts = await waitForRows(runDatabases(server), tally.accepted, 90_000);
    expect(notExactlyOnce(tally.accepted, counts)).toEqual([]);
  }, 240_000);

  test("without AOF: the loss is bounded by the buffer's depth at the crash; drained runs survive", async () => {
    const { redis, server } = await startBufferingServer(false);
    const load = startTriggerLoad(server, 20);
    await waitFor(async () => load.tally.accepted.length >= 300, 60_000, "300 accepted triggers");
    const tally = await load.stop();
    const depth = await bufferDepth(redis, server);
    await redis.kill();
    await redis.start();

    // rows can only come from entries drained before the crash; wait until the count settles
    let counts = await waitForRows(runDatabases(server), tally.accepted, 5_000);
    for (let settled = 0; settled < 3; ) {
      await new Promise((r) => setTimeout(r, 1_000));
      const next = await waitForRows(runDatabases(server), tally.accepted, 0);
      settled = next.size === counts.size ? settled + 1 : 0;
      counts = next;
    }
    const lost = tally.accepted.filter((id) => !counts.has(id)).length;
    expect(lost).toBeLessThanOrEqual(depth);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 240_000);
});

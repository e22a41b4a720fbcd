import { createTestRedis, TEST_REDIS_URL } from "@internal/testcontainers";
import { createRedisClient } from "@runplane/redis-worker/redis";
import { afterEach, describe, expect, test } from "vitest";
import { SchedulerLease } from "~/v3/schedules/schedulerLease.server";

describe("scheduler lease (Redis script)", () => {
  const redis = createTestRedis();
  const clients = Array.from({ length: 4 }, () => createRedisClient(TEST_REDIS_URL, "lease-test"));
  afterEach(async () => {
    await redis.cleanup();
  });

  test("of many instances racing for it, exactly one holds it; renewals keep it; only the holder releases it", async () => {
    const key = `${redis.keyPrefix}scheduler:lease`;
    const leases = Array.from({ length: 40 }, (_, i) => new SchedulerLease(clients[i % clients.length]!, key, 30_000, `instance-${i}`));
    const results = await Promise.all(leases.map((lease) => lease.acquire()));
    expect(results.filter(Boolean)).toHaveLength(1);
    const holder = leases[results.indexOf(true)]!;
    const others = leases.filter((l) => l !== holder);

    const again = await Promise.all([holder.acquire(), ...others.map((l) => l.acquire())]);
    expect(again).toEqual([true, ...others.map(() => false)]);
    expect(await Promise.all(others.map((l) => l.release()))).toEqual(others.map(() => false));
    expect(await holder.release()).toBe(true);
    expect((await Promise.all(others.map((l) => l.acquire()))).filter(Boolean)).toHaveLength(1);
    await Promise.all(clients.map((c) => c.quit()));
  });
});

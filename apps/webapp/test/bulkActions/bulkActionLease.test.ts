import { createTestRedis } from "@internal/testcontainers";
import { Redis } from "ioredis";
import { afterAll, describe, expect, test } from "vitest";
import { createBulkActionLease } from "~/v3/bulkActions/bulkActionLease.server";

describe("bulk action lease (Redis)", () => {
  const prefix = createTestRedis();
  const connections: Redis[] = [];
  const connect = () => {
    const redis = new Redis(process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379");
    connections.push(redis);
    return redis;
  };
  afterAll(async () => {
    await Promise.all(connections.map((r) => r.quit()));
    await prefix.cleanup();
  });

  test("under concurrency exactly one holder; release frees it; a stale holder cannot release a new lease", async () => {
    const leases = Array.from({ length: 20 }, () => createBulkActionLease(connect(), prefix.keyPrefix));
    const taken = await Promise.all(leases.map((lease) => lease("bulk_a", 10_000)));
    expect(taken.filter(Boolean)).toHaveLength(1);
    expect(await leases[0]!("bulk_b", 10_000)).not.toBeNull(); // per action

    await taken.find(Boolean)!.release();
    const again = await Promise.all(leases.map((lease) => lease("bulk_a", 50)));
    expect(again.filter(Boolean)).toHaveLength(1);

    // the 50 ms lease expires and another instance takes it: the first holder's release must not free it
    const stale = again.find(Boolean)!;
    let fresh = null;
    while (!fresh) fresh = await leases[1]!("bulk_a", 10_000);
    await stale.release();
    expect(await leases[2]!("bulk_a", 10_000)).toBeNull();
    await fresh.release();
    expect(await leases[2]!("bulk_a", 10_000)).not.toBeNull();
  });
});

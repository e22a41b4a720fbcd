import { describe, expect } from "vitest";
import { Redis } from "ioredis";
import { redisTest } from "@internal/testcontainers";
import { acceptInput, lease, makeBuffer, sleep } from "./mollifierHelpers.js";

describe("MollifierBuffer.accept", () => {
  redisTest("writes the entry, queues it, tracks org/env, listing and depth; no TTL", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    const createdAt = new Date("2026-01-02T03:04:05.678Z");
    expect(await buffer.accept(acceptInput("run_1", { createdAt }))).toEqual({ kind: "accepted" });

    const entry = await buffer.getEntry("run_1");
    expect(entry).toMatchObject({
      runId: "run_1",
      envId: "env_a",
      orgId: "org_a",
      status: "QUEUED",
      attempts: 0,
      createdAt,
      createdAtMs: createdAt.getTime(),
      nextAttemptAt: null,
      metadataVersion: 0,
      idempotencyLookupKey: "",
      materialised: false,
    });
    expect(JSON.parse(entry!.payload)).toMatchObject({ friendlyId: "run_1", taskIdentifier: "my-task" });
    expect(await buffer.getEntryTtlSeconds("run_1")).toBe(-1);
    expect(await buffer.listOrgs()).toEqual(["org_a"]);
    expect(await buffer.listEnvsForOrg("org_a")).toEqual(["env_a"]);
    expect(await buffer.getEnvCounts("env_a")).toEqual({ ready: 1, delayed: 0, unacked: 1 });
    expect(await buffer.getDepth()).toBe(1);
    await buffer.close();
  });

  redisTest("a duplicate run id is refused in every state and nothing is overwritten or double-queued", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    const again = await buffer.accept(acceptInput("run_1", { snapshot: { other: true } }));
    expect(again).toEqual({ kind: "duplicate_run_id" });
    expect(await buffer.getEnvCounts("env_a")).toMatchObject({ ready: 1 });
    expect(JSON.parse((await buffer.getEntry("run_1"))!.payload)).toHaveProperty("friendlyId");

    await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    expect(await buffer.accept(acceptInput("run_1"))).toEqual({ kind: "duplicate_run_id" }); // DRAINING
    await buffer.ack("run_1");
    expect(await buffer.accept(acceptInput("run_1"))).toEqual({ kind: "duplicate_run_id" }); // materialised, in grace
    expect(await buffer.getDepth()).toBe(0);
    await buffer.close();
  });

  redisTest("a run id is reusable after fail tore the entry down", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    expect(await buffer.fail("run_1", { code: "X", message: "boom" })).toBe("failed");
    expect(await buffer.accept(acceptInput("run_1"))).toEqual({ kind: "accepted" });
    await buffer.close();
  });

  redisTest("payloads with quotes, backslashes, control characters and unicode round-trip", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    const nasty = 'q"uote \\ back\nslash\t\u0001 ünï 😀 </script> 12345678901234567890';
    await buffer.accept(acceptInput("run_1", { snapshot: { payload: nasty, n: 0.1 + 0.2, big: 2 ** 53 - 1, empty: [] } }));
    const popped = await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    expect(JSON.parse(popped!.payload)).toEqual({ payload: nasty, n: 0.1 + 0.2, big: 2 ** 53 - 1, empty: [] });
    await buffer.close();
  });
});

describe("MollifierBuffer.pop", () => {
  redisTest("pops in FIFO order, leases the entry and tracks it as draining", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    for (const id of ["run_c", "run_a", "run_b"]) await buffer.accept(acceptInput(id));
    const before = Date.now();
    const first = await buffer.pop({ envId: "env_a", orgId: "org_a", leaseMs: 5_000 });
    expect(first).toMatchObject({ runId: "run_c", status: "DRAINING", leaseId: 1 });
    expect(first!.leaseUntil).toBeGreaterThanOrEqual(before + 5_000 - 50);
    expect(await buffer.getDrainingCount()).toBe(1);
    expect((await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease }))!.runId).toBe("run_a");
    expect((await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease }))!.runId).toBe("run_b");
    expect(await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease })).toBeNull();
    expect(await buffer.getDepth()).toBe(3); // popped is not acked
    await buffer.close();
  });

  redisTest("the env leaves the rotation sets only on the pop that empties it", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    await buffer.accept(acceptInput("run_2"));
    await buffer.accept(acceptInput("run_3", { envId: "env_b" }));
    await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    expect((await buffer.listEnvsForOrg("org_a")).sort()).toEqual(["env_a", "env_b"]);
    await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    expect(await buffer.listEnvsForOrg("org_a")).toEqual(["env_b"]);
    expect(await buffer.listOrgs()).toEqual(["org_a"]);
    await buffer.pop({ envId: "env_b", orgId: "org_a", ...lease });
    expect(await buffer.listOrgs()).toEqual([]);
    await buffer.close();
  });

  redisTest("orphan queue references are skipped and never recreated as partial hashes", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    await buffer.accept(acceptInput("run_2"));
    await buffer.accept(acceptInput("run_3"));
    await buffer.redis.del(buffer.keys.key("entry", "run_1"), buffer.keys.key("entry", "run_2"));
    expect((await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease }))!.runId).toBe("run_3");
    expect(await buffer.redis.exists(buffer.keys.key("entry", "run_1"))).toBe(0);
    expect(await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease })).toBeNull();
    expect(await buffer.listOrgs()).toEqual([]);
    await buffer.close();
  });
});

describe("MollifierBuffer.ack / markDrained", () => {
  redisTest("ack materialises the entry for a grace TTL and drops it from listing, draining and depth", async ({ redis }) => {
    const buffer = makeBuffer(redis, { ackGraceTtlSeconds: 30 });
    await buffer.accept(acceptInput("run_1"));
    const popped = await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    expect(await buffer.markDrained("run_1", popped!.leaseId)).toBe(true);
    expect((await buffer.getEntry("run_1"))!.status).toBe("DRAINED");
    expect(await buffer.ack("run_1")).toBe(true);
    const entry = await buffer.getEntry("run_1");
    expect(entry).toMatchObject({ status: "MATERIALISED", materialised: true });
    const ttl = await buffer.getEntryTtlSeconds("run_1");
    expect(ttl).toBeGreaterThan(25);
    expect(ttl).toBeLessThanOrEqual(30);
    expect(await buffer.getDrainingCount()).toBe(0);
    expect(await buffer.getDepth()).toBe(0);
    expect((await buffer.listEnvEntries("env_a")).entries).toEqual([]);
    expect(await buffer.ack("run_1")).toBe(true); // idempotent, depth unchanged
    expect(await buffer.getDepth()).toBe(0);
    await buffer.close();
  });

  redisTest("ack and markDrained on a missing entry are no-ops", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    expect(await buffer.ack("run_missing")).toBe(false);
    expect(await buffer.markDrained("run_missing", 1)).toBe(false);
    expect(await buffer.redis.exists(buffer.keys.key("entry", "run_missing"))).toBe(0);
    await buffer.close();
  });

  redisTest("markDrained refuses a QUEUED entry leased to nobody", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    expect(await buffer.markDrained("run_1", 0)).toBe(false);
    expect((await buffer.getEntry("run_1"))!.status).toBe("QUEUED");
    await buffer.close();
  });
});

describe("MollifierBuffer.requeue", () => {
  redisTest("increments attempts, stores the error and is not poppable before nextAttemptAt", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    const createdAt = new Date(Date.now() - 1000);
    await buffer.accept(acceptInput("run_1", { createdAt }));
    await buffer.accept(acceptInput("run_2"));
    const popped = await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    const result = await buffer.requeue("run_1", { delayMs: 300, leaseId: popped!.leaseId, error: { code: "P1001", message: "down" } });
    expect(result).toMatchObject({ kind: "requeued", attempts: 1 });
    const entry = await buffer.getEntry("run_1");
    expect(entry).toMatchObject({ status: "QUEUED", attempts: 1, lastError: { code: "P1001", message: "down" }, createdAt });
    expect(entry!.nextAttemptAt).toBe((result as { nextAttemptAt: number }).nextAttemptAt);
    expect(await buffer.getDrainingCount()).toBe(0);
    expect(await buffer.getEnvCounts("env_a")).toEqual({ ready: 1, delayed: 1, unacked: 2 });

    // only run_2 is ready; run_1 waits for its backoff
    expect((await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease }))!.runId).toBe("run_2");
    expect(await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease })).toBeNull();
    expect(await buffer.listEnvsForOrg("org_a")).toEqual(["env_a"]); // still rotating: it has a delayed entry
    await sleep(350);
    const again = await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    expect(again).toMatchObject({ runId: "run_1", attempts: 1, leaseId: 2 });
    expect(Date.now()).toBeGreaterThanOrEqual(entry!.nextAttemptAt! - 5);
    await buffer.close();
  });

  redisTest("a requeue without delay goes to the pop end, ahead of newer entries", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    await buffer.accept(acceptInput("run_2"));
    await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    await buffer.accept(acceptInput("run_3"));
    await buffer.requeue("run_1", { delayMs: 0 });
    expect((await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease }))!.runId).toBe("run_1");
    expect((await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease }))!.runId).toBe("run_2");
    await buffer.close();
  });

  redisTest("missing, not-leased and stale-lease requeues change nothing", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    expect(await buffer.requeue("run_missing", { delayMs: 0 })).toEqual({ kind: "not_found" });
    expect(await buffer.redis.exists(buffer.keys.key("entry", "run_missing"))).toBe(0);
    await buffer.accept(acceptInput("run_1"));
    expect(await buffer.requeue("run_1", { delayMs: 0 })).toEqual({ kind: "not_draining", status: "QUEUED" });
    const popped = await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    expect(await buffer.requeue("run_1", { delayMs: 0, leaseId: popped!.leaseId + 1 })).toEqual({ kind: "lease_lost" });
    expect((await buffer.getEntry("run_1"))!.attempts).toBe(0);
    await buffer.close();
  });

  redisTest("requeue re-adds the env and org to the rotation sets after pop removed them", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    expect(await buffer.listOrgs()).toEqual([]);
    await buffer.requeue("run_1", { delayMs: 10 });
    expect(await buffer.listOrgs()).toEqual(["org_a"]);
    expect(await buffer.listEnvsForOrg("org_a")).toEqual(["env_a"]);
    await buffer.close();
  });
});

describe("MollifierBuffer.fail", () => {
  redisTest("tears the entry down, with its listing, draining and depth; a missing one is a no-op", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    const popped = await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    expect(await buffer.fail("run_1", { code: "E", message: "bad", leaseId: popped!.leaseId })).toBe("failed");
    expect(await buffer.getEntry("run_1")).toBeNull();
    expect(await buffer.getDrainingCount()).toBe(0);
    expect(await buffer.getDepth()).toBe(0);
    expect(await buffer.getEnvCounts("env_a")).toEqual({ ready: 0, delayed: 0, unacked: 0 });
    expect(await buffer.fail("run_1", { code: "E", message: "bad" })).toBe("not_found");
    expect(await buffer.redis.exists(buffer.keys.key("entry", "run_1"))).toBe(0);
    await buffer.close();
  });

  redisTest("a holder whose lease was reclaimed cannot fail the entry", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    const popped = await buffer.pop({ envId: "env_a", orgId: "org_a", leaseMs: 1 });
    await sleep(5);
    await buffer.reclaimExpiredDrains();
    expect(await buffer.fail("run_1", { code: "E", message: "late", leaseId: popped!.leaseId })).toBe("lease_lost");
    const repopped = await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    expect(await buffer.fail("run_1", { code: "E", message: "late", leaseId: popped!.leaseId })).toBe("lease_lost");
    expect(await buffer.fail("run_1", { code: "E", message: "now", leaseId: repopped!.leaseId })).toBe("failed");
    await buffer.close();
  });
});

describe("MollifierBuffer.reclaimExpiredDrains", () => {
  redisTest("expired DRAINING entries go back to the queue with an attempt counted; live leases stay", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    await buffer.accept(acceptInput("run_2"));
    await buffer.pop({ envId: "env_a", orgId: "org_a", leaseMs: 1 });
    await buffer.pop({ envId: "env_a", orgId: "org_a", leaseMs: 60_000 });
    expect(await buffer.listOrgs()).toEqual([]);
    await sleep(5);
    expect(await buffer.reclaimExpiredDrains()).toEqual({ requeued: 1, pendingAck: 0 });
    expect(await buffer.getEntry("run_1")).toMatchObject({ status: "QUEUED", attempts: 1, lastError: { code: "DrainLeaseExpired" } });
    expect((await buffer.getEntry("run_2"))!.status).toBe("DRAINING");
    expect(await buffer.listOrgs()).toEqual(["org_a"]);
    expect(await buffer.getDrainingCount()).toBe(1);
    expect((await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease }))!.runId).toBe("run_1");
    await buffer.close();
  });

  redisTest("an expired DRAINED entry comes back as DRAINED so the next pop can ack it without a replay", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    const popped = await buffer.pop({ envId: "env_a", orgId: "org_a", leaseMs: 1 });
    await buffer.markDrained("run_1", popped!.leaseId);
    await sleep(5);
    expect(await buffer.reclaimExpiredDrains()).toEqual({ requeued: 0, pendingAck: 1 });
    const again = await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    expect(again).toMatchObject({ runId: "run_1", status: "DRAINED", attempts: 0 });
    await buffer.close();
  });

  redisTest("a reclaimed holder may still record its success before anyone re-pops", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    const popped = await buffer.pop({ envId: "env_a", orgId: "org_a", leaseMs: 1 });
    await sleep(5);
    await buffer.reclaimExpiredDrains();
    expect(await buffer.markDrained("run_1", popped!.leaseId)).toBe(true);
    expect((await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease }))!.status).toBe("DRAINED");
    await buffer.close();
  });
});

describe("MollifierBuffer.listEnvEntries", () => {
  redisTest("lists unacked entries newest first with a cursor, ties broken by run id, without consuming", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    const base = Date.now() - 10_000;
    // run_e and run_d share a createdAt
    const plan: Array<[string, number]> = [["run_a", 1], ["run_b", 2], ["run_c", 3], ["run_d", 4], ["run_e", 4], ["run_f", 5]];
    for (const [id, t] of plan) await buffer.accept(acceptInput(id, { createdAt: new Date(base + t) }));
    await buffer.accept(acceptInput("run_other", { envId: "env_b" }));
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const page = await buffer.listEnvEntries("env_a", { limit: 2, cursor });
      pages.push(page.entries.map((e) => e.runId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(pages).toEqual([["run_f", "run_e"], ["run_d", "run_c"], ["run_b", "run_a"]]);
    expect(await buffer.getEnvCounts("env_a")).toMatchObject({ ready: 6 });
    expect(await buffer.listEnvEntries("env_a", { limit: 0 })).toEqual({ entries: [], nextCursor: null });
    expect((await buffer.listEnvEntries("env_empty")).entries).toEqual([]);
    await buffer.close();
  });

  redisTest("skips entries torn down between the index read and the hash read", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    await buffer.accept(acceptInput("run_2"));
    await buffer.redis.del(buffer.keys.key("entry", "run_1")); // raced fail, index still lists it
    const listing = await buffer.listEnvEntries("env_a");
    expect(listing.entries.map((e) => e.runId)).toEqual(["run_2"]);
    await buffer.close();
  });
});

describe("MollifierBuffer.evaluateTrip", () => {
  redisTest("trips over the threshold, holds down after the window, isolates envs", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    const opts = { windowMs: 1_000, threshold: 5, holdMs: 150 };
    for (let i = 1; i <= 5; i++) expect(await buffer.evaluateTrip("env_a", opts)).toEqual({ count: i, tripped: false });
    expect(await buffer.evaluateTrip("env_a", opts)).toEqual({ count: 6, tripped: true });
    expect(await buffer.evaluateTrip("env_b", opts)).toEqual({ count: 1, tripped: false });
    await buffer.redis.del(buffer.keys.key("rate", "env_a")); // window over, marker still held
    expect(await buffer.evaluateTrip("env_a", opts)).toEqual({ count: 1, tripped: true });
    await sleep(200);
    expect(await buffer.evaluateTrip("env_a", opts)).toEqual({ count: 2, tripped: false });
    await buffer.close();
  });
});

describe("key prefixes", () => {
  redisTest("keys built inside Lua carry the client prefix and the namespace: nothing lands outside them", async ({ redis }) => {
    const namespace = `ns${Date.now().toString(36)}${Math.random().toString(36).slice(2)}:`;
    const buffer = makeBuffer(redis, { namespace });
    const withKey = { idempotencyKey: "k", taskIdentifier: "t" };
    await buffer.accept(acceptInput("run_1", withKey));
    await buffer.accept(acceptInput("run_2"));
    const popped = await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    await buffer.requeue(popped!.runId, { delayMs: 50 });
    await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    await buffer.ack("run_2");
    await buffer.resetIdempotency({ envId: "env_a", ...withKey });
    await buffer.sweepShard({ cutoffMs: Date.now(), shardCount: 1 });
    const raw = new Redis({ host: redis.options.host, port: redis.options.port, db: redis.options.db });
    expect(await raw.keys(`${namespace}*`)).toEqual([]); // unprefixed: none
    const prefixed = await raw.keys(`${redis.keyPrefix}*`);
    expect(prefixed.length).toBeGreaterThan(5);
    expect(prefixed.every((k) => k.startsWith(redis.keyPrefix + namespace))).toBe(true);
    expect(prefixed).toContain(`${redis.keyPrefix}${namespace}env-index:env_a`);
    raw.disconnect();
    await buffer.close();
  });
});

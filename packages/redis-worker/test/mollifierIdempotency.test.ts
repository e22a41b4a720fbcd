import { describe, expect } from "vitest";
import { redisTest } from "@internal/testcontainers";
import { entrySnapshot, idempotencyLookupKeyFor, makeIdempotencyClaimKey } from "../src/mollifier/index.js";
import { acceptInput, lease, makeBuffer, sleep } from "./mollifierHelpers.js";

const tuple = { envId: "env_a", taskIdentifier: "my-task", idempotencyKey: "key-1" };
const withKey = { idempotencyKey: tuple.idempotencyKey, taskIdentifier: tuple.taskIdentifier };

describe("idempotency binding on accept", () => {
  redisTest("binds the lookup with no TTL; a second accept with the key gets the winner", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    expect(await buffer.accept(acceptInput("run_1", withKey))).toEqual({ kind: "accepted" });
    const lookupKey = buffer.keys.fromSuffix(idempotencyLookupKeyFor(tuple));
    expect(await buffer.redis.get(lookupKey)).toBe("run_1");
    expect(await buffer.redis.ttl(lookupKey)).toBe(-1);
    expect((await buffer.getEntry("run_1"))!.idempotencyLookupKey).toBe(idempotencyLookupKeyFor(tuple));
    expect(await buffer.accept(acceptInput("run_2", withKey))).toEqual({ kind: "duplicate_idempotency", existingRunId: "run_1" });
    expect(await buffer.getEntry("run_2")).toBeNull();
    expect(await buffer.lookupIdempotency(tuple)).toBe("run_1");
    await buffer.close();
  });

  redisTest("accept and lookup self-heal a binding whose entry is gone", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1", withKey));
    await buffer.redis.del(buffer.keys.key("entry", "run_1")); // evicted
    expect(await buffer.lookupIdempotency(tuple)).toBeNull();
    expect(await buffer.redis.exists(buffer.keys.fromSuffix(idempotencyLookupKeyFor(tuple)))).toBe(0);

    await buffer.accept(acceptInput("run_2", withKey));
    await buffer.redis.del(buffer.keys.key("entry", "run_2"));
    expect(await buffer.accept(acceptInput("run_3", withKey))).toEqual({ kind: "accepted" });
    expect(await buffer.lookupIdempotency(tuple)).toBe("run_3");
    await buffer.close();
  });

  redisTest("ack and fail release the binding so a same-key retry reaches the run store", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1", withKey));
    await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    await buffer.ack("run_1");
    expect(await buffer.lookupIdempotency(tuple)).toBeNull();

    await buffer.accept(acceptInput("run_2", withKey));
    await buffer.fail("run_2", { code: "E", message: "x" });
    expect(await buffer.lookupIdempotency(tuple)).toBeNull();
    await buffer.close();
  });

  redisTest("lookupIdempotency is null when nothing is bound", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    expect(await buffer.lookupIdempotency(tuple)).toBeNull();
    await buffer.close();
  });

  redisTest("tuples that would alias unencoded do not collide, and encoded keys add no ':'", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    const a = { envId: "env_a", taskIdentifier: "x:y", idempotencyKey: "z" };
    const b = { envId: "env_a", taskIdentifier: "x", idempotencyKey: "y:z" };
    expect(idempotencyLookupKeyFor(a)).not.toBe(idempotencyLookupKeyFor(b));
    expect(idempotencyLookupKeyFor(a).split(":")).toHaveLength(4);
    expect(makeIdempotencyClaimKey(a).split(":")).toHaveLength(4);
    await buffer.accept(acceptInput("run_1", { envId: a.envId, taskIdentifier: a.taskIdentifier, idempotencyKey: a.idempotencyKey }));
    expect(await buffer.accept(acceptInput("run_2", { envId: b.envId, taskIdentifier: b.taskIdentifier, idempotencyKey: b.idempotencyKey }))).toEqual({
      kind: "accepted",
    });
    await buffer.close();
  });
});

describe("resetIdempotency", () => {
  redisTest("clears the lookup, the claim and the key on the snapshot, returning the run", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1", { ...withKey, snapshot: { idempotencyKey: "key-1", idempotencyKeyExpiresAt: "2030-01-01T00:00:00.000Z" } }));
    await buffer.claimIdempotency({ ...tuple, token: "t1", ttlSeconds: 30 });
    expect(await buffer.resetIdempotency(tuple)).toEqual({ clearedRunId: "run_1" });
    expect(await buffer.lookupIdempotency(tuple)).toBeNull();
    expect(await buffer.readClaim(tuple)).toBeNull();
    const entry = (await buffer.getEntry("run_1"))!;
    expect(entry.idempotencyLookupKey).toBe("");
    expect(entrySnapshot(entry)).toMatchObject({ idempotencyKey: null, idempotencyKeyExpiresAt: null });
    // the key is free for a new buffered run
    expect(await buffer.accept(acceptInput("run_2", withKey))).toEqual({ kind: "accepted" });
    // and acking the old run does not release the new binding
    await buffer.ack("run_1");
    expect(await buffer.lookupIdempotency(tuple)).toBe("run_2");
    await buffer.close();
  });

  redisTest("returns null when nothing is bound, still clearing the claim", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.claimIdempotency({ ...tuple, token: "t1", ttlSeconds: 30 });
    expect(await buffer.resetIdempotency(tuple)).toEqual({ clearedRunId: null });
    expect(await buffer.readClaim(tuple)).toBeNull();
    await buffer.close();
  });
});

describe("pre-gate claim", () => {
  redisTest("first caller claims, others see pending, the owner publishes, everyone resolves", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    expect(await buffer.claimIdempotency({ ...tuple, token: "t1", ttlSeconds: 30 })).toEqual({ kind: "claimed" });
    expect(await buffer.claimIdempotency({ ...tuple, token: "t1", ttlSeconds: 30 })).toEqual({ kind: "claimed" });
    expect(await buffer.claimIdempotency({ ...tuple, token: "t2", ttlSeconds: 30 })).toEqual({ kind: "pending" });
    expect(await buffer.readClaim(tuple)).toEqual({ kind: "pending" });
    expect(await buffer.publishClaim({ ...tuple, token: "t2", runId: "run_x", ttlSeconds: 30 })).toBe(false);
    expect(await buffer.publishClaim({ ...tuple, token: "t1", runId: "run_1", ttlSeconds: 30 })).toBe(true);
    expect(await buffer.claimIdempotency({ ...tuple, token: "t2", ttlSeconds: 30 })).toEqual({ kind: "resolved", runId: "run_1" });
    expect(await buffer.readClaim(tuple)).toEqual({ kind: "resolved", runId: "run_1" });
    expect(await buffer.resetResolvedClaim({ ...tuple, expectedRunId: "run_other" })).toBe(false);
    expect(await buffer.resetResolvedClaim({ ...tuple, expectedRunId: "run_1" })).toBe(true);
    expect(await buffer.readClaim(tuple)).toBeNull();
    await buffer.close();
  });

  redisTest("release is compare-and-delete: a stale release after expiry keeps the new owner's claim", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.claimIdempotency({ ...tuple, token: "t1", ttlSeconds: 1 });
    expect(await buffer.releaseClaim({ ...tuple, token: "wrong" })).toBe(false);
    await buffer.redis.pexpire(buffer.keys.fromSuffix(makeIdempotencyClaimKey(tuple)), 5);
    await sleep(20);
    expect(await buffer.claimIdempotency({ ...tuple, token: "t2", ttlSeconds: 30 })).toEqual({ kind: "claimed" });
    expect(await buffer.releaseClaim({ ...tuple, token: "t1" })).toBe(false);
    expect(await buffer.readClaim(tuple)).toEqual({ kind: "pending" });
    expect(await buffer.releaseClaim({ ...tuple, token: "t2" })).toBe(true);
    expect(await buffer.readClaim(tuple)).toBeNull();
    await buffer.close();
  });
});

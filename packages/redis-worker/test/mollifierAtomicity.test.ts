import { describe, expect } from "vitest";
import { redisTest } from "@internal/testcontainers";
import { MollifierStaleSweep, type MollifierBuffer } from "../src/mollifier/index.js";
import { acceptInput, lease, makeBuffer, sleep } from "./mollifierHelpers.js";

/** Each Lua script under concurrency: several clients, so commands truly interleave on the server. */
function clients(redis: Parameters<typeof makeBuffer>[0], n: number): MollifierBuffer[] {
  return Array.from({ length: n }, () => makeBuffer(redis));
}
async function closeAll(buffers: MollifierBuffer[]) {
  await Promise.all(buffers.map((b) => b.close()));
}
const tuple = { envId: "env_a", taskIdentifier: "my-task", idempotencyKey: "k" };

describe("atomicity under concurrency", () => {
  redisTest("acceptEntry: 200 concurrent accepts and pops lose nothing and pop nothing twice", async ({ redis }) => {
    const buffers = clients(redis, 4);
    const ids = Array.from({ length: 200 }, (_, i) => `run_${i}`);
    const popped: string[] = [];
    let accepting = true;
    const popper = async (b: MollifierBuffer) => {
      while (accepting || (await b.getEnvCounts("env_a")).ready > 0) {
        const entry = await b.pop({ envId: "env_a", orgId: "org_a", ...lease });
        if (entry) popped.push(entry.runId);
        else await sleep(1);
      }
    };
    const poppers = buffers.map(popper);
    await Promise.all(ids.map((id, i) => buffers[i % 4]!.accept(acceptInput(id))));
    accepting = false;
    await Promise.all(poppers);
    expect(popped).toHaveLength(200);
    expect(new Set(popped).size).toBe(200);
    expect(await buffers[0]!.getDepth()).toBe(200);
    expect(await buffers[0]!.getDrainingCount()).toBe(200);
    await closeAll(buffers);
  });

  redisTest("acceptEntry: concurrent accepts of one run id or one idempotency key have one winner", async ({ redis }) => {
    const buffers = clients(redis, 4);
    const same = await Promise.all(Array.from({ length: 50 }, (_, i) => buffers[i % 4]!.accept(acceptInput("run_same"))));
    expect(same.filter((r) => r.kind === "accepted")).toHaveLength(1);
    expect(await buffers[0]!.getEnvCounts("env_a")).toMatchObject({ ready: 1 });

    const keyed = await Promise.all(
      Array.from({ length: 50 }, (_, i) => buffers[i % 4]!.accept(acceptInput(`run_k${i}`, { idempotencyKey: "k", taskIdentifier: "my-task" }))),
    );
    const winners = keyed.map((r, i) => (r.kind === "accepted" ? `run_k${i}` : null)).filter(Boolean);
    expect(winners).toHaveLength(1);
    for (const r of keyed) if (r.kind !== "accepted") expect(r).toEqual({ kind: "duplicate_idempotency", existingRunId: winners[0] });
    expect(await buffers[0]!.getDepth()).toBe(2);
    await closeAll(buffers);
  });

  redisTest("popEntry: parallel pops on one env never return the same entry", async ({ redis }) => {
    const buffers = clients(redis, 4);
    for (let i = 0; i < 100; i++) await buffers[0]!.accept(acceptInput(`run_${i}`));
    const results = await Promise.all(Array.from({ length: 150 }, (_, i) => buffers[i % 4]!.pop({ envId: "env_a", orgId: "org_a", ...lease })));
    const got = results.filter(Boolean).map((e) => e!.runId);
    expect(got).toHaveLength(100);
    expect(new Set(got).size).toBe(100);
    expect(await buffers[0]!.listOrgs()).toEqual([]);
    await closeAll(buffers);
  });

  redisTest("markDrained + ackEntry: concurrent acks count the entry out once", async ({ redis }) => {
    const buffers = clients(redis, 4);
    await buffers[0]!.accept(acceptInput("run_1"));
    await buffers[0]!.accept(acceptInput("run_2"));
    const popped = await buffers[0]!.pop({ envId: "env_a", orgId: "org_a", ...lease });
    const marks = await Promise.all(Array.from({ length: 20 }, (_, i) => buffers[i % 4]!.markDrained("run_1", popped!.leaseId)));
    expect(marks.every(Boolean)).toBe(true);
    await Promise.all(Array.from({ length: 20 }, (_, i) => buffers[i % 4]!.ack("run_1")));
    expect(await buffers[0]!.getDepth()).toBe(1);
    expect((await buffers[0]!.getEntry("run_1"))!.status).toBe("MATERIALISED");
    await closeAll(buffers);
  });

  redisTest("requeueEntry: concurrent requeues of one lease requeue it once", async ({ redis }) => {
    const buffers = clients(redis, 4);
    await buffers[0]!.accept(acceptInput("run_1"));
    const popped = await buffers[0]!.pop({ envId: "env_a", orgId: "org_a", ...lease });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => buffers[i % 4]!.requeue("run_1", { delayMs: i % 2 ? 0 : 1000, leaseId: popped!.leaseId })),
    );
    expect(results.filter((r) => r.kind === "requeued")).toHaveLength(1);
    expect((await buffers[0]!.getEntry("run_1"))!.attempts).toBe(1);
    const counts = await buffers[0]!.getEnvCounts("env_a");
    expect(counts.ready + counts.delayed).toBe(1);
    await closeAll(buffers);
  });

  redisTest("failEntry: concurrent fails tear down once and count out once", async ({ redis }) => {
    const buffers = clients(redis, 4);
    await buffers[0]!.accept(acceptInput("run_1"));
    await buffers[0]!.accept(acceptInput("run_2"));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => buffers[i % 4]!.fail("run_1", { code: "E", message: "x" })));
    expect(results.filter((r) => r === "failed")).toHaveLength(1);
    expect(await buffers[0]!.getDepth()).toBe(1);
    await closeAll(buffers);
  });

  redisTest("reclaimExpiredDrains: concurrent reclaims hand every expired entry back exactly once", async ({ redis }) => {
    const buffers = clients(redis, 4);
    for (let i = 0; i < 60; i++) await buffers[0]!.accept(acceptInput(`run_${i}`));
    for (let i = 0; i < 60; i++) await buffers[0]!.pop({ envId: "env_a", orgId: "org_a", leaseMs: 1 });
    await sleep(5);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => buffers[i % 4]!.reclaimExpiredDrains({ limit: 20 })));
    expect(results.reduce((n, r) => n + r.requeued, 0)).toBe(60);
    expect(await buffers[0]!.getEnvCounts("env_a")).toMatchObject({ ready: 60 });
    const entries = await Promise.all(Array.from({ length: 60 }, (_, i) => buffers[0]!.getEntry(`run_${i}`)));
    expect(entries.every((e) => e!.attempts === 1 && e!.status === "QUEUED")).toBe(true);
    await closeAll(buffers);
  });

  redisTest("mutateSnapshot: concurrent tag appends lose no update and respect the cap", async ({ redis }) => {
    const buffers = clients(redis, 4);
    await buffers[0]!.accept(acceptInput("run_1"));
    const results = await Promise.all(
      Array.from({ length: 15 }, (_, i) => buffers[i % 4]!.mutateSnapshot("run_1", { type: "append_tags", tags: [`t${i}`] })),
    );
    expect(results.filter((r) => r.kind === "applied_to_snapshot")).toHaveLength(10);
    expect(results.filter((r) => r.kind === "limit_exceeded")).toHaveLength(5);
    expect((await buffers[0]!.getEntry("run_1"))!.tags).toHaveLength(10);
    await closeAll(buffers);
  });

  redisTest("casSetMetadata: one winner per version; 30 retrying increments all converge", async ({ redis }) => {
    const buffers = clients(redis, 4);
    await buffers[0]!.accept(acceptInput("run_1"));
    const same = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        buffers[i % 4]!.casSetMetadata({ runId: "run_1", expectedVersion: 0, metadata: `{"w":${i}}`, metadataType: "application/json" }),
      ),
    );
    expect(same.filter((r) => r.kind === "applied")).toHaveLength(1);

    const increment = async (b: MollifierBuffer) => {
      for (;;) {
        const entry = (await b.getEntry("run_1"))!;
        const current = JSON.parse(entry.patch.metadata ?? "{}") as { n?: number };
        const next = JSON.stringify({ n: (current.n ?? 0) + 1 });
        const r = await b.casSetMetadata({ runId: "run_1", expectedVersion: entry.metadataVersion, metadata: next, metadataType: "application/json" });
        if (r.kind === "applied") return;
        await sleep(Math.random() * 5);
      }
    };
    await buffers[0]!.casSetMetadata({ runId: "run_1", expectedVersion: 1, metadata: '{"n":0}', metadataType: "application/json" });
    await Promise.all(Array.from({ length: 30 }, (_, i) => increment(buffers[i % 4]!)));
    const entry = (await buffers[0]!.getEntry("run_1"))!;
    expect(JSON.parse(entry.patch.metadata!)).toEqual({ n: 30 });
    expect(entry.metadataVersion).toBe(32);
    await closeAll(buffers);
  });

  redisTest("claimIdempotency / publishClaim / releaseClaim / resetResolvedClaim: one owner at a time", async ({ redis }) => {
    const buffers = clients(redis, 4);
    const claims = await Promise.all(
      Array.from({ length: 50 }, (_, i) => buffers[i % 4]!.claimIdempotency({ ...tuple, token: `t${i}`, ttlSeconds: 30 })),
    );
    const owner = claims.findIndex((c) => c.kind === "claimed");
    expect(claims.filter((c) => c.kind === "claimed")).toHaveLength(1);
    const publishes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => buffers[i % 4]!.publishClaim({ ...tuple, token: `t${i}`, runId: `run_${i}`, ttlSeconds: 30 })),
    );
    expect(publishes.filter(Boolean)).toHaveLength(1);
    expect(await buffers[0]!.readClaim(tuple)).toEqual({ kind: "resolved", runId: `run_${owner}` });
    const resets = await Promise.all(Array.from({ length: 20 }, (_, i) => buffers[i % 4]!.resetResolvedClaim({ ...tuple, expectedRunId: `run_${owner}` })));
    expect(resets.filter(Boolean)).toHaveLength(1);

    await buffers[0]!.claimIdempotency({ ...tuple, token: "owner", ttlSeconds: 30 });
    const releases = await Promise.all(Array.from({ length: 20 }, (_, i) => buffers[i % 4]!.releaseClaim({ ...tuple, token: i === 7 ? "owner" : `x${i}` })));
    expect(releases.filter(Boolean)).toHaveLength(1);
    expect(await buffers[0]!.readClaim(tuple)).toBeNull();
    await closeAll(buffers);
  });

  redisTest("lookupIdempotency: healing a stale binding never removes a fresh one made concurrently", async ({ redis }) => {
    const buffers = clients(redis, 4);
    const withKey = { idempotencyKey: tuple.idempotencyKey, taskIdentifier: tuple.taskIdentifier };
    for (let round = 0; round < 10; round++) {
      await buffers[0]!.accept(acceptInput(`run_old${round}`, withKey));
      await buffers[0]!.redis.del(buffers[0]!.keys.key("entry", `run_old${round}`)); // binding now stale
      const [, accepted] = await Promise.all([
        Promise.all(Array.from({ length: 10 }, (_, i) => buffers[i % 4]!.lookupIdempotency(tuple))),
        buffers[1]!.accept(acceptInput(`run_new${round}`, withKey)),
        Promise.all(Array.from({ length: 10 }, (_, i) => buffers[(i + 2) % 4]!.lookupIdempotency(tuple))),
      ]);
      expect(accepted).toEqual({ kind: "accepted" });
      expect(await buffers[0]!.lookupIdempotency(tuple)).toBe(`run_new${round}`);
      await buffers[0]!.fail(`run_new${round}`, { code: "E", message: "reset for next round" });
    }
    await closeAll(buffers);
  });

  redisTest("resetIdempotency: concurrent resets clear the bound run once", async ({ redis }) => {
    const buffers = clients(redis, 4);
    await buffers[0]!.accept(acceptInput("run_1", { idempotencyKey: tuple.idempotencyKey, taskIdentifier: tuple.taskIdentifier }));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => buffers[i % 4]!.resetIdempotency(tuple)));
    expect(results.filter((r) => r.clearedRunId === "run_1")).toHaveLength(1);
    await closeAll(buffers);
  });

  redisTest("evaluateTrip: 100 concurrent calls lose no increment", async ({ redis }) => {
    const buffers = clients(redis, 4);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => buffers[i % 4]!.evaluateTrip("env_a", { windowMs: 10_000, threshold: 50, holdMs: 10_000 })),
    );
    expect(new Set(results.map((r) => r.count)).size).toBe(100);
    expect(Math.max(...results.map((r) => r.count))).toBe(100);
    expect(results.filter((r) => r.count > 50).every((r) => r.tripped)).toBe(true);
    await closeAll(buffers);
  });

  redisTest("acquireLease / releaseLease: one holder among concurrent acquirers; non-holders cannot release", async ({ redis }) => {
    const buffers = clients(redis, 4);
    const taken = await Promise.all(Array.from({ length: 20 }, (_, i) => buffers[i % 4]!.acquireSweepLease(`tok${i}`, 10_000)));
    const holder = taken.findIndex(Boolean);
    expect(taken.filter(Boolean)).toHaveLength(1);
    const released = await Promise.all(Array.from({ length: 20 }, (_, i) => buffers[i % 4]!.releaseSweepLease(i === holder ? "nobody" : `tok${i}`)));
    expect(released.filter(Boolean)).toHaveLength(0);
    expect(await buffers[0]!.acquireSweepLease(`tok${holder}`, 10_000)).toBe(true); // renew
    expect(await buffers[0]!.acquireSweepLease("other", 10_000)).toBe(false);
    await closeAll(buffers);
  });

  redisTest("sweepShard: concurrent steps never double counts and advance the cursor once each", async ({ redis }) => {
    const buffers = clients(redis, 4);
    const old = new Date(Date.now() - 60_000);
    for (let o = 0; o < 4; o++) for (let e = 0; e < 3; e++) await buffers[0]!.accept(acceptInput(`run_${o}_${e}`, { orgId: `org_${o}`, envId: `env_${o}_${e}`, createdAt: old }));
    // 8 concurrent steps with 2 shards = 4 full cycles; whatever the interleaving, counts are absolute
    const steps = await Promise.all(Array.from({ length: 8 }, (_, i) => buffers[i % 4]!.sweepShard({ cutoffMs: Date.now() - 1_000, shardCount: 2 })));
    expect(steps.map((s) => s.shard).sort()).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(steps.filter((s) => s.wrapped)).toHaveLength(4);
    const counts = await buffers[0]!.readStaleCounts();
    expect(Object.keys(counts)).toHaveLength(12);
    expect(Object.values(counts).every((n) => n === 1)).toBe(true);
    // the sweep wrapper across instances agrees
    const sweep = new MollifierStaleSweep({ buffer: buffers[0]! });
    const tick = await sweep.runStaleSweepTick({ now: Date.now(), thresholdMs: 1_000, shardCount: 2 });
    expect(tick).toMatchObject({ skipped: false, staleTotal: 12 });
    await closeAll(buffers);
  });
});

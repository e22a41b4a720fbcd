import { describe, expect } from "vitest";
import { redisTest } from "@internal/testcontainers";
import { MollifierStaleSweep, type MollifierBuffer } from "../src/mollifier/index.js";
import { acceptInput, lease, makeBuffer } from "./mollifierHelpers.js";

const THRESHOLD = 5 * 60_000;
const now = () => Date.now();
const old = () => new Date(Date.now() - THRESHOLD - 60_000);

async function put(buffer: MollifierBuffer, runId: string, orgId: string, envId: string, stale: boolean) {
  await buffer.accept(acceptInput(runId, { orgId, envId, createdAt: stale ? old() : new Date() }));
}

describe("MollifierStaleSweep.runStaleSweepTick", () => {
  redisTest("counts entries older than the threshold per env and leaves fresh ones out", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await put(buffer, "run_1", "org_a", "env_a", true);
    await put(buffer, "run_2", "org_a", "env_a", true);
    await put(buffer, "run_3", "org_a", "env_a", false);
    await put(buffer, "run_4", "org_b", "env_b", false); // has entries, none stale → not in the counts
    await put(buffer, "run_5", "org_b", "env_c", true);
    const sweep = new MollifierStaleSweep({ buffer });
    const result = await sweep.runStaleSweepTick({ now: now(), thresholdMs: THRESHOLD, shardCount: 1 });
    expect(result).toEqual({
      skipped: false,
      shard: 0,
      wrapped: true,
      orgsScanned: 2,
      envsScanned: 3,
      staleInShard: 3,
      counts: { env_a: 2, env_c: 1 },
      staleTotal: 3,
    });
    await buffer.close();
  });

  redisTest("delayed and draining entries still count; acked ones do not", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await put(buffer, "run_1", "org_a", "env_a", true);
    await put(buffer, "run_2", "org_a", "env_a", true);
    await put(buffer, "run_3", "org_a", "env_a", true);
    await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    await buffer.requeue("run_1", { delayMs: 60_000 }); // backing off
    await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease }); // run_2 draining
    await buffer.ack("run_2");
    await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease }); // run_3 draining
    const sweep = new MollifierStaleSweep({ buffer });
    const result = await sweep.runStaleSweepTick({ now: now(), thresholdMs: THRESHOLD, shardCount: 1 });
    expect(result).toMatchObject({ counts: { env_a: 2 }, staleTotal: 2 });
    await buffer.close();
  });

  redisTest("shards the org list across ticks and wraps after shardCount ticks", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    for (let o = 0; o < 6; o++) await put(buffer, `run_${o}`, `org_${o}`, `env_${o}`, true);
    const sweep = new MollifierStaleSweep({ buffer });
    const ticks = [];
    for (let i = 0; i < 4; i++) ticks.push(await sweep.runStaleSweepTick({ now: now(), thresholdMs: THRESHOLD, shardCount: 3 }));
    expect(ticks.map((t) => (t.skipped ? null : [t.shard, t.wrapped, t.orgsScanned]))).toEqual([
      [0, false, 2],
      [1, false, 2],
      [2, true, 2],
      [0, false, 2],
    ]);
    const third = ticks[2]!;
    expect(!third.skipped && third.staleTotal).toBe(6);
    await buffer.close();
  });

  redisTest("counts persist across ticks; an env that drained completely is dropped at the cycle wrap", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await put(buffer, "run_a", "org_a", "env_a", true);
    await put(buffer, "run_b", "org_b", "env_b", true);
    const sweep = new MollifierStaleSweep({ buffer });
    const tick = () => sweep.runStaleSweepTick({ now: now(), thresholdMs: THRESHOLD, shardCount: 2 });
    await tick(); // shard 0: org_a
    await tick(); // shard 1: org_b, wrap
    expect(await buffer.readStaleCounts()).toEqual({ env_a: 1, env_b: 1 });
    // env_a drains completely mid-cycle: its org leaves the rotation, so nothing revisits it
    await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    await buffer.ack("run_a");
    expect(await tick()).toMatchObject({ shard: 0, orgsScanned: 1, counts: { env_a: 1, env_b: 1 } }); // org list is now [org_b]
    expect(await tick()).toMatchObject({ shard: 1, wrapped: true, counts: { env_b: 1 }, staleTotal: 1 });
    await buffer.close();
  });

  redisTest("an env revisited with entries but none stale is cleared at once", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await put(buffer, "run_old", "org_a", "env_a", true);
    await put(buffer, "run_new", "org_a", "env_a", false);
    const sweep = new MollifierStaleSweep({ buffer });
    expect(await sweep.runStaleSweepTick({ now: now(), thresholdMs: THRESHOLD, shardCount: 1 })).toMatchObject({ staleTotal: 1 });
    await buffer.fail("run_old", { code: "E", message: "x" });
    expect(await sweep.runStaleSweepTick({ now: now(), thresholdMs: THRESHOLD, shardCount: 1 })).toMatchObject({ counts: {}, staleTotal: 0 });
    await buffer.close();
  });

  redisTest("orgs that join mid-cycle are visited from the next cycle (frozen org list)", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await put(buffer, "run_a", "org_a", "env_a", true);
    await put(buffer, "run_b", "org_b", "env_b", true);
    const sweep = new MollifierStaleSweep({ buffer });
    const tick = () => sweep.runStaleSweepTick({ now: now(), thresholdMs: THRESHOLD, shardCount: 2 });
    await tick();
    await put(buffer, "run_c", "org_c", "env_c", true);
    expect(await tick()).toMatchObject({ wrapped: true, counts: { env_a: 1, env_b: 1 } });
    await tick();
    expect(await tick()).toMatchObject({ wrapped: true, counts: { env_a: 1, env_b: 1, env_c: 1 } });
    await buffer.close();
  });

  redisTest("an empty buffer sweeps cleanly", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    const sweep = new MollifierStaleSweep({ buffer });
    expect(await sweep.runStaleSweepTick({ now: now(), thresholdMs: THRESHOLD, shardCount: 4 })).toMatchObject({
      skipped: false,
      orgsScanned: 0,
      envsScanned: 0,
      staleTotal: 0,
    });
    await buffer.close();
  });

  redisTest("two instances sweeping concurrently: one holds the lease, counts are not doubled", async ({ redis }) => {
    const bufferA = makeBuffer(redis);
    const bufferB = makeBuffer(redis);
    for (let i = 0; i < 5; i++) await put(bufferA, `run_${i}`, "org_a", "env_a", true);
    const a = new MollifierStaleSweep({ buffer: bufferA, leaseMs: 60_000 });
    const b = new MollifierStaleSweep({ buffer: bufferB, leaseMs: 60_000 });
    const input = { now: now(), thresholdMs: THRESHOLD, shardCount: 1 };
    const results = await Promise.all([a.runStaleSweepTick(input), b.runStaleSweepTick(input), a.runStaleSweepTick(input), b.runStaleSweepTick(input)]);
    const ran = results.filter((r) => !r.skipped);
    expect(ran).toHaveLength(2); // the same holder, twice
    expect(results.filter((r) => r.skipped)).toHaveLength(2);
    for (const r of ran) expect(r).toMatchObject({ counts: { env_a: 5 }, staleTotal: 5 });
    expect(await bufferA.readStaleCounts()).toEqual({ env_a: 5 });

    // the holder gives the lease up on shutdown; the other takes over and continues the same state
    const holder = results[0]!.skipped ? b : a;
    const other = holder === a ? b : a;
    await holder.release();
    expect(await other.runStaleSweepTick(input)).toMatchObject({ skipped: false, counts: { env_a: 5 } });
    expect(await holder.runStaleSweepTick(input)).toEqual({ skipped: true, reason: "lease_held_elsewhere" });
    await bufferA.close();
    await bufferB.close();
  });

  redisTest("clearSweepState wipes cursor, org list, counts and visited set", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await put(buffer, "run_a", "org_a", "env_a", true);
    await put(buffer, "run_b", "org_b", "env_b", true);
    const sweep = new MollifierStaleSweep({ buffer });
    await sweep.runStaleSweepTick({ now: now(), thresholdMs: THRESHOLD, shardCount: 2 });
    await buffer.clearSweepState();
    expect(await buffer.readStaleCounts()).toEqual({});
    expect(await sweep.runStaleSweepTick({ now: now(), thresholdMs: THRESHOLD, shardCount: 2 })).toMatchObject({ shard: 0 });
    await buffer.close();
  });
});

import { describe, expect } from "vitest";
import { redisTest } from "@internal/testcontainers";
import { entrySnapshot } from "../src/mollifier/index.js";
import { acceptInput, lease, makeBuffer } from "./mollifierHelpers.js";

describe("MollifierBuffer.mutateSnapshot", () => {
  redisTest("not_found without an entry; busy once popped, drained or acked", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    const cancel = { type: "mark_cancelled", cancelledAt: new Date() } as const;
    expect(await buffer.mutateSnapshot("run_missing", cancel)).toEqual({ kind: "not_found" });
    await buffer.accept(acceptInput("run_1"));
    const popped = await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    expect(await buffer.mutateSnapshot("run_1", cancel)).toEqual({ kind: "busy" });
    await buffer.markDrained("run_1", popped!.leaseId);
    expect(await buffer.mutateSnapshot("run_1", cancel)).toEqual({ kind: "busy" });
    await buffer.ack("run_1");
    expect(await buffer.mutateSnapshot("run_1", cancel)).toEqual({ kind: "busy" });
    await buffer.accept(acceptInput("run_2"));
    await buffer.fail("run_2", { code: "E", message: "x" });
    expect(await buffer.mutateSnapshot("run_2", cancel)).toEqual({ kind: "not_found" });
    await buffer.close();
  });

  redisTest("a delayed (backing off) entry is still mutable", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    await buffer.requeue("run_1", { delayMs: 60_000 });
    expect(await buffer.mutateSnapshot("run_1", { type: "set_delay", delayUntil: new Date() })).toEqual({ kind: "applied_to_snapshot" });
    await buffer.close();
  });

  redisTest("append_tags merges in order with dedup, creating tags when absent", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1", { snapshot: { tags: ["a", "b"] } }));
    await buffer.accept(acceptInput("run_2", { snapshot: { friendlyId: "run_2" } }));
    expect(await buffer.mutateSnapshot("run_1", { type: "append_tags", tags: ["b", "c", "c", "d"] })).toEqual({
      kind: "applied_to_snapshot",
      addedTags: 2,
    });
    expect(entrySnapshot((await buffer.getEntry("run_1"))!).tags).toEqual(["a", "b", "c", "d"]);
    expect(await buffer.mutateSnapshot("run_2", { type: "append_tags", tags: ["x/y"] })).toMatchObject({ addedTags: 1 });
    expect(entrySnapshot((await buffer.getEntry("run_2"))!).tags).toEqual(["x/y"]);
    expect(await buffer.mutateSnapshot("run_2", { type: "append_tags", tags: [] })).toMatchObject({ addedTags: 0 });
    expect(entrySnapshot((await buffer.getEntry("run_2"))!).tags).toEqual(["x/y"]);
    await buffer.close();
  });

  redisTest("append_tags past the cap (default 10) is reported as limit_exceeded and writes nothing", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    const nine = Array.from({ length: 9 }, (_, i) => `t${i}`);
    await buffer.accept(acceptInput("run_1", { snapshot: { tags: nine } }));
    expect(await buffer.mutateSnapshot("run_1", { type: "append_tags", tags: ["t0", "u1", "u2"] })).toEqual({ kind: "limit_exceeded", tagCount: 11 });
    expect((await buffer.getEntry("run_1"))!.tags).toEqual(nine);
    expect(await buffer.mutateSnapshot("run_1", { type: "append_tags", tags: ["t0", "u1"] })).toMatchObject({ kind: "applied_to_snapshot" });
    expect((await buffer.getEntry("run_1"))!.tags).toHaveLength(10);
    expect(await buffer.mutateSnapshot("run_1", { type: "append_tags", tags: ["u2"], maxTags: null })).toMatchObject({ kind: "applied_to_snapshot" });
    await buffer.close();
  });

  redisTest("set_metadata, set_delay and mark_cancelled are laid over the payload without rewriting it", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    const original = { friendlyId: "run_1", metadata: '{"a":1}', metadataType: "application/json", precise: 0.1 + 0.2, list: [], idempotencyKey: "k" };
    await buffer.accept(acceptInput("run_1", { snapshot: original }));
    const delayUntil = new Date("2030-01-01T00:00:00.000Z");
    const cancelledAt = new Date("2029-01-01T00:00:00.000Z");
    expect(await buffer.mutateSnapshot("run_1", { type: "set_metadata", metadata: '{"b":2}', metadataType: "application/super+json" })).toEqual({
      kind: "applied_to_snapshot",
      metadataVersion: 1,
    });
    await buffer.mutateSnapshot("run_1", { type: "set_delay", delayUntil });
    await buffer.mutateSnapshot("run_1", { type: "mark_cancelled", cancelledAt, cancelReason: "Canceled by user" });
    const entry = (await buffer.getEntry("run_1"))!;
    expect(JSON.parse(entry.payload)).toEqual(original); // untouched bytes: no cjson re-encoding
    expect(entrySnapshot(entry)).toEqual({
      ...original,
      metadata: '{"b":2}',
      metadataType: "application/super+json",
      delayUntil: delayUntil.toISOString(),
      cancelledAt: cancelledAt.toISOString(),
      cancelReason: "Canceled by user",
    });
    expect(entry.metadataVersion).toBe(1);
    await buffer.close();
  });
});

describe("MollifierBuffer.casSetMetadata", () => {
  redisTest("applies on the expected version and bumps it; conflicts on a stale one", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    const input = { runId: "run_1", metadata: '{"n":1}', metadataType: "application/json" };
    expect(await buffer.casSetMetadata({ ...input, expectedVersion: 0 })).toEqual({ kind: "applied", newVersion: 1 });
    expect(await buffer.casSetMetadata({ ...input, expectedVersion: 0 })).toEqual({ kind: "version_conflict", currentVersion: 1 });
    expect(entrySnapshot((await buffer.getEntry("run_1"))!).metadata).toBe('{"n":1}');
    await buffer.close();
  });

  redisTest("a set_metadata patch bumps the version so an in-flight CAS conflicts", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    const read = (await buffer.getEntry("run_1"))!.metadataVersion;
    await buffer.mutateSnapshot("run_1", { type: "set_metadata", metadata: "{}", metadataType: "application/json" });
    expect(await buffer.casSetMetadata({ runId: "run_1", expectedVersion: read, metadata: '{"x":1}', metadataType: "application/json" })).toEqual({
      kind: "version_conflict",
      currentVersion: 1,
    });
    await buffer.close();
  });

  redisTest("not_found when missing, busy when popped or materialised", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    const input = { runId: "run_1", expectedVersion: 0, metadata: "{}", metadataType: "application/json" };
    expect(await buffer.casSetMetadata(input)).toEqual({ kind: "not_found" });
    await buffer.accept(acceptInput("run_1"));
    await buffer.pop({ envId: "env_a", orgId: "org_a", ...lease });
    expect(await buffer.casSetMetadata(input)).toEqual({ kind: "busy" });
    await buffer.ack("run_1");
    expect(await buffer.casSetMetadata(input)).toEqual({ kind: "busy" });
    await buffer.close();
  });
});

describe("entrySnapshot", () => {
  redisTest("a malformed payload throws (the drainer sends it to the terminal path)", async ({ redis }) => {
    const buffer = makeBuffer(redis);
    await buffer.accept(acceptInput("run_1"));
    await buffer.redis.hset(buffer.keys.key("entry", "run_1"), "payload", "{not json");
    const entry = (await buffer.getEntry("run_1"))!;
    expect(() => entrySnapshot(entry)).toThrow(SyntaxError);
    await buffer.close();
  });
});

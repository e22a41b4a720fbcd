import { createRedisClient } from "@runplane/redis-worker/redis";
import { createTestRedis, TEST_REDIS_URL } from "@internal/testcontainers";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import { ChangeMessage, RealtimeChangeLog } from "~/v3/realtime/changeLog.server";
import { RealtimeChangeRouter, type ChangeSignal } from "~/v3/realtime/changeRouter.server";
import { logger } from "~/services/logger.server";

const testRedis = createTestRedis();
const prefix = testRedis.keyPrefix;
let redis: Redis;
const extra: Redis[] = [];

beforeAll(() => {
  redis = createRedisClient(TEST_REDIS_URL, "realtime-changelog-test");
});
afterEach(async () => {
  await Promise.all(extra.splice(0).map((r) => r.quit().catch(() => r.disconnect())));
});
afterAll(async () => {
  await redis.quit();
  await testRedis.cleanup();
});

const env = () => `env_${Math.random().toString(36).slice(2, 10)}`;

describe("RealtimeChangeLog", () => {
  test("positions count up per environment and say which runs changed after an offset", async () => {
    const log = new RealtimeChangeLog({ redis, keyPrefix: prefix });
    const e = env();
    const start = await log.position(e);
    expect(start.seq).toBe(0);
    const a = await log.recordChanges(e, ["r1", "r2"]);
    const b = await log.recordChanges(e, ["r2"]);
    const c = await log.recordChanges(e, ["r3", "r3"]);
    expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 3]);
    expect(new Set([start.epoch, a.epoch, b.epoch, c.epoch]).size).toBe(1);

    expect(await log.changesSince(e, 0)).toMatchObject({ seq: 3, runIds: ["r1", "r2", "r3"], complete: true });
    expect(await log.changesSince(e, 1)).toMatchObject({ runIds: ["r2", "r3"], complete: true });
    expect(await log.changesSince(e, 3)).toMatchObject({ runIds: [], complete: true });
    // Another environment has its own counter.
    expect((await log.recordChanges(env(), ["x"])).seq).toBe(1);
    // Keys carry the prefix.
    expect(await redis.exists(`${prefix}realtime:env:${e}:meta`, `${prefix}realtime:env:${e}:log`)).toBe(2);
  });

  test("a trimmed log reports itself incomplete below its floor; too many changes too", async () => {
    const log = new RealtimeChangeLog({ redis, keyPrefix: prefix, maxEntries: 3 });
    const e = env();
    for (const run of ["a", "b", "c", "d", "e"]) await log.recordChanges(e, [run]);
    const below = await log.changesSince(e, 1);
    expect(below.floor).toBe(2);
    expect(below.complete).toBe(false);
    expect(await log.changesSince(e, 2)).toMatchObject({ runIds: ["c", "d", "e"], complete: true });
    expect(await log.changesSince(e, 2, 2)).toMatchObject({ runIds: ["c", "d"], complete: false });
  });

  test("a log that disappeared comes back with a new epoch", async () => {
    const log = new RealtimeChangeLog({ redis, keyPrefix: prefix });
    const e = env();
    const first = await log.recordChanges(e, ["a"]);
    await redis.del(`${prefix}realtime:env:${e}:meta`);
    const second = await log.recordChanges(e, ["b"]);
    expect(second.epoch).not.toBe(first.epoch);
    expect(second.seq).toBe(1);
    expect((await log.changesSince(e, 0)).runIds).toEqual(["b"]);
  });

  test("concurrent writers from several connections get distinct positions, each announced once", async () => {
    const e = env();
    const writers = Array.from({ length: 4 }, () => {
      const client = createRedisClient(TEST_REDIS_URL);
      extra.push(client);
      return new RealtimeChangeLog({ redis: client, keyPrefix: prefix });
    });
    const sub = createRedisClient(TEST_REDIS_URL);
    extra.push(sub);
    const messages: ChangeMessage[] = [];
    sub.on("message", (_channel: string, raw: string) => messages.push(ChangeMessage.parse(JSON.parse(raw))));
    await sub.subscribe(writers[0]!.channel(e));

    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => writers[i % writers.length]!.recordChanges(e, [`run${i % 20}`]))
    );
    const seqs = results.map((r) => r.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(new Set(results.map((r) => r.epoch)).size).toBe(1);

    await vi.waitFor(() => expect(messages).toHaveLength(200));
    expect(new Set(messages.map((m) => m.seq)).size).toBe(200);
    // Each run's log entry is its latest change.
    const latest = new Map<string, number>();
    for (const m of messages) for (const id of m.runIds) latest.set(id, Math.max(latest.get(id) ?? 0, m.seq));
    const entries = await redis.zrange(`${prefix}realtime:env:${e}:log`, 0, -1, "WITHSCORES");
    const stored = new Map<string, number>();
    for (let i = 0; i < entries.length; i += 2) stored.set(entries[i]!, Number(entries[i + 1]));
    expect(stored).toEqual(latest);
  });
});

describe("RealtimeChangeRouter", () => {
  test("hands an environment's announcements to its listeners only, and resyncs them on close", async () => {
    const log = new RealtimeChangeLog({ redis, keyPrefix: prefix });
    const subscriber = createRedisClient(TEST_REDIS_URL);
    const router = new RealtimeChangeRouter({ subscriber, channel: (id) => log.channel(id), logger, lingerMs: 50 });
    const [e1, e2] = [env(), env()];
    const got1: ChangeSignal[] = [];
    const got2: ChangeSignal[] = [];
    const off1 = await router.listen(e1, (s) => got1.push(s));
    await router.listen(e2, (s) => got2.push(s));

    await log.recordChanges(e1, ["a"]);
    await log.recordChanges(e2, ["b"]);
    await vi.waitFor(() => expect(got1.length + got2.length).toBe(2));
    expect(got1).toEqual([{ type: "change", message: expect.objectContaining({ seq: 1, runIds: ["a"] }) }]);
    expect(got2).toEqual([{ type: "change", message: expect.objectContaining({ seq: 1, runIds: ["b"] }) }]);

    // The last listener leaving unsubscribes after the linger time.
    off1();
    expect(router.subscribedChannels()).toContain(log.channel(e1));
    await vi.waitFor(() => expect(router.subscribedChannels()).not.toContain(log.channel(e1)));
    await log.recordChanges(e1, ["a"]);

    await router.close();
    expect(got2.at(-1)).toEqual({ type: "resync" });
    expect(got1).toHaveLength(1);
    await expect(router.listen(e1, () => {})).rejects.toThrow(/closed/);
  });
});

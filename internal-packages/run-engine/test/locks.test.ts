import { describe, expect } from "vitest";
import { redisTest } from "@internal/testcontainers";
import { LockAcquisitionTimeoutError, RunLocker, type RunLockerOptions } from "../src/locks/index.js";
import type { TestRedis } from "@internal/testcontainers";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function locker(redis: TestRedis, options: Partial<RunLockerOptions> = {}) {
  return new RunLocker({ redis: redis.options, retryDelayMs: 5, maxRetryDelayMs: 40, acquireTimeoutMs: 10_000, ...options });
}

describe("RunLocker", () => {
  redisTest("mutual exclusion: 30 concurrent holders across 3 lockers, never two inside", async ({ redis }) => {
    const lockers = [locker(redis), locker(redis), locker(redis)];
    try {
      let inside = 0;
      let maxInside = 0;
      let entered = 0;
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          lockers[i % 3]!.lock(["run_1"], async () => {
            inside += 1;
            entered += 1;
            maxInside = Math.max(maxInside, inside);
            await sleep(2);
            inside -= 1;
          }),
        ),
      );
      expect(entered).toBe(30);
      expect(maxInside).toBe(1);
    } finally {
      await Promise.all(lockers.map((l) => l.close()));
    }
  });

  redisTest("multi-resource locks are all-or-nothing and exclude overlapping sets", async ({ redis }) => {
    const lockers = [locker(redis), locker(redis)];
    try {
      const inside = new Map<string, number>();
      let violations = 0;
      const sets = [["a", "b"], ["b", "c"], ["c", "a"], ["a"], ["d"]];
      await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          lockers[i % 2]!.lock(sets[i % sets.length]!, async () => {
            for (const r of sets[i % sets.length]!) {
              if ((inside.get(r) ?? 0) > 0) violations += 1;
              inside.set(r, (inside.get(r) ?? 0) + 1);
            }
            await sleep(3);
            for (const r of sets[i % sets.length]!) inside.set(r, inside.get(r)! - 1);
          }),
        ),
      );
      expect(violations).toBe(0);
    } finally {
      await Promise.all(lockers.map((l) => l.close()));
    }
  });

  redisTest("extension keeps a long holder; the waiter times out with LockAcquisitionTimeoutError", async ({ redis }) => {
    const holder = locker(redis, { durationMs: 200, extendBeforeMs: 100 });
    const waiter = locker(redis, { acquireTimeoutMs: 500 });
    try {
      let holderSignal: AbortSignal | undefined;
      const holding = holder.lock(["run_long"], async ({ signal }) => {
        holderSignal = signal;
        await sleep(900); // 4.5× the lock lifetime
        return "done";
      });
      await sleep(20);
      const started = Date.now();
      const error = await waiter.lock(["run_long"], async () => "stolen").catch((e) => e);
      expect(error).toBeInstanceOf(LockAcquisitionTimeoutError);
      expect((error as LockAcquisitionTimeoutError).resources).toEqual(["run_long"]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(490);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(await holding).toBe("done");
      expect(holderSignal?.aborted).toBe(false);
      // Released: the next one gets it at once.
      expect(await waiter.lock(["run_long"], async () => "mine")).toBe("mine");
    } finally {
      await holder.close();
      await waiter.close();
    }
  });

  redisTest("re-entrant within one async chain; other chains wait; detached work re-acquires after release", async ({ redis }) => {
    const l = locker(redis, { acquireTimeoutMs: 300 });
    try {
      const order: string[] = [];
      let detached: Promise<unknown> | undefined;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const holding = l.lock(["r1"], async () => {
        expect(l.isHeld("r1")).toBe(true);
        const inner = await l.lock(["r1", "r2"], async () => {
          expect(l.isHeld("r2")).toBe(true);
          order.push("inner");
          return 42;
        });
        expect(l.isHeld("r2")).toBe(false); // released when the inner call ended
        // Detached work that runs after the holder is gone must acquire for real.
        detached = gate.then(() => l.lock(["r1"], async () => (l.isHeld("r1") ? "acquired" : "no")));
        await sleep(50);
        order.push("outer");
        return inner;
      });
      // Another chain (started outside) waits for the holder.
      await sleep(5);
      const other = l.lock(["r1"], async () => order.push("other"), { acquireTimeoutMs: 2000 });
      expect(await holding).toBe(42);
      await other;
      expect(order).toEqual(["inner", "outer", "other"]);
      expect(l.isHeld("r1")).toBe(false);
      release();
      expect(await detached).toBe("acquired");
    } finally {
      await l.close();
    }
  });

  redisTest("released when the critical section throws", async ({ redis }) => {
    const l = locker(redis, { acquireTimeoutMs: 200 });
    try {
      await expect(l.lock(["r"], async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
      expect(await l.lock(["r"], async () => "ok")).toBe("ok");
    } finally {
      await l.close();
    }
  });

  redisTest("a lost lock aborts the holder's signal", async ({ redis }) => {
    const l = locker(redis, { durationMs: 150, extendBeforeMs: 50, keyPrefix: "lostlock:" });
    const admin = new (await import("ioredis")).Redis(redis.options);
    try {
      const aborted = await l.lock(["r"], async ({ signal }) => {
        await admin.del("lostlock:r"); // someone broke in
        await sleep(250);
        return signal.aborted;
      });
      expect(aborted).toBe(true);
    } finally {
      admin.disconnect();
      await l.close();
    }
  });
});

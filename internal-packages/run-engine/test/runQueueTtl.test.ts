import { describe, expect } from "vitest";
import { redisTest } from "@internal/testcontainers";
import { createQueue, message, sleep } from "./runQueueHelpers.js";

describe("RunQueue TTL", () => {
  redisTest("popExpiredMessages returns only queued messages past their TTL", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      const now = Date.now();
      const expiredQueued = message({ ttlExpiresAt: now - 10, timestamp: now + 60_000 });
      const expiredButRunning = message({ ttlExpiresAt: now + 150 });
      const notExpired = message({ ttlExpiresAt: now + 60_000, timestamp: now + 60_000 });
      const noTtl = message({ timestamp: now + 60_000 });
      await queue.enqueueMessage(expiredButRunning);
      const got = await queue.dequeue({ consumerId: "c", maxCount: 1 });
      expect(got.map((m) => m.runId)).toEqual([expiredButRunning.runId]);
      for (const m of [expiredQueued, notExpired, noTtl]) await queue.enqueueMessage(m);
      await sleep(200);
      const popped = await queue.popExpiredMessages(Date.now(), 100);
      expect(popped).toEqual([expiredQueued.runId]);
      expect(await queue.peekMessage(expiredQueued.runId)).toBeUndefined();
      expect(await queue.peekMessage(expiredButRunning.runId)).toMatchObject({ state: "in_progress" });
      expect(await queue.lengthOfQueue("env_1", "task/my-task")).toBe(2);
      expect(await queue.popExpiredMessages(Date.now(), 100)).toEqual([]);
    } finally {
      await queue.close();
    }
  });

  redisTest("an expired message is never dequeued, and is popped later", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      const m = message({ ttlExpiresAt: Date.now() - 1 });
      await queue.enqueueMessage(m);
      expect(await queue.dequeue({ consumerId: "c", maxCount: 1 })).toEqual([]);
      expect(await queue.popExpiredMessages(Date.now(), 10)).toEqual([m.runId]);
    } finally {
      await queue.close();
    }
  });

  redisTest("concurrent pops and dequeues: each message goes one way, exactly once", async ({ redis }) => {
    const queues = Array.from({ length: 3 }, () => createQueue(redis));
    try {
      const now = Date.now();
      const runs = Array.from({ length: 60 }, (_, i) => message({ ttlExpiresAt: now + 100 + (i % 5) * 10 }));
      for (const m of runs) await queues[0]!.enqueueMessage(m);
      await sleep(160);
      const [pops, dequeues] = await Promise.all([
        Promise.all(Array.from({ length: 10 }, (_, i) => queues[i % 3]!.popExpiredMessages(Date.now(), 7))),
        Promise.all(Array.from({ length: 10 }, (_, i) => queues[i % 3]!.dequeue({ consumerId: "c", maxCount: 7 }))),
      ]);
      const popped = pops.flat();
      const dequeued = dequeues.flat().map((m) => m.runId);
      expect(dequeued).toEqual([]); // all expired before the race started
      expect(new Set(popped).size).toBe(popped.length);
      const rest = await queues[0]!.popExpiredMessages(Date.now(), 100);
      expect([...popped, ...rest].sort()).toEqual(runs.map((m) => m.runId).sort());
      expect(await queues[0]!.lengthOfQueue("env_1", "task/my-task")).toBe(0);
    } finally {
      await Promise.all(queues.map((q) => q.close()));
    }
  });

  redisTest("race between TTL pop and dequeue at the edge: never both", async ({ redis }) => {
    const queues = Array.from({ length: 2 }, () => createQueue(redis));
    try {
      const runs = Array.from({ length: 40 }, () => message({ ttlExpiresAt: Date.now() + 30 }));
      for (const m of runs) await queues[0]!.enqueueMessage(m);
      await sleep(Math.max(0, runs[0]!.ttlExpiresAt! - Date.now()));
      const [popped, dequeued] = await Promise.all([
        (async () => {
          const all: string[] = [];
          for (let i = 0; i < 10; i++) all.push(...(await queues[0]!.popExpiredMessages(Date.now() + 5, 4)));
          return all;
        })(),
        (async () => {
          const all: string[] = [];
          for (let i = 0; i < 10; i++) all.push(...(await queues[1]!.dequeue({ consumerId: "c", maxCount: 4 })).map((m) => m.runId));
          return all;
        })(),
      ]);
      const both = popped.filter((id) => dequeued.includes(id));
      expect(both).toEqual([]);
      for (const id of dequeued) expect(await queues[0]!.peekMessage(id)).toMatchObject({ state: "in_progress" });
      for (const id of popped) expect(await queues[0]!.peekMessage(id)).toBeUndefined();
    } finally {
      await Promise.all(queues.map((q) => q.close()));
    }
  });
});

describe("RunQueue waitForMessages", () => {
  redisTest("wakes on enqueue from another instance, times out otherwise", async ({ redis }) => {
    const a = createQueue(redis);
    const b = createQueue(redis);
    try {
      const started = Date.now();
      expect(await a.waitForMessages("env_1", 150)).toBe(false);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);

      const waiting = a.waitForMessages("env_1", 5000);
      await sleep(50);
      const t0 = Date.now();
      await b.enqueueMessage(message());
      expect(await waiting).toBe(true);
      expect(Date.now() - t0).toBeLessThan(1000);
      // Already dequeueable: returns at once.
      expect(await a.waitForMessages(undefined, 5000)).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  redisTest("blocked by a limit: waits, and wakes when a slot frees", async ({ redis }) => {
    const a = createQueue(redis);
    try {
      await a.updateQueueConcurrencyLimit("env_1", "task/my-task", 1);
      await a.enqueueMessage(message());
      await a.enqueueMessage(message());
      const [running] = await a.dequeue({ consumerId: "c", maxCount: 5 });
      const t0 = Date.now();
      const waiting = a.waitForMessages("env_1", 3000);
      await sleep(100);
      await a.acknowledgeMessage(running!.runId);
      expect(await waiting).toBe(true);
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      await a.close();
    }
  });

  redisTest("wakes when a delayed message becomes due; aborts on signal", async ({ redis }) => {
    const a = createQueue(redis);
    try {
      await a.enqueueMessage(message({ timestamp: Date.now() + 200 }));
      const t0 = Date.now();
      expect(await a.waitForMessages("env_1", 3000)).toBe(true);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
      expect(Date.now() - t0).toBeLessThan(1500);

      const controller = new AbortController();
      const waiting = a.waitForMessages("env_other", 3000, controller.signal);
      setTimeout(() => controller.abort(), 50);
      expect(await waiting).toBe(false);
    } finally {
      await a.close();
    }
  });
});

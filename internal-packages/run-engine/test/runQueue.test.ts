import { describe, expect } from "vitest";
import { redisTest } from "@internal/testcontainers";
import { createQueue, message, sleep } from "./runQueueHelpers.js";

describe("RunQueue basics", () => {
  redisTest("enqueue, dequeue, ack round trip", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      const m = message();
      expect(await queue.enqueueMessage(m)).toBe("enqueued");
      expect(await queue.lengthOfQueue("env_1", m.queue)).toBe(1);
      const [got] = await queue.dequeue({ consumerId: "c1", maxCount: 5 });
      expect(got?.runId).toBe(m.runId);
      expect(await queue.currentConcurrency({ environmentId: "env_1" })).toBe(1);
      expect(await queue.currentConcurrency({ environmentId: "env_1", queue: m.queue })).toBe(1);
      const peeked = await queue.peekMessage(m.runId);
      expect(peeked).toMatchObject({ state: "in_progress", consumerId: "c1", holdsConcurrency: true });
      expect(await queue.acknowledgeMessage(m.runId)).toBe(true);
      expect(await queue.acknowledgeMessage(m.runId)).toBe(false);
      expect(await queue.peekMessage(m.runId)).toBeUndefined();
      expect(await queue.currentConcurrency({ environmentId: "env_1" })).toBe(0);
      expect(await queue.dequeue({ consumerId: "c1", maxCount: 5 })).toEqual([]);
    } finally {
      await queue.close();
    }
  });

  redisTest("idempotent enqueue: one message per run, even under concurrent enqueues", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      const m = message();
      const results = await Promise.all(Array.from({ length: 20 }, () => queue.enqueueMessage(m)));
      expect(results.filter((r) => r === "enqueued")).toHaveLength(1);
      expect(results.filter((r) => r === "duplicate")).toHaveLength(19);
      expect(await queue.lengthOfQueue("env_1", m.queue)).toBe(1);
      const got = await queue.dequeue({ consumerId: "c", maxCount: 10 });
      expect(got).toHaveLength(1);
      // In progress: a repeated enqueue leaves it alone.
      expect(await queue.enqueueMessage(m)).toBe("duplicate");
      expect(await queue.lengthOfQueue("env_1", m.queue)).toBe(0);
      // replace puts it back with the new fields and frees the slot.
      expect(await queue.enqueueMessage({ ...m, queue: "task/other" }, { replace: true })).toBe("replaced");
      expect(await queue.currentConcurrency({ environmentId: "env_1" })).toBe(0);
      expect(await queue.lengthOfQueue("env_1", "task/other")).toBe(1);
      expect(await queue.peekMessage(m.runId)).toMatchObject({ state: "queued", queue: "task/other" });
    } finally {
      await queue.close();
    }
  });

  redisTest("priority: higher priorityMs is served first, within a queue", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      const now = Date.now();
      const low = message({ timestamp: now - 3000 });
      const mid = message({ timestamp: now - 2000 });
      const high = message({ timestamp: now - 1000, priorityMs: 10_000 });
      for (const m of [low, mid, high]) await queue.enqueueMessage(m);
      const order = [];
      for (let i = 0; i < 3; i++) order.push((await queue.dequeue({ consumerId: "c", maxCount: 1 }))[0]?.runId);
      expect(order).toEqual([high.runId, low.runId, mid.runId]);
    } finally {
      await queue.close();
    }
  });

  redisTest("future messages are not due", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      const m = message({ timestamp: Date.now() + 60_000 });
      await queue.enqueueMessage(m);
      expect(await queue.dequeue({ consumerId: "c", maxCount: 1 })).toEqual([]);
      expect(await queue.lengthOfQueue("env_1", m.queue)).toBe(1);
    } finally {
      await queue.close();
    }
  });

  redisTest("nack with retryAt: not dequeued before then; attempt grows; TTL dropped", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      const m = message({ ttlExpiresAt: Date.now() + 60_000 });
      await queue.enqueueMessage(m);
      await queue.dequeue({ consumerId: "c", maxCount: 1 });
      const retryAt = Date.now() + 400;
      expect(await queue.nackMessage(m.runId, { retryAt })).toBe("requeued");
      expect(await queue.currentConcurrency({ environmentId: "env_1" })).toBe(0);
      expect(await queue.peekMessage(m.runId)).toMatchObject({ state: "queued", attempt: 1, score: retryAt });
      expect((await queue.peekMessage(m.runId))?.ttlExpiresAt).toBeUndefined();
      expect(await queue.dequeue({ consumerId: "c", maxCount: 1 })).toEqual([]);
      await sleep(retryAt - Date.now() + 20);
      const again = await queue.dequeue({ consumerId: "c", maxCount: 1 });
      expect(again.map((x) => x.runId)).toEqual([m.runId]);
      expect(again[0]!.attempt).toBe(1);
      // nack of a queued (not in progress) message is not_found
      await queue.nackMessage(m.runId, { retryAt: Date.now() });
      expect(await queue.nackMessage(m.runId)).toBe("not_found");
    } finally {
      await queue.close();
    }
  });

  redisTest("nack dead-letters after maxAttempts", async ({ redis }) => {
    const queue = createQueue(redis, { maxNackAttempts: 3 });
    try {
      const m = message();
      await queue.enqueueMessage(m);
      const results = [];
      for (let i = 0; i < 3; i++) {
        await queue.dequeue({ consumerId: "c", maxCount: 1 });
        results.push(await queue.nackMessage(m.runId, { retryAt: Date.now() }));
      }
      expect(results).toEqual(["requeued", "requeued", "dead_lettered"]);
      expect(await queue.peekMessage(m.runId)).toBeUndefined();
      expect(await queue.currentConcurrency({ environmentId: "env_1" })).toBe(0);
    } finally {
      await queue.close();
    }
  });

  redisTest("remove while queued; not once in progress", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      const a = message();
      const b = message();
      await queue.enqueueMessage(a);
      await queue.enqueueMessage(b);
      expect(await queue.removeMessage(a.runId)).toBe(true);
      expect(await queue.removeMessage(a.runId)).toBe(false);
      expect(await queue.lengthOfQueue("env_1", a.queue)).toBe(1);
      const got = await queue.dequeue({ consumerId: "c", maxCount: 5 });
      expect(got.map((x) => x.runId)).toEqual([b.runId]);
      expect(await queue.removeMessage(b.runId)).toBe(false);
      expect(await queue.peekMessage(b.runId)).toMatchObject({ state: "in_progress" });
    } finally {
      await queue.close();
    }
  });

  redisTest("release and reacquire concurrency", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      await queue.updateQueueConcurrencyLimit("env_1", "task/my-task", 1);
      const a = message();
      const b = message();
      await queue.enqueueMessage(a);
      await queue.enqueueMessage(b);
      expect((await queue.dequeue({ consumerId: "c", maxCount: 5 })).map((x) => x.runId)).toEqual([a.runId]);
      expect(await queue.releaseConcurrency(a.runId)).toBe(true);
      expect(await queue.peekMessage(a.runId)).toMatchObject({ state: "in_progress", holdsConcurrency: false });
      expect((await queue.dequeue({ consumerId: "c", maxCount: 5 })).map((x) => x.runId)).toEqual([b.runId]);
      expect(await queue.reacquireConcurrency(a.runId)).toBe(false); // queue limit 1 is taken by b
      expect(await queue.reacquireConcurrency(a.runId, { force: true })).toBe(true);
      expect(await queue.currentConcurrency({ environmentId: "env_1", queue: "task/my-task" })).toBe(2);
      expect(await queue.reacquireConcurrency(a.runId)).toBe(true); // already held
      await queue.acknowledgeMessage(a.runId);
      await queue.acknowledgeMessage(b.runId);
      expect(await queue.currentConcurrency({ environmentId: "env_1" })).toBe(0);
      expect(await queue.releaseConcurrency(a.runId)).toBe(false);
    } finally {
      await queue.close();
    }
  });

  redisTest("paused queue and paused env are skipped", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      const a = message({ queue: "q-a" });
      const b = message({ queue: "q-b" });
      const c = message({ environmentId: "env_2" });
      for (const m of [a, b, c]) await queue.enqueueMessage(m);
      await queue.pauseQueue("env_1", "q-a");
      await queue.pauseEnvironment("env_2");
      const got = await queue.dequeue({ consumerId: "c", maxCount: 10 });
      expect(got.map((x) => x.runId)).toEqual([b.runId]);
      await queue.resumeQueue("env_1", "q-a");
      await queue.resumeEnvironment("env_2");
      const rest = await queue.dequeue({ consumerId: "c", maxCount: 10 });
      expect(rest.map((x) => x.runId).sort()).toEqual([a.runId, c.runId].sort());
    } finally {
      await queue.close();
    }
  });

  redisTest("dequeue with environmentId only serves that env", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      const a = message({ environmentId: "env_a" });
      const b = message({ environmentId: "env_b" });
      await queue.enqueueMessage(a);
      await queue.enqueueMessage(b);
      const got = await queue.dequeue({ environmentId: "env_b", consumerId: "c", maxCount: 10 });
      expect(got.map((x) => x.runId)).toEqual([b.runId]);
    } finally {
      await queue.close();
    }
  });

  redisTest("names with colons and percent signs stay separate", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      await queue.updateQueueConcurrencyLimit("env_1", "a", 0);
      const m = message({ queue: "a:ck:x", concurrencyKey: "k:%3A" });
      await queue.enqueueMessage(m);
      const got = await queue.dequeue({ consumerId: "c", maxCount: 1 });
      expect(got.map((x) => x.runId)).toEqual([m.runId]);
      expect(await queue.currentConcurrency({ environmentId: "env_1", queue: "a:ck:x", concurrencyKey: "k:%3A" })).toBe(1);
    } finally {
      await queue.close();
    }
  });
});

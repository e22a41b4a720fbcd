import { describe, expect } from "vitest";
import { redisTest } from "@internal/testcontainers";
import type { QueueMessageInput, RunQueue } from "../src/runQueue/index.js";
import { createQueue, message } from "./runQueueHelpers.js";

const Q = "limits";

async function dequeueIds(queue: RunQueue, maxCount = 20): Promise<string[]> {
  return (await queue.dequeue({ consumerId: "c", maxCount })).map((m) => m.runId);
}

async function enqueueAll(queue: RunQueue, messages: QueueMessageInput[]): Promise<void> {
  for (const m of messages) await queue.enqueueMessage(m);
}

/** Polls `check` until it holds or the deadline passes. */
async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met before the deadline");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A queue's `total` caps all its keys together; a key's own override replaces the queue's limit for it. */
describe("RunQueue: total and per-key limits", () => {
  redisTest("concurrent consumers never hold more than the total across keys, nor more than the limit per key", async ({ redis }) => {
    const consumers = [createQueue(redis), createQueue(redis), createQueue(redis), createQueue(redis)];
    const [admin] = consumers;
    try {
      await admin!.updateQueueConcurrencyLimit("env_1", Q, 1);
      await admin!.updateQueueTotalLimit("env_1", Q, 2);
      const keys = ["a", "b", "c", "d"];
      const messages = Array.from({ length: 24 }, (_, i) => message({ queue: Q, concurrencyKey: keys[i % keys.length] }));
      await enqueueAll(admin!, messages);

      // In hand = dequeued and not yet acknowledged: never more than Redis counts as holding slots.
      let inHand = 0;
      let maxInHand = 0;
      const perKey = new Map<string, number>();
      let maxPerKey = 0;
      let done = 0;
      await Promise.all(
        consumers.map(async (queue, c) => {
          const deadline = Date.now() + 30_000;
          while (done < messages.length) {
            if (Date.now() > deadline) throw new Error("consumers stalled");
            const got = await queue.dequeue({ consumerId: `c${c}`, maxCount: 3 });
            if (got.length === 0) {
              await queue.waitForMessages("env_1", 50);
              continue;
            }
            for (const m of got) {
              inHand += 1;
              maxInHand = Math.max(maxInHand, inHand);
              const held = (perKey.get(m.concurrencyKey!) ?? 0) + 1;
              perKey.set(m.concurrencyKey!, held);
              maxPerKey = Math.max(maxPerKey, held);
            }
            await new Promise((resolve) => setImmediate(resolve));
            for (const m of got) {
              inHand -= 1;
              perKey.set(m.concurrencyKey!, perKey.get(m.concurrencyKey!)! - 1);
              await queue.acknowledgeMessage(m.runId);
              done += 1;
            }
          }
        }),
      );
      expect(done).toBe(messages.length);
      expect(maxInHand).toBe(2);
      expect(maxPerKey).toBe(1);
      expect(await admin!.heldSlots("env_1")).toEqual({ env: [], queueAndKeySets: {} });
    } finally {
      await Promise.all(consumers.map((q) => q.close()));
    }
  });

  redisTest("a total caps one dequeue across keys; raising or removing it lets more through", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      await queue.updateQueueConcurrencyLimit("env_1", Q, 2);
      await queue.updateQueueTotalLimit("env_1", Q, 3);
      await enqueueAll(queue, ["a", "a", "a", "b", "b", "b", "c", "c"].map((ck) => message({ queue: Q, concurrencyKey: ck })));
      expect(await dequeueIds(queue)).toHaveLength(3);
      expect(await dequeueIds(queue)).toEqual([]);
      expect(await queue.queueSettings("env_1", Q)).toMatchObject({ limit: 2, total: 3 });

      await queue.updateQueueTotalLimit("env_1", Q, null);
      expect(await dequeueIds(queue)).toHaveLength(3); // now two per key: a, b and c are all at their limit
      expect(await queue.currentConcurrency({ environmentId: "env_1", queue: Q })).toBe(6);
      expect(await queue.queueSettings("env_1", Q)).toMatchObject({ total: null });
    } finally {
      await queue.close();
    }
  });

  redisTest("a key's override raises (or blocks) that key only, and a reset gives it the queue's limit back", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      await queue.updateQueueConcurrencyLimit("env_1", Q, 1);
      await queue.overrideKeyConcurrencyLimit("env_1", Q, "vip", 3, 60_000);
      await queue.overrideKeyConcurrencyLimit("env_1", Q, "blocked", 0, 60_000);
      const vip = Array.from({ length: 5 }, () => message({ queue: Q, concurrencyKey: "vip" }));
      const other = Array.from({ length: 3 }, () => message({ queue: Q, concurrencyKey: "other" }));
      const blocked = message({ queue: Q, concurrencyKey: "blocked" });
      await enqueueAll(queue, [...vip, ...other, blocked]);

      const first = await dequeueIds(queue);
      expect(first.filter((id) => vip.some((m) => m.runId === id))).toHaveLength(3);
      expect(first.filter((id) => other.some((m) => m.runId === id))).toHaveLength(1);
      expect(first).not.toContain(blocked.runId);
      const view = await queue.keyConcurrencyLimit("env_1", Q, "vip");
      expect(view?.limit).toBe(3);
      expect(view!.expiresAt.getTime()).toBeGreaterThan(Date.now());
      expect(await queue.keyConcurrencyLimit("env_1", Q, "other")).toBeNull();

      await queue.resetKeyConcurrencyLimit("env_1", Q, "blocked");
      expect(await dequeueIds(queue)).toEqual([blocked.runId]);

      // Back to the queue's limit of 1: the three vip runs in progress keep their slots, no new one starts.
      await queue.resetKeyConcurrencyLimit("env_1", Q, "vip");
      expect(await queue.keyConcurrencyLimit("env_1", Q, "vip")).toBeNull();
      for (const id of first) if (vip.some((m) => m.runId === id)) await queue.acknowledgeMessage(id);
      const next = await dequeueIds(queue);
      expect(next.filter((id) => vip.some((m) => m.runId === id))).toHaveLength(1);
    } finally {
      await queue.close();
    }
  });

  redisTest("a key's override lapses by itself after its ttl", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      await queue.updateQueueConcurrencyLimit("env_1", Q, 1);
      await queue.overrideKeyConcurrencyLimit("env_1", Q, "k", 0, 300);
      const m = message({ queue: Q, concurrencyKey: "k" });
      await queue.enqueueMessage(m);
      expect(await dequeueIds(queue)).toEqual([]);
      await until(async () => (await queue.keyConcurrencyLimit("env_1", Q, "k")) === null);
      expect(await dequeueIds(queue)).toEqual([m.runId]);
    } finally {
      await queue.close();
    }
  });

  redisTest("a continuing run and a reacquire respect the total and the key's override", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      await queue.updateQueueTotalLimit("env_1", Q, 1);
      const waiter = message({ queue: Q, concurrencyKey: "a" });
      const busy = message({ queue: Q, concurrencyKey: "b", timestamp: Date.now() - 500 });
      await queue.enqueueMessage(waiter);
      expect(await dequeueIds(queue)).toEqual([waiter.runId]);
      await queue.releaseConcurrency(waiter.runId, { onWaitpoint: true });
      await queue.enqueueMessage(busy);
      expect(await dequeueIds(queue)).toEqual([busy.runId]);

      // Another key holds the queue's only slot: the waiter can't take it back, it queues ahead instead.
      expect(await queue.reacquireConcurrency(waiter.runId)).toBe(false);
      expect(await queue.continueRun(waiter.runId)).toBe("queued");
      expect(await dequeueIds(queue)).toEqual([]);
      await queue.acknowledgeMessage(busy.runId);
      expect(await dequeueIds(queue)).toEqual([waiter.runId]);

      // A key override of 0 keeps a released run from taking its key slot back.
      await queue.updateQueueTotalLimit("env_1", Q, null);
      await queue.releaseConcurrency(waiter.runId, { onWaitpoint: true });
      await queue.overrideKeyConcurrencyLimit("env_1", Q, "a", 0, 60_000);
      expect(await queue.continueRun(waiter.runId)).toBe("queued");
      await queue.resetKeyConcurrencyLimit("env_1", Q, "a");
      expect(await dequeueIds(queue)).toEqual([waiter.runId]);
      await queue.acknowledgeMessage(waiter.runId);
      expect(await queue.heldSlots("env_1")).toEqual({ env: [], queueAndKeySets: {} });
    } finally {
      await queue.close();
    }
  });
});

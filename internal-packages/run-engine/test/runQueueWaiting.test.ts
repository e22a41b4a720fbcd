import { describe, expect } from "vitest";
import { redisTest } from "@internal/testcontainers";
import type { RunQueue } from "../src/runQueue/index.js";
import { createQueue, message } from "./runQueueHelpers.js";

async function dequeueIds(queue: RunQueue): Promise<string[]> {
  return (await queue.dequeue({ consumerId: "c", maxCount: 10 })).map((m) => m.runId);
}

/** The run-queue half of waiting runs: release on block, continue (slots back or queued ahead) on unblock. */
describe("RunQueue: waiting runs", () => {
  redisTest("a waiting run frees env, queue and key slots; a queue that keeps them frees only the env slot", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      const a = message({ concurrencyKey: "k" });
      const kept = message({ queue: "task/kept" });
      await queue.updateQueueReleaseOnWaitpoint("env_1", "task/kept", false);
      await queue.enqueueMessage(a);
      await queue.enqueueMessage(kept);
      expect((await dequeueIds(queue)).sort()).toEqual([a.runId, kept.runId].sort());

      expect(await queue.releaseConcurrency(a.runId, { onWaitpoint: true })).toBe(true);
      expect(await queue.releaseConcurrency(kept.runId, { onWaitpoint: true })).toBe(true);
      const held = await queue.heldSlots("env_1");
      expect(held.env).toEqual([]);
      expect(Object.values(held.queueAndKeySets).flat().sort()).toEqual([kept.runId, kept.runId]);
      const states = (await queue.runStateCounts("env_1")).get("env_1")!;
      expect(states.queues.get(a.queue)).toEqual({ executing: 0, blocked: 1, continuing: 0 });

      expect(await queue.continueRun(a.runId)).toBe("ok");
      expect(await queue.continueRun(kept.runId)).toBe("ok");
      expect(await queue.currentConcurrency({ environmentId: "env_1" })).toBe(2);
      await queue.acknowledgeMessage(a.runId);
      await queue.acknowledgeMessage(kept.runId);
      expect(await queue.heldSlots("env_1")).toEqual({ env: [], queueAndKeySets: {} });
    } finally {
      await queue.close();
    }
  });

  redisTest("with no slot free a continuing run waits ahead of new runs and is dequeued first, within every limit", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      await queue.updateEnvConcurrencyLimit("env_1", 1);
      const waiter = message({ timestamp: Date.now() - 1000 });
      await queue.enqueueMessage(waiter);
      expect(await dequeueIds(queue)).toEqual([waiter.runId]);
      await queue.releaseConcurrency(waiter.runId, { onWaitpoint: true });

      const busy = message({ timestamp: Date.now() - 900 });
      const fresh = message({ timestamp: Date.now() - 5000, priorityMs: 1000 }); // older and prioritised, still behind a continue
      await queue.enqueueMessage(busy);
      expect(await dequeueIds(queue)).toEqual([busy.runId]);
      await queue.enqueueMessage(fresh);

      // The env's single slot is taken: the waiter queues as a continue message.
      expect(await queue.continueRun(waiter.runId)).toBe("queued");
      expect(await queue.continueRun(waiter.runId)).toBe("queued");
      expect(await queue.peekMessage(waiter.runId)).toMatchObject({ state: "queued", holdsConcurrency: false });
      expect((await queue.runStateCounts("env_1")).get("env_1")!.queues.get(waiter.queue)).toEqual({ executing: 1, blocked: 0, continuing: 1 });
      expect(await dequeueIds(queue)).toEqual([]); // the limit holds for continues too

      await queue.acknowledgeMessage(busy.runId);
      expect(await dequeueIds(queue)).toEqual([waiter.runId]);
      expect(await queue.peekMessage(waiter.runId)).toMatchObject({ state: "in_progress", holdsConcurrency: true });
      await queue.acknowledgeMessage(waiter.runId);
      expect(await dequeueIds(queue)).toEqual([fresh.runId]);
      await queue.acknowledgeMessage(fresh.runId);
      expect(await queue.heldSlots("env_1")).toEqual({ env: [], queueAndKeySets: {} });
    } finally {
      await queue.close();
    }
  });

  redisTest("a continuing run needs a free slot of its concurrency key, not only of the env", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      await queue.updateQueueConcurrencyLimit("env_1", "task/my-task", 1);
      const waiter = message({ concurrencyKey: "tenant" });
      await queue.enqueueMessage(waiter);
      await dequeueIds(queue);
      await queue.releaseConcurrency(waiter.runId, { onWaitpoint: true });
      const sameKey = message({ concurrencyKey: "tenant" });
      await queue.enqueueMessage(sameKey);
      expect(await dequeueIds(queue)).toEqual([sameKey.runId]);
      expect(await queue.continueRun(waiter.runId)).toBe("queued");
      await queue.acknowledgeMessage(sameKey.runId);
      expect(await dequeueIds(queue)).toEqual([waiter.runId]);
      await queue.acknowledgeMessage(waiter.runId);
      expect(await queue.continueRun(waiter.runId)).toBe("missing");
    } finally {
      await queue.close();
    }
  });
});

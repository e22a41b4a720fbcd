import { describe, expect } from "vitest";
import { redisTest } from "@internal/testcontainers";
import { createQueue, message } from "./runQueueHelpers.js";

async function drainOneByOne(queue: ReturnType<typeof createQueue>, n: number, environmentId?: string) {
  const got = [];
  for (let i = 0; i < n; i++) {
    const [m] = await queue.dequeue({ environmentId, consumerId: "c", maxCount: 1 });
    if (!m) break;
    got.push(m);
  }
  return got;
}

describe("RunQueue fairness", () => {
  redisTest("two concurrency keys alternate instead of one draining first", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      const now = Date.now();
      // All of key A is older than all of key B: oldest-first would drain A before B.
      for (let i = 0; i < 6; i++) await queue.enqueueMessage(message({ concurrencyKey: "A", timestamp: now - 10_000 + i }));
      for (let i = 0; i < 6; i++) await queue.enqueueMessage(message({ concurrencyKey: "B", timestamp: now - 5_000 + i }));
      const keys = (await drainOneByOne(queue, 12)).map((m) => m.concurrencyKey);
      expect(keys).toHaveLength(12);
      for (let i = 1; i < keys.length; i++) expect(keys[i]).not.toBe(keys[i - 1]);
      // Batch dequeue alternates too.
      for (let i = 0; i < 4; i++) await queue.enqueueMessage(message({ concurrencyKey: "A", timestamp: now - 10_000 + i }));
      for (let i = 0; i < 4; i++) await queue.enqueueMessage(message({ concurrencyKey: "B", timestamp: now - 5_000 + i }));
      const batch = await queue.dequeue({ consumerId: "c", maxCount: 4 });
      expect(batch.map((m) => m.concurrencyKey).sort()).toEqual(["A", "A", "B", "B"]);
    } finally {
      await queue.close();
    }
  });

  redisTest("queue limit applies per concurrency key", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      await queue.updateQueueConcurrencyLimit("env_1", "task/my-task", 1);
      for (const key of ["A", "A", "B", "B", "C"]) await queue.enqueueMessage(message({ concurrencyKey: key }));
      await queue.enqueueMessage(message()); // no key: its own sub-queue with the same limit
      const got = await queue.dequeue({ consumerId: "c", maxCount: 10 });
      expect(got.map((m) => m.concurrencyKey ?? "-").sort()).toEqual(["-", "A", "B", "C"]);
      expect(await queue.currentConcurrency({ environmentId: "env_1", queue: "task/my-task" })).toBe(4);
      expect(await queue.currentConcurrency({ environmentId: "env_1", queue: "task/my-task", concurrencyKey: "A" })).toBe(1);
      expect(await queue.dequeue({ consumerId: "c", maxCount: 10 })).toEqual([]);
      await queue.acknowledgeMessage(got.find((m) => m.concurrencyKey === "A")!.runId);
      const next = await queue.dequeue({ consumerId: "c", maxCount: 10 });
      expect(next.map((m) => m.concurrencyKey)).toEqual(["A"]);
    } finally {
      await queue.close();
    }
  });

  redisTest("round robin across queues inside an env", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      const now = Date.now();
      for (let i = 0; i < 5; i++) await queue.enqueueMessage(message({ queue: "q1", timestamp: now - 10_000 + i }));
      for (let i = 0; i < 5; i++) await queue.enqueueMessage(message({ queue: "q2", timestamp: now - 5_000 + i }));
      for (let i = 0; i < 5; i++) await queue.enqueueMessage(message({ queue: "q3", timestamp: now - 1_000 + i }));
      const first = (await drainOneByOne(queue, 6)).map((m) => m.queue);
      expect(first.slice(0, 3).sort()).toEqual(["q1", "q2", "q3"]);
      expect(first.slice(3, 6).sort()).toEqual(["q1", "q2", "q3"]);
      const batch = await queue.dequeue({ consumerId: "c", maxCount: 6 });
      expect(batch.map((m) => m.queue).sort()).toEqual(["q1", "q1", "q2", "q2", "q3", "q3"]);
    } finally {
      await queue.close();
    }
  });

  redisTest("round robin across environments when none is given", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      const now = Date.now();
      // env_a has a big, old backlog; env_b and env_c arrive later with a few runs.
      for (let i = 0; i < 20; i++) await queue.enqueueMessage(message({ environmentId: "env_a", timestamp: now - 60_000 + i }));
      for (let i = 0; i < 3; i++) await queue.enqueueMessage(message({ environmentId: "env_b", timestamp: now - 1_000 + i }));
      for (let i = 0; i < 3; i++) await queue.enqueueMessage(message({ environmentId: "env_c", timestamp: now - 500 + i }));
      const envs = (await drainOneByOne(queue, 9)).map((m) => m.environmentId);
      for (let round = 0; round < 3; round++) {
        expect(envs.slice(round * 3, round * 3 + 3).sort()).toEqual(["env_a", "env_b", "env_c"]);
      }
      // Then only env_a is left.
      const rest = await queue.dequeue({ consumerId: "c", maxCount: 30 });
      expect(rest).toHaveLength(17);
      expect(new Set(rest.map((m) => m.environmentId))).toEqual(new Set(["env_a"]));
    } finally {
      await queue.close();
    }
  });

  redisTest("a blocked env does not crowd out others", async ({ redis }) => {
    const queue = createQueue(redis);
    try {
      // Many envs whose only queue is full sit ahead in the rotation; a dequeue still finds env_free.
      for (let e = 0; e < 10; e++) {
        await queue.updateQueueConcurrencyLimit(`env_full_${e}`, "q", 0);
        await queue.enqueueMessage(message({ environmentId: `env_full_${e}`, queue: "q", timestamp: Date.now() - 100_000 }));
      }
      const free = message({ environmentId: "env_free" });
      await queue.enqueueMessage(free);
      const got = await queue.dequeue({ consumerId: "c", maxCount: 1 });
      expect(got.map((m) => m.runId)).toEqual([free.runId]);
    } finally {
      await queue.close();
    }
  });
});

describe("RunQueue limits under concurrency", () => {
  redisTest("queue limit 2 never has 3 in progress under 20 concurrent dequeuers", async ({ redis }) => {
    const queues = Array.from({ length: 4 }, () => createQueue(redis)); // four "webapp instances"
    try {
      await queues[0]!.updateQueueConcurrencyLimit("env_1", "task/my-task", 2);
      const total = 40;
      for (let i = 0; i < total; i++) await queues[0]!.enqueueMessage(message());
      let inProgress = 0;
      let maxSeen = 0;
      let done = 0;
      const consumer = async (id: number) => {
        const q = queues[id % queues.length]!;
        while (done < total) {
          const got = await q.dequeue({ consumerId: `c${id}`, maxCount: 3 });
          if (got.length === 0) {
            await new Promise((r) => setTimeout(r, 2));
            continue;
          }
          inProgress += got.length;
          maxSeen = Math.max(maxSeen, inProgress);
          const redisCount = await q.currentConcurrency({ environmentId: "env_1", queue: "task/my-task" });
          expect(redisCount).toBeLessThanOrEqual(2);
          await new Promise((r) => setTimeout(r, 1));
          for (const m of got) {
            inProgress -= 1;
            done += 1;
            await q.acknowledgeMessage(m.runId);
          }
        }
      };
      await Promise.all(Array.from({ length: 20 }, (_, i) => consumer(i)));
      expect(done).toBe(total);
      expect(maxSeen).toBeLessThanOrEqual(2);
      expect(maxSeen).toBe(2);
    } finally {
      await Promise.all(queues.map((q) => q.close()));
    }
  });

  redisTest("env limit holds across queues and keys; one dequeue per message under contention", async ({ redis }) => {
    const queues = Array.from({ length: 3 }, () => createQueue(redis));
    try {
      await queues[0]!.updateEnvConcurrencyLimit("env_1", 3);
      const ids = new Set<string>();
      for (let i = 0; i < 30; i++) {
        const m = message({ queue: `q${i % 3}`, concurrencyKey: i % 2 ? `k${i % 5}` : undefined });
        ids.add(m.runId);
        await queues[0]!.enqueueMessage(m);
      }
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => queues[i % 3]!.dequeue({ consumerId: `c${i}`, maxCount: 2 })),
      );
      const got = results.flat();
      expect(got).toHaveLength(3);
      expect(new Set(got.map((m) => m.runId)).size).toBe(3);
      expect(await queues[0]!.currentConcurrency({ environmentId: "env_1" })).toBe(3);
      // Burst factor lets the env run floor(limit × burst), still capped per queue by the base limit.
      await queues[0]!.updateEnvConcurrencyLimit("env_1", 3, { burstFactor: 2 });
      const more = (await Promise.all(Array.from({ length: 10 }, () => queues[1]!.dequeue({ consumerId: "x", maxCount: 5 })))).flat();
      expect(more).toHaveLength(3);
      // Every message is handed out once in total.
      const all = [...got, ...more];
      for (const m of all) await queues[2]!.acknowledgeMessage(m.runId);
      let rest = [];
      do {
        const batch = (await Promise.all(Array.from({ length: 8 }, (_, i) => queues[i % 3]!.dequeue({ consumerId: "d", maxCount: 4 })))).flat();
        for (const m of batch) await queues[0]!.acknowledgeMessage(m.runId);
        rest.push(...batch);
      } while (all.length + rest.length < 30 && rest.length < 60);
      const everything = [...all, ...rest].map((m) => m.runId);
      expect(everything).toHaveLength(30);
      expect(new Set(everything)).toEqual(ids);
    } finally {
      await Promise.all(queues.map((q) => q.close()));
    }
  });

  redisTest("concurrent ack, nack, release and enqueue keep the sets consistent", async ({ redis }) => {
    const queues = Array.from({ length: 3 }, () => createQueue(redis));
    try {
      const runs = Array.from({ length: 30 }, (_, i) => message({ concurrencyKey: `k${i % 3}` }));
      for (const m of runs) await queues[0]!.enqueueMessage(m);
      const got = await queues[0]!.dequeue({ consumerId: "c", maxCount: 30 });
      expect(got).toHaveLength(30);
      // Racing operations on the same runs from three instances.
      await Promise.all(
        got.flatMap((m, i) => [
          queues[i % 3]!.nackMessage(m.runId, { retryAt: Date.now() }),
          queues[(i + 1) % 3]!.acknowledgeMessage(m.runId),
          queues[(i + 2) % 3]!.releaseConcurrency(m.runId),
        ]),
      );
      const q = queues[0]!;
      // Whatever won, a run is either gone or queued without holding a slot.
      expect(await q.currentConcurrency({ environmentId: "env_1" })).toBe(0);
      const left = (await Promise.all(runs.map((m) => q.peekMessage(m.runId)))).filter((p) => p !== undefined);
      for (const p of left) expect(p!.state).toBe("queued");
      expect(await q.lengthOfQueue("env_1", "task/my-task")).toBe(left.length);
    } finally {
      await Promise.all(queues.map((q) => q.close()));
    }
  });
});

describe("RunQueue fairness at scale", () => {
  redisTest("an env beyond the scan window of busy envs is still served", async ({ redis }) => {
    const queue = createQueue(redis, { envScanLimit: 5 });
    try {
      const now = Date.now();
      // Eight busy envs with old backlogs (more than the scan window), one newcomer with a recent run.
      for (let e = 0; e < 8; e++) {
        for (let i = 0; i < 10; i++) await queue.enqueueMessage(message({ environmentId: `busy_${e}`, timestamp: now - 100_000 + i }));
      }
      // Idle envs (only future work) at the front of the rotation must not fill the window either.
      for (let e = 0; e < 6; e++) await queue.enqueueMessage(message({ environmentId: `idle_${e}`, timestamp: now + 600_000 }));
      const newcomer = message({ environmentId: "newcomer", timestamp: now - 10 });
      await queue.enqueueMessage(newcomer);
      const served: string[] = [];
      for (let i = 0; i < 12; i++) {
        const [m] = await queue.dequeue({ consumerId: "c", maxCount: 1 });
        served.push(m!.environmentId);
      }
      expect(served).toContain("newcomer");
      expect(served.filter((e) => e.startsWith("idle_"))).toEqual([]);
    } finally {
      await queue.close();
    }
  });
});

import { describe, expect } from "vitest";
import { z } from "zod";
import { redisTest, type TestRedis } from "@internal/testcontainers";
import { JobQueue, JobWorker, type JobHandlers, type JobWorkerOptions } from "../src/jobs/index.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const catalog = {
  work: { schema: z.object({ n: z.number() }) },
  flaky: { schema: z.object({ n: z.number() }), maxAttempts: 3 },
  slow: { schema: z.object({}), visibilityTimeoutMs: 150 },
};
type Catalog = typeof catalog;

function queueFor(redis: TestRedis) {
  return new JobQueue({ name: "engine", redis: redis.options, catalog });
}

const noop = async () => {};
function worker(queue: JobQueue<Catalog>, handlers: Partial<JobHandlers<Catalog>>, options: Partial<JobWorkerOptions<Catalog>> = {}) {
  return new JobWorker({
    queue,
    handlers: { work: noop, flaky: noop, slow: noop, ...handlers },
    concurrency: 5,
    pollIntervalMs: 10,
    backoff: { minMs: 10, maxMs: 40, factor: 2, jitter: false },
    ...options,
  });
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000) {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error("condition not met in time");
    await sleep(10);
  }
}

describe("JobQueue and JobWorker", () => {
  redisTest("every due job runs exactly once across 3 workers", async ({ redis }) => {
    const queues = [queueFor(redis), queueFor(redis), queueFor(redis)];
    const runs = new Map<number, number>();
    const workers = queues.map((q) =>
      worker(q, {
        work: async ({ n }) => {
          runs.set(n, (runs.get(n) ?? 0) + 1);
          await sleep(1);
        },
      }),
    );
    try {
      for (let n = 0; n < 60; n++) await queues[0]!.enqueue({ id: `job-${n}`, job: "work", payload: { n } });
      workers.forEach((w) => w.start());
      await until(() => runs.size === 60);
      await sleep(100);
      expect([...runs.values()].every((count) => count === 1)).toBe(true);
      expect(await queues[0]!.size()).toBe(0);
    } finally {
      await Promise.all(workers.map((w) => w.stop(2000)));
      await Promise.all(queues.map((q) => q.close()));
    }
  });

  redisTest("claims are atomic: concurrent claimers never share a job", async ({ redis }) => {
    const queue = queueFor(redis);
    try {
      for (let n = 0; n < 100; n++) await queue.enqueue({ id: `c-${n}`, job: "work", payload: { n } });
      const settings = { tokenPrefix: "t", visibilityTimeoutMs: 60_000, maxAttempts: 12, visibilityByJob: {}, maxAttemptsByJob: {} };
      const claims = await Promise.all(Array.from({ length: 20 }, () => queue.claim(7, settings)));
      const ids = claims.flat().map((c) => c.id);
      expect(ids).toHaveLength(100);
      expect(new Set(ids).size).toBe(100);
    } finally {
      await queue.close();
    }
  });

  redisTest("enqueue replaces, enqueueOnce keeps the first", async ({ redis }) => {
    const queue = queueFor(redis);
    const seen: number[] = [];
    const w = worker(queue, { work: async ({ n }) => void seen.push(n) });
    try {
      const later = Date.now() + 150;
      await queue.enqueue({ id: "r", job: "work", payload: { n: 1 }, availableAt: later });
      await queue.enqueue({ id: "r", job: "work", payload: { n: 2 }, availableAt: later });
      expect(await queue.enqueueOnce({ id: "o", job: "work", payload: { n: 10 }, availableAt: later })).toBe(true);
      expect(await queue.enqueueOnce({ id: "o", job: "work", payload: { n: 11 }, availableAt: Date.now() })).toBe(false);
      expect(await queue.get("o")).toMatchObject({ job: "work", payload: { n: 10 }, availableAt: later, attempts: 0 });
      w.start();
      await sleep(60);
      expect(seen).toEqual([]); // nothing due yet
      await until(() => seen.length === 2);
      await sleep(60);
      expect(seen.sort((a, b) => a - b)).toEqual([2, 10]);
    } finally {
      await w.stop(2000);
      await queue.close();
    }
  });

  redisTest("ack cancels; reschedule moves", async ({ redis }) => {
    const queue = queueFor(redis);
    const seen: number[] = [];
    const w = worker(queue, { work: async ({ n }) => void seen.push(n) });
    try {
      await queue.enqueue({ id: "cancel-me", job: "work", payload: { n: 1 }, availableAt: Date.now() + 100 });
      await queue.enqueue({ id: "move-me", job: "work", payload: { n: 2 }, availableAt: Date.now() + 60_000 });
      expect(await queue.ack("cancel-me")).toBe(true);
      expect(await queue.ack("cancel-me")).toBe(false);
      expect(await queue.reschedule("move-me", Date.now() + 100)).toBe(true);
      expect(await queue.reschedule("nope", Date.now())).toBe(false);
      w.start();
      await until(() => seen.length === 1);
      await sleep(150);
      expect(seen).toEqual([2]);
    } finally {
      await w.stop(2000);
      await queue.close();
    }
  });

  redisTest("a claim without ack (crashed worker) is retried after the visibility timeout", async ({ redis }) => {
    const queue = queueFor(redis);
    const attempts: number[] = [];
    const w = worker(queue, { slow: async (_payload, { attempt }) => void attempts.push(attempt) });
    try {
      await queue.enqueue({ id: "s", job: "slow", payload: {} });
      // A worker that claims and dies: uses the kind's 150 ms visibility.
      const claimed = await queue.claim(10, {
        tokenPrefix: "dead-worker",
        visibilityTimeoutMs: 30_000,
        maxAttempts: 12,
        visibilityByJob: { slow: 150 },
        maxAttemptsByJob: {},
      });
      expect(claimed.map((c) => c.id)).toEqual(["s"]);
      const claimedAt = Date.now();
      w.start();
      await sleep(80);
      expect(attempts).toEqual([]); // still invisible
      await until(() => attempts.length === 1);
      expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(140);
      expect(attempts).toEqual([2]);
      // The dead worker's late completion must not touch anything now.
      expect(await queue.complete("s", claimed[0]!.token)).toBe(false);
      await until(async () => (await queue.size()) === 0);
    } finally {
      await w.stop(2000);
      await queue.close();
    }
  });

  redisTest("failures retry with backoff, then go to the DLQ with the error", async ({ redis }) => {
    const queue = queueFor(redis);
    const attempts: number[] = [];
    const errors: unknown[] = [];
    const w = worker(
      queue,
      {
        flaky: async ({ n }, { attempt }) => {
          attempts.push(attempt);
          throw new Error(`nope ${n}/${attempt}`);
        },
      },
      { onError: (e) => errors.push(e) },
    );
    try {
      await queue.enqueue({ id: "f", job: "flaky", payload: { n: 7 } });
      w.start();
      await until(async () => (await queue.deadLetters()).length === 1);
      expect(attempts).toEqual([1, 2, 3]); // kind's maxAttempts 3
      const [dead] = await queue.deadLetters();
      expect(dead).toMatchObject({ id: "f", job: "flaky", payload: { n: 7 }, attempts: 3 });
      expect(dead!.error).toContain("nope 7/3");
      expect(await queue.size()).toBe(0);
      expect(errors).toHaveLength(3);
    } finally {
      await w.stop(2000);
      await queue.close();
    }
  });

  redisTest("a job whose claims keep lapsing is dead-lettered, not retried forever", async ({ redis }) => {
    const queue = queueFor(redis);
    try {
      await queue.enqueue({ id: "crashy", job: "work", payload: { n: 1 } });
      const settings = { tokenPrefix: "t", visibilityTimeoutMs: 1, maxAttempts: 2, visibilityByJob: {}, maxAttemptsByJob: {} };
      expect(await queue.claim(1, settings)).toHaveLength(1);
      await sleep(5);
      expect(await queue.claim(1, settings)).toHaveLength(1);
      await sleep(5);
      expect(await queue.claim(1, settings)).toHaveLength(0);
      const [dead] = await queue.deadLetters();
      expect(dead).toMatchObject({ id: "crashy", attempts: 2, error: "visibility timeout elapsed without completion" });
    } finally {
      await queue.close();
    }
  });

  redisTest("payloads are validated at enqueue; a replacement while running survives the completion", async ({ redis }) => {
    const queue = queueFor(redis);
    const seen: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const w = worker(queue, {
      work: async ({ n }) => {
        seen.push(n);
        if (n === 1) await gate;
      },
    });
    try {
      await expect(queue.enqueue({ id: "x", job: "work", payload: { n: "no" as unknown as number } })).rejects.toThrow();
      await queue.enqueue({ id: "x", job: "work", payload: { n: 1 } });
      w.start();
      await until(() => seen.length === 1);
      await queue.enqueue({ id: "x", job: "work", payload: { n: 2 }, availableAt: Date.now() + 50 });
      release();
      await until(() => seen.length === 2);
      expect(seen).toEqual([1, 2]);
      await until(async () => (await queue.size()) === 0);
    } finally {
      await w.stop(2000);
      await queue.close();
    }
  });
});

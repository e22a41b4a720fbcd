import { task, wait, type RunningWorker } from "@runplane/worker";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { createHarness, FINAL_STATUSES, maxOverlap, sleep, type Harness } from "./support/harness";

type Interval = { key: string; start: number; end: number };

/**
 * Queue limits and concurrency keys as a real worker sees them, and a worker leaving mid-run — in
 * single and split mode. Overlap is measured from the start/end timestamps the tasks record.
 */
describe.each([{ split: false }, { split: true }])("worker concurrency and shutdown end to end (split: $split)", ({ split }) => {
  let server: TestServer;
  let h: Harness;

  beforeAll(async () => {
    server = await startTestServer({ split });
    h = await createHarness(server, split);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await server?.stop();
  }, 60_000);
  afterEach(async () => {
    await h.stopWorkers();
    const logs = h.workerLogs.splice(0);
    if (process.env.SHOW_WORKER_LOGS && logs.length > 0) console.log(logs.join("\n"));
  }, 60_000);

  test("a queue with concurrencyLimit 2 never runs 3 at once, even on a worker with 10 slots", async () => {
    const intervals: Interval[] = [];
    const limited = task({
      id: "limited",
      queue: { concurrencyLimit: 2 },
      run: async (payload: { i: number }) => {
        const start = Date.now();
        await sleep(300);
        intervals.push({ key: String(payload.i), start, end: Date.now() });
      },
    });
    await h.startWorker({ tasks: [limited], concurrency: 10 });
    const runIds = await Promise.all(Array.from({ length: 6 }, (_, i) => h.trigger("limited", { i })));
    for (const runId of runIds) expect((await h.waitForStatus(runId, FINAL_STATUSES)).status).toBe("COMPLETED_SUCCESSFULLY");
    expect(intervals).toHaveLength(6);
    expect(maxOverlap(intervals)).toBe(2);
  });

  test("two concurrency keys of a limit-1 queue progress in alternation, one run per key at a time", async () => {
    const intervals: Interval[] = [];
    const keyed = task({
      id: "keyed",
      queue: { concurrencyLimit: 1 },
      run: async (payload: { key: string }) => {
        const start = Date.now();
        await sleep(150);
        intervals.push({ key: payload.key, start, end: Date.now() });
      },
    });
    // Everything is queued before any worker exists: A A A then B B B.
    const runIds: string[] = [];
    for (const key of ["A", "B"]) {
      for (let i = 0; i < 3; i++) runIds.push(await h.trigger("keyed", { key }, { concurrencyKey: key }));
    }
    await h.startWorker({ tasks: [keyed], concurrency: 1 });
    for (const runId of runIds) expect((await h.waitForStatus(runId, FINAL_STATUSES)).status).toBe("COMPLETED_SUCCESSFULLY");
    const order = [...intervals].sort((a, b) => a.start - b.start).map((i) => i.key);
    expect(order).toHaveLength(6);
    for (let i = 1; i < order.length; i++) expect(order[i]).not.toBe(order[i - 1]);

    // With room for both, the keys run side by side, but never two of one key.
    intervals.length = 0;
    await h.stopWorkers();
    const more: string[] = [];
    for (let i = 0; i < 3; i++) for (const key of ["A", "B"]) more.push(await h.trigger("keyed", { key }, { concurrencyKey: key }));
    await h.startWorker({ tasks: [keyed], concurrency: 4 });
    for (const runId of more) expect((await h.waitForStatus(runId, FINAL_STATUSES)).status).toBe("COMPLETED_SUCCESSFULLY");
    expect(maxOverlap(intervals.filter((i) => i.key === "A"))).toBe(1);
    expect(maxOverlap(intervals.filter((i) => i.key === "B"))).toBe(1);
    expect(maxOverlap(intervals)).toBe(2);
  });

  test("worker stop() mid-run: the run is requeued and a second worker finishes it", async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const seen: Array<{ attempt: number; aborted: boolean }> = [];
    const longJob = task({
      id: "long-job",
      retry: { maxAttempts: 3, minTimeoutInMs: 200, maxTimeoutInMs: 1_000, factor: 1, randomize: false },
      run: async (_payload, { ctx, signal }) => {
        const entry = { attempt: ctx.attempt.number, aborted: false };
        seen.push(entry);
        if (ctx.attempt.number === 1) {
          started();
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 30_000);
            signal.addEventListener("abort", () => {
              entry.aborted = true;
              clearTimeout(timer);
              resolve();
            });
          });
          return "first attempt should never complete";
        }
        return `finished on attempt ${ctx.attempt.number}`;
      },
    });
    const version = `shutdown.${Date.now()}`;
    const first: RunningWorker = await h.startWorker({ tasks: [longJob], version, shutdownTimeoutMs: 300 });
    const runId = await h.trigger("long-job", {});
    await running;
    await first.stop();
    expect(seen).toEqual([{ attempt: 1, aborted: true }]);
    // The attempt failed with TASK_PROCESS_SIGTERM and was requeued (never retried in place).
    const requeued = await h.run(runId);
    expect(requeued.status).toBe("PENDING");
    expect(requeued.error).toMatchObject({ type: "INTERNAL_ERROR", code: "TASK_PROCESS_SIGTERM" });

    await h.startWorker({ tasks: [longJob], version });
    const run = await h.waitForStatus(runId, FINAL_STATUSES);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(run.attemptNumber).toBe(2);
    expect(seen.map((s) => s.attempt)).toEqual([1, 2]);
  });

  test("worker stop() while runs wait (a token, a child): they are failed from their waits, requeued and finished by a second worker", async () => {
    let waiting!: () => void;
    const bothWaiting = new Promise<void>((resolve) => (waiting = resolve));
    let waitingCount = 0;
    const markWaiting = () => ++waitingCount === 2 && waiting();
    const retry = { maxAttempts: 3, minTimeoutInMs: 200, maxTimeoutInMs: 1_000, factor: 1, randomize: false };
    const hangingChild = task({
      id: "hanging-child",
      retry,
      run: async (_payload, { ctx, signal }) => {
        if (ctx.attempt.number > 1) return "child done";
        markWaiting();
        await new Promise((resolve) => signal.addEventListener("abort", resolve));
        return "aborted";
      },
    });
    const tokenWaiter = task({
      id: "token-waiter",
      retry,
      run: async (_payload, { ctx }) => {
        if (ctx.attempt.number > 1) return `token waiter done on attempt ${ctx.attempt.number}`;
        const token = await wait.createToken();
        markWaiting();
        await wait.forToken(token);
        return "never";
      },
    });
    const childWaiter = task({
      id: "child-waiter",
      retry,
      run: async (_payload, { ctx }) => {
        if (ctx.attempt.number > 1) return `child waiter done on attempt ${ctx.attempt.number}`;
        await hangingChild.triggerAndWait({});
        return "never";
      },
    });
    const tasks = [hangingChild, tokenWaiter, childWaiter];
    const version = `shutdown-waits.${Date.now()}`;
    const first = await h.startWorker({ tasks, version, shutdownTimeoutMs: 300 });
    const tokenRun = await h.trigger("token-waiter", {});
    const childRun = await h.trigger("child-waiter", {});
    await bothWaiting;
    await h.waitForExecutionStatus(tokenRun, "EXECUTING_WITH_WAITPOINTS");
    await h.waitForExecutionStatus(childRun, "EXECUTING_WITH_WAITPOINTS");
    await first.stop();
    for (const runId of [tokenRun, childRun]) {
      const requeued = await h.run(runId);
      expect(requeued.status).toBe("PENDING");
      expect(requeued.error).toMatchObject({ code: "TASK_PROCESS_SIGTERM" });
    }

    await h.startWorker({ tasks, version });
    const token = await h.waitForStatus(tokenRun, FINAL_STATUSES);
    const child = await h.waitForStatus(childRun, FINAL_STATUSES);
    expect([token.status, token.attemptNumber]).toEqual(["COMPLETED_SUCCESSFULLY", 2]);
    expect([child.status, child.attemptNumber]).toEqual(["COMPLETED_SUCCESSFULLY", 2]);
  });
});

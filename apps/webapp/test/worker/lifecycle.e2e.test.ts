import { metadata, task } from "@runplane/worker";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { createHarness, decodeOutput, FINAL_STATUSES, type Harness } from "./support/harness";

/**
 * A real worker (`startWorker` from @runplane/worker) against a real server: runs succeed, fail and
 * retry with backoff, wait for their delay, expire, and get cancelled — in single and split mode.
 */
describe.each([{ split: false }, { split: true }])("worker lifecycle end to end (split: $split)", ({ split }) => {
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

  test("a triggered run is executed by the worker and completes with its output", async () => {
    const echo = task({
      id: "echo",
      run: async (payload: { n: number }, { ctx }) => ({ doubled: payload.n * 2, attempt: ctx.attempt.number, runId: ctx.run.id }),
    });
    await h.startWorker({ tasks: [echo] });
    const runId = await h.trigger("echo", { n: 21 });
    const run = await h.waitForStatus(runId, FINAL_STATUSES);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(run.attemptNumber).toBe(1);
    expect(decodeOutput(run.output, run.outputType)).toEqual({ doubled: 42, attempt: 1, runId });
  });

  test("the run's metadata reaches the task, and the task's metadata changes are stored before it completes", async () => {
    const progress = task({
      id: "progress",
      run: async () => {
        const seen = metadata.current();
        metadata.set("progress", 1);
        metadata.append("steps", "done");
        return { seen };
      },
    });
    await h.startWorker({ tasks: [progress] });
    const res = await fetch(`${h.apiUrl}/api/v1/tasks/progress/trigger`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
      body: JSON.stringify({ payload: {}, options: { metadata: { progress: 0, owner: "ada" } } }),
    });
    const { id: runId } = (await res.json()) as { id: string };
    const run = await h.waitForStatus(runId, FINAL_STATUSES);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(decodeOutput(run.output, run.outputType)).toEqual({ seen: { progress: 0, owner: "ada" } });
    expect(decodeOutput(run.metadata, run.metadataType)).toEqual({ progress: 1, owner: "ada", steps: ["done"] });
  });

  test("a throwing task is retried with backoff and ends COMPLETED_WITH_ERRORS after maxAttempts", async () => {
    const attemptsAt: number[] = [];
    const failing = task({
      id: "always-fails",
      retry: { maxAttempts: 3, minTimeoutInMs: 400, maxTimeoutInMs: 10_000, factor: 2, randomize: false },
      run: async () => {
        attemptsAt.push(Date.now());
        throw new TypeError(`boom ${attemptsAt.length}`);
      },
    });
    await h.startWorker({ tasks: [failing] });
    const runId = await h.trigger("always-fails", {});
    const run = await h.waitForStatus(runId, FINAL_STATUSES);
    expect(run.status).toBe("COMPLETED_WITH_ERRORS");
    expect(run.attemptNumber).toBe(3);
    expect(attemptsAt).toHaveLength(3);
    // delay = minTimeout × factor^(attempt−1): 400 ms, then 800 ms.
    expect(attemptsAt[1]! - attemptsAt[0]!).toBeGreaterThanOrEqual(400);
    expect(attemptsAt[2]! - attemptsAt[1]!).toBeGreaterThanOrEqual(800);
    expect(run.error).toMatchObject({ type: "BUILT_IN_ERROR", name: "TypeError", message: "boom 3" });
  });

  test("a delayed run starts only after its delay", async () => {
    let startedAt = 0;
    const later = task({
      id: "delayed",
      run: async () => {
        startedAt = Date.now();
        return "done";
      },
    });
    await h.startWorker({ tasks: [later] });
    const delayUntil = new Date(Date.now() + 2_000);
    const runId = await h.trigger("delayed", {}, { delay: delayUntil.toISOString() });
    expect((await h.run(runId)).status).toBe("DELAYED");
    const run = await h.waitForStatus(runId, FINAL_STATUSES);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(startedAt).toBeGreaterThanOrEqual(delayUntil.getTime());
  });

  test("a queued run whose TTL passes with no worker running becomes EXPIRED", async () => {
    const runId = await h.trigger("nobody-runs-this", {}, { ttl: "1s" });
    const run = await h.waitForStatus(runId, FINAL_STATUSES, 10_000);
    expect(run.status).toBe("EXPIRED");
    expect(run.attemptNumber ?? 0).toBe(0);
  });

  test("cancelling a queued run: it never executes", async () => {
    let executed = 0;
    const never = task({
      id: "cancelled-while-queued",
      run: async () => {
        executed++;
      },
    });
    const runId = await h.trigger("cancelled-while-queued", {});
    await h.cancel(runId);
    expect((await h.run(runId)).status).toBe("CANCELED");
    await h.startWorker({ tasks: [never] });
    const control = await h.trigger("cancelled-while-queued", {});
    await h.waitForStatus(control, FINAL_STATUSES);
    expect(executed).toBe(1); // only the control run
    expect((await h.run(runId)).status).toBe("CANCELED");
  });

  test("cancelling an executing run aborts the task and the run ends CANCELED", async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let sawAbort = false;
    const slow = task({
      id: "cancelled-while-executing",
      run: async (_payload, { signal }) => {
        started();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 20_000);
          signal.addEventListener("abort", () => {
            sawAbort = true;
            clearTimeout(timer);
            resolve();
          });
        });
        return "finished anyway";
      },
    });
    await h.startWorker({ tasks: [slow] });
    const runId = await h.trigger("cancelled-while-executing", {});
    await running;
    const cancelledAt = Date.now();
    await h.cancel(runId);
    expect(await h.engine.getLatestSnapshot(runId)).toMatchObject({ executionStatus: "PENDING_CANCEL" });
    // The worker learns of it on its next heartbeat (500 ms here), aborts the task and acknowledges.
    await h.waitForExecutionStatus(runId, "FINISHED", 10_000);
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    expect(sawAbort).toBe(true);
    const run = await h.run(runId);
    expect(run.status).toBe("CANCELED");
    expect(run.output).toBeNull();
  });
});

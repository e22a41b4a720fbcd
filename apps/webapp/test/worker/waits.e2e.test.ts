import { task, wait, WaitpointTimeoutError } from "@runplane/worker";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { createHarness, decodeOutput, FINAL_STATUSES, type Harness } from "./support/harness";

/**
 * Waits through the real server: triggerAndWait resumes the parent with the child's output, a wait
 * token resumes its waiter (or times out with an error), and wait.for blocks on the server — in single
 * and split mode.
 */
describe.each([{ split: false }, { split: true }])("worker waits end to end (split: $split)", ({ split }) => {
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

  async function completeToken(tokenId: string, data: unknown): Promise<void> {
    const res = await fetch(`${h.apiUrl}/api/v1/waitpoints/tokens/${tokenId}/complete`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.devSecretKey}`, "content-type": "application/json" },
      body: JSON.stringify({ data }),
    });
    expect(res.status).toBe(200);
  }

  test("triggerAndWait resumes the parent with the child's output (one slot: the waiting parent frees it)", async () => {
    const child = task({
      id: "child",
      run: async (payload: { x: number }) => ({ squared: payload.x * payload.x }),
    });
    const failingChild = task({
      id: "failing-child",
      retry: { maxAttempts: 1 },
      run: async () => {
        throw new Error("child failed");
      },
    });
    const parent = task({
      id: "parent",
      run: async (payload: { x: number }) => {
        const ok = await child.triggerAndWait({ x: payload.x });
        const bad = await failingChild.triggerAndWait({});
        return {
          child: ok.ok ? ok.output : null,
          childId: ok.id,
          failed: bad.ok ? null : bad.error.message,
        };
      },
    });
    await h.startWorker({ tasks: [parent, child, failingChild], concurrency: 1 });
    const runId = await h.trigger("parent", { x: 7 });
    const run = await h.waitForStatus(runId, FINAL_STATUSES, 30_000);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    const output = decodeOutput(run.output, run.outputType) as { child: unknown; childId: string; failed: string };
    expect(output.child).toEqual({ squared: 49 });
    expect(output.failed).toContain("child failed");
    const childRun = await h.run(output.childId);
    expect(childRun.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(childRun.parentTaskRunId).toBe(run.id);
  });

  test("batchTriggerAndWait resumes the parent with every item's result, in item order", async () => {
    const item = task({
      id: "batch-item",
      retry: { maxAttempts: 1 },
      run: async (payload: { i: number }) => {
        if (payload.i === 1) throw new Error("item 1 fails");
        await new Promise((r) => setTimeout(r, (3 - payload.i) * 100)); // later items finish first
        return { i: payload.i };
      },
    });
    const fanOut = task({
      id: "fan-out",
      run: async (_payload, { ctx }) => {
        const batch = await ctx.batchTriggerAndWait<{ i: number }>("batch-item", [0, 1, 2].map((i) => ({ payload: { i } })));
        return { batchId: batch.id, results: batch.runs.map((r) => (r.ok ? r.output : { error: r.error.message })) };
      },
    });
    await h.startWorker({ tasks: [fanOut, item], concurrency: 2 });
    const runId = await h.trigger("fan-out", {});
    const run = await h.waitForStatus(runId, FINAL_STATUSES, 30_000);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    const output = decodeOutput(run.output, run.outputType) as { batchId: string; results: unknown[] };
    expect(output.batchId).toMatch(/^batch_/);
    expect(output.results).toEqual([{ i: 0 }, { error: expect.stringContaining("item 1 fails") }, { i: 2 }]);
  });

  test("a completed wait token resumes its waiter with the data", async () => {
    let tokenId!: (id: string) => void;
    const token = new Promise<string>((resolve) => (tokenId = resolve));
    const approval = task({
      id: "approval",
      run: async () => {
        const created = await wait.createToken({ timeout: "1m" });
        tokenId(created.id);
        const result = await wait.forToken<{ approved: boolean }>(created);
        return result.ok ? { approved: result.output.approved } : { error: result.error.message };
      },
    });
    await h.startWorker({ tasks: [approval] });
    const runId = await h.trigger("approval", {});
    const id = await token;
    await h.waitForExecutionStatus(runId, "EXECUTING_WITH_WAITPOINTS");
    await completeToken(id, { approved: true });
    const run = await h.waitForStatus(runId, FINAL_STATUSES);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(decodeOutput(run.output, run.outputType)).toEqual({ approved: true });
  });

  test("a wait token that times out resumes its waiter with a timeout error", async () => {
    const impatient = task({
      id: "impatient",
      run: async () => {
        const created = await wait.createToken();
        const startedAt = Date.now();
        const result = await wait.forToken(created, { timeout: "1s" });
        return {
          ok: result.ok,
          isTimeout: !result.ok && result.error instanceof WaitpointTimeoutError,
          waitedMs: Date.now() - startedAt,
        };
      },
    });
    await h.startWorker({ tasks: [impatient] });
    const runId = await h.trigger("impatient", {});
    const run = await h.waitForStatus(runId, FINAL_STATUSES);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    const output = decodeOutput(run.output, run.outputType) as { ok: boolean; isTimeout: boolean; waitedMs: number };
    expect(output).toMatchObject({ ok: false, isTimeout: true });
    expect(output.waitedMs).toBeGreaterThanOrEqual(900);
  });

  test("wait.for above the local threshold blocks the run on the server and resumes it", async () => {
    const sleeper = task({
      id: "sleeper",
      run: async () => {
        const startedAt = Date.now();
        await wait.for({ seconds: 1 });
        return { waitedMs: Date.now() - startedAt };
      },
    });
    await h.startWorker({ tasks: [sleeper], localWaitThresholdMs: 100 });
    const runId = await h.trigger("sleeper", {});
    await h.waitForExecutionStatus(runId, "EXECUTING_WITH_WAITPOINTS");
    const run = await h.waitForStatus(runId, FINAL_STATUSES);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect((decodeOutput(run.output, run.outputType) as { waitedMs: number }).waitedMs).toBeGreaterThanOrEqual(1_000);
  });
});

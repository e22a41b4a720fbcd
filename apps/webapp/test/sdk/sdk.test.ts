import * as worker from "@runplane/worker";
import {
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  PermissionDeniedError,
  UnprocessableEntityError,
  auth,
  batch,
  configure,
  idempotencyKeys,
  runs,
  tasks,
  wait,
} from "@trigger.dev/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { countRows, MODES } from "../api/support/api";
import { startTestServer, type TestServer } from "../support/testServer";

/**
 * The published @trigger.dev/sdk 4.8.3 client, unmodified, against a real Runplane server, in single and
 * split mode. Runs are executed by a real worker (@runplane/worker's startWorker) in this process.
 */
describe.each(MODES)("published SDK 4.8.3 ($mode)", ({ split }) => {
  let server: TestServer;
  let running: worker.RunningWorker;
  const workerLogs: string[] = [];

  const echo = worker.task({ id: "sdk-echo", run: async (payload: unknown) => ({ echo: payload, at: new Date(0) }) });
  const fail = worker.task({
    id: "sdk-fail",
    retry: { maxAttempts: 1 },
    run: async () => {
      throw new Error("sdk-fail failed on purpose");
    },
  });
  const meta = worker.task({
    id: "sdk-meta",
    run: async () => {
      worker.metadata.set("progress", 1);
      worker.metadata.append("steps", "done");
      worker.metadata.increment("count", 2);
      await worker.metadata.flush();
      return "ok";
    },
  });
  const waiter = worker.task({
    id: "sdk-waiter",
    run: async (payload: { tokenId: string }) => {
      const result = await worker.wait.forToken<{ approved: boolean }>(payload.tokenId);
      return result.ok ? { approved: result.output.approved } : { error: result.error.message };
    },
  });
  const slow = worker.task({
    id: "sdk-slow",
    run: async (_payload: unknown, { signal }) => {
      await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
      return "aborted";
    },
  });

  beforeAll(async () => {
    server = await startTestServer({ split });
    running = await worker.startWorker({
      apiUrl: server.baseUrl,
      secretKey: server.devSecretKey,
      tasks: [echo, fail, meta, waiter, slow],
      concurrency: 10,
      heartbeatIntervalMs: 500,
      pollWaitMs: 2_000,
      shutdownTimeoutMs: 5_000,
      logLevel: "warn",
      logSink: (line) => void workerLogs.push(line),
    });
  }, 120_000);
  afterAll(async () => {
    await running?.stop();
    await server?.stop();
    if (process.env.SHOW_WORKER_LOGS) console.log(workerLogs.join("\n"));
  }, 60_000);
  beforeEach(() => {
    configure({ baseURL: server.baseUrl, accessToken: server.devSecretKey });
  });

  const poll = (id: string) => runs.poll(id, { pollIntervalMs: 200 });

  test("trigger with every option; retrieve shows them", async () => {
    const handle = await tasks.trigger(
      "sdk-echo",
      { hello: "world", when: new Date(0) },
      {
        idempotencyKey: "sdk-options",
        idempotencyKeyTTL: "1h",
        concurrencyKey: "user-1",
        queue: "sdk-queue",
        delay: "1h",
        ttl: "2h",
        tags: ["sdk", "options"],
        metadata: { source: "sdk" },
        maxAttempts: 2,
        maxDuration: 120,
        priority: 10,
        machine: "small-2x",
      }
    );
    expect(handle.id).toMatch(/^run_/);
    expect(handle.publicAccessToken).toMatch(/^ey/);
    const run = await runs.retrieve(handle.id);
    expect(run).toMatchObject({
      id: handle.id,
      status: "DELAYED",
      taskIdentifier: "sdk-echo",
      tags: ["options", "sdk"],
      metadata: { source: "sdk" },
      ttl: "2h",
      isQueued: true,
      payload: { hello: "world", when: new Date(0).toISOString() },
      idempotencyKey: "sdk-options",
      depth: 0,
      triggerFunction: "trigger",
    });
    expect(run.delayedUntil!.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
  });

  test("a worker executes the run; poll until completed; a failing run reports its error", async () => {
    const handle = await tasks.trigger("sdk-echo", { n: 1 }, { tags: ["executed"] });
    const done = await poll(handle.id);
    expect(done).toMatchObject({ status: "COMPLETED", isSuccess: true, isCompleted: true, attemptCount: 1 });
    expect(done.output).toEqual({ echo: { n: 1 }, at: new Date(0).toISOString() });
    expect(done.startedAt).toBeInstanceOf(Date);
    expect(done.finishedAt).toBeInstanceOf(Date);

    const failed = await poll((await tasks.trigger("sdk-fail", {})).id);
    expect(failed).toMatchObject({ status: "FAILED", isFailed: true, isSuccess: false });
    expect(failed.error?.message).toContain("sdk-fail failed on purpose");

    const withMeta = await poll((await tasks.trigger("sdk-meta", {})).id);
    expect(withMeta.status).toBe("COMPLETED");
    expect(withMeta.metadata).toEqual({ progress: 1, steps: ["done"], count: 2 });
  });

  test("batch trigger: both phases, retrieve, every item executed", async () => {
    const result = await tasks.batchTrigger("sdk-echo", [{ payload: { i: 0 } }, { payload: { i: 1 }, options: { tags: ["batched"] } }, { payload: { i: 2 } }]);
    expect(result.batchId).toMatch(/^batch_/);
    expect(result.runCount).toBe(3);
    const retrieved = await batch.retrieve(result.batchId);
    expect(retrieved.runs).toHaveLength(3);
    const finished = await Promise.all(retrieved.runs.map((id) => poll(id)));
    expect(finished.map((r) => (r.output as { echo: { i: number } }).echo.i)).toEqual([0, 1, 2]);
    expect(finished[1]!.tags).toEqual(["batched"]);
    expect(finished[0]).toMatchObject({ triggerFunction: "batchTrigger", batchId: result.batchId });
    const done = await waitForBatch(result.batchId);
    expect(done.status).toBe("COMPLETED");

    // Several tasks in one batch.
    const mixed = await batch.trigger([
      { id: "sdk-echo", payload: "a" },
      { id: "sdk-fail", payload: "b" },
    ]);
    const mixedRuns = (await batch.retrieve(mixed.batchId)).runs;
    const outcomes = await Promise.all(mixedRuns.map((id) => poll(id)));
    expect(outcomes.map((r) => r.status)).toEqual(["COMPLETED", "FAILED"]);
  });

  async function waitForBatch(batchId: string) {
    for (let i = 0; i < 100; i++) {
      const b = await batch.retrieve(batchId);
      if (b.status === "COMPLETED" || b.status === "PARTIAL_FAILED") return b;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`batch ${batchId} did not complete`);
  }

  test("list with filters and pages", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await tasks.trigger("sdk-echo", { i }, { tags: ["listing"] })).id);
    await Promise.all(ids.map((id) => poll(id)));
    const page = await runs.list({ tag: "listing", taskIdentifier: "sdk-echo", status: ["COMPLETED"], limit: 2 });
    expect(page.data.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    expect(page.data[0]).toMatchObject({ status: "COMPLETED", env: { name: "dev" } });
    expect(page.hasNextPage()).toBe(true);
    const next = await page.getNextPage();
    expect(next.data.map((r) => r.id)).toEqual([ids[0]]);
    const seen: string[] = [];
    for await (const run of runs.list({ tag: "listing", limit: 1 })) seen.push(run.id);
    expect(seen).toEqual([ids[2], ids[1], ids[0]]);
    expect((await runs.list({ tag: "listing", status: ["FAILED"] })).data).toEqual([]);
    expect((await runs.list({ from: new Date(Date.now() + 60_000) })).data).toEqual([]);
  });

  test("cancel, replay, reschedule", async () => {
    const delayed = await tasks.trigger("sdk-echo", { r: 1 }, { delay: "1h", tags: ["replayable"] });
    const rescheduled = await runs.reschedule(delayed.id, { delay: "2h" });
    expect(rescheduled.delayedUntil!.getTime()).toBeGreaterThan(Date.now() + 6_000_000);

    const replayed = await runs.replay(delayed.id);
    expect(replayed.id).not.toBe(delayed.id);
    const replayedRun = await poll(replayed.id);
    expect(replayedRun).toMatchObject({ status: "COMPLETED", tags: ["replayable"], output: { echo: { r: 1 } } });

    expect(await runs.cancel(delayed.id)).toEqual({ id: delayed.id });
    expect(await runs.retrieve(delayed.id)).toMatchObject({ status: "CANCELED", isCancelled: true, isCompleted: true });
    await expect(runs.reschedule(delayed.id, { delay: "1m" })).rejects.toBeInstanceOf(UnprocessableEntityError);

    // Cancelling an executing run stops it on the worker.
    const busy = await tasks.trigger("sdk-slow", {});
    await waitUntil(async () => (await runs.retrieve(busy.id)).status === "EXECUTING");
    await runs.cancel(busy.id);
    expect(await poll(busy.id)).toMatchObject({ status: "CANCELED" });
  });

  async function waitUntil(check: () => Promise<boolean>, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error("timed out");
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  test("idempotency: the same key gives the same run; after a reset, a new one", async () => {
    const key = await idempotencyKeys.create("sdk-idem", { scope: "global" });
    const first = await tasks.trigger("sdk-echo", { n: 1 }, { idempotencyKey: key });
    const second = await tasks.trigger("sdk-echo", { n: 2 }, { idempotencyKey: key });
    expect(second.id).toBe(first.id);
    await idempotencyKeys.reset("sdk-echo", "sdk-idem", { scope: "global" });
    const third = await tasks.trigger("sdk-echo", { n: 3 }, { idempotencyKey: key });
    expect(third.id).not.toBe(first.id);
    await expect(idempotencyKeys.reset("sdk-echo", "never-used", { scope: "global" })).rejects.toBeInstanceOf(NotFoundError);
  });

  test("wait tokens: create, complete via SDK and via the callback URL, list, timeout; a waiting task resumes", async () => {
    const token = await wait.createToken({ timeout: "10m", tags: ["sdk-token"] });
    expect(token.url).toContain(`/api/v1/waitpoints/tokens/${token.id}/callback/`);
    expect(token.publicAccessToken).toMatch(/^ey/);
    const handle = await tasks.trigger("sdk-waiter", { tokenId: token.id });
    await waitUntil(async () => (await runs.retrieve(handle.id)).status === "EXECUTING");
    expect((await wait.listTokens({ status: "WAITING", tags: ["sdk-token"] })).data.map((t) => t.id)).toEqual([token.id]);
    await wait.completeToken(token, { approved: true });
    expect(await poll(handle.id)).toMatchObject({ status: "COMPLETED", output: { approved: true } });
    const retrieved = await wait.retrieveToken(token.id);
    expect(retrieved).toMatchObject({ status: "COMPLETED", output: { approved: true }, tags: ["sdk-token"] });

    const hooked = await wait.createToken({});
    const res = await fetch(hooked.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ via: "callback" }) });
    expect(res.status).toBe(200);
    expect(await wait.retrieveToken(hooked.id)).toMatchObject({ status: "COMPLETED", output: { via: "callback" } });

    const short = await wait.createToken({ timeout: "1s" });
    const timedOutWaiter = await tasks.trigger("sdk-waiter", { tokenId: short.id });
    await waitUntil(async () => (await wait.retrieveToken(short.id)).status === "TIMED_OUT", 10_000);
    const timedOut = await wait.retrieveToken(short.id);
    expect(timedOut.error?.message).toMatch(/timed out/i);
    expect((await poll(timedOutWaiter.id)).output).toEqual({ error: expect.stringMatching(/timed out/i) });
  });

  test("public access tokens: allowed and refused scopes; a one-time trigger token works once", async () => {
    const handle = await tasks.trigger("sdk-echo", { p: 1 }, { tags: ["pat"] });
    const other = await tasks.trigger("sdk-echo", { p: 2 });
    const readOne = await auth.createPublicToken({ scopes: { read: { runs: [handle.id] } } });
    await auth.withAuth({ accessToken: readOne }, async () => {
      expect((await runs.retrieve(handle.id)).id).toBe(handle.id);
      await expect(runs.retrieve(other.id)).rejects.toBeInstanceOf(PermissionDeniedError);
      await expect(tasks.trigger("sdk-echo", {})).rejects.toBeInstanceOf(PermissionDeniedError);
    });
    // The token a trigger returns reads that run.
    await auth.withAuth({ accessToken: handle.publicAccessToken }, async () => {
      expect((await runs.retrieve(handle.id)).id).toBe(handle.id);
    });
    const byTag = await auth.createPublicToken({ scopes: { read: { tags: ["pat"] } } });
    await auth.withAuth({ accessToken: byTag }, async () => {
      expect((await runs.retrieve(handle.id)).tags).toEqual(["pat"]);
    });

    const once = await auth.createTriggerPublicToken("sdk-echo");
    await auth.withAuth({ accessToken: once }, async () => {
      const triggered = await tasks.trigger("sdk-echo", { once: true });
      expect(triggered.id).toMatch(/^run_/);
      await expect(tasks.trigger("sdk-echo", { once: 2 })).rejects.toBeInstanceOf(UnprocessableEntityError);
      await expect(tasks.trigger("sdk-fail", {})).rejects.toBeInstanceOf(PermissionDeniedError);
    });
  });

  test("refusals: bad key, another environment's run, malformed options; nothing written", async () => {
    const mine = await tasks.trigger("sdk-echo", { mine: true }, { delay: "1h" });
    const before = await countRows(server, "TaskRun");
    await auth.withAuth({ accessToken: "tr_dev_notarealkey0000000000000" }, async () => {
      await expect(runs.retrieve(mine.id)).rejects.toBeInstanceOf(AuthenticationError);
      await expect(tasks.trigger("sdk-echo", {})).rejects.toBeInstanceOf(AuthenticationError);
    });
    await auth.withAuth({ accessToken: server.prodSecretKey }, async () => {
      await expect(runs.retrieve(mine.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(runs.cancel(mine.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(runs.replay(mine.id)).rejects.toBeInstanceOf(NotFoundError);
    });
    const tooManyTags = tasks.trigger("sdk-echo", {}, { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) });
    await expect(tooManyTags).rejects.toBeInstanceOf(UnprocessableEntityError);
    await expect(tooManyTags).rejects.toThrow(/10 tags/);
    const badMachine = tasks.trigger("sdk-echo", {}, { machine: "huge" as never });
    await expect(badMachine).rejects.toBeInstanceOf(BadRequestError);
    await expect(badMachine).rejects.toThrow(/options\.machine/);
    await expect(tasks.trigger("sdk-echo", {}, { delay: "someday" })).rejects.toBeInstanceOf(BadRequestError);
    expect(await countRows(server, "TaskRun")).toBe(before);
    // The run was not touched by the refused calls.
    expect((await runs.retrieve(mine.id)).status).toBe("DELAYED");
  });
});

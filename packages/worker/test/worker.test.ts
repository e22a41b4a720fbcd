import superjson from "superjson";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AbortTaskRunError, logger, metadata, startWorker, task, wait, WaitpointTimeoutError, type RunningWorker, type StartWorkerOptions } from "../src/index.js";
import { FakeServer, type FakeRun } from "./support/fakeServer.js";

let server: FakeServer;
let worker: RunningWorker | undefined;
let lines: string[];

beforeEach(async () => {
  server = await new FakeServer().start();
  lines = [];
});

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await server.close();
});

async function start(tasks: StartWorkerOptions["tasks"], overrides: Partial<StartWorkerOptions> = {}) {
  worker = await startWorker({
    apiUrl: server.url,
    secretKey: server.secretKey,
    tasks,
    concurrency: 2,
    version: "20260101.1",
    pollWaitMs: 500,
    heartbeatIntervalMs: 100,
    shutdownTimeoutMs: 2_000,
    localWaitThresholdMs: 0,
    metadataFlushIntervalMs: 50,
    logLevel: "debug",
    logSink: (line) => lines.push(line),
    ...overrides,
  });
  return worker;
}

const json = (value: unknown) => JSON.stringify(value);
const output = (run: FakeRun) => (run.output === undefined ? undefined : superjson.parse(run.output));
const finished = (run: FakeRun) => () => run.status !== "QUEUED" && run.status !== "EXECUTING";

describe("startWorker against a fake protocol server", () => {
  it("registers the version, runs a task and completes it with its output", async () => {
    const hello = task({
      id: "hello",
      retry: { maxAttempts: 2 },
      queue: { concurrencyLimit: 3 },
      run: async (payload: { name: string }, { ctx }) => {
        logger.info("greeting", { name: payload.name });
        return { greeting: `hi ${payload.name}`, runId: ctx.run.id, attempt: ctx.attempt.number, at: new Date(0) };
      },
    });
    await start([{ task: hello, filePath: "hello.ts", exportName: "hello" }]);
    expect(server.registrations).toEqual([
      {
        version: "20260101.1",
        sdkVersion: "0.1.0",
        tasks: [
          {
            id: "hello",
            filePath: "hello.ts",
            exportName: "hello",
            queue: { name: "task/hello", concurrencyLimit: 3 },
            retry: { maxAttempts: 2 },
          },
        ],
      },
    ]);
    const run = server.createRun("hello", json({ name: "ada" }));
    await server.waitFor(finished(run));
    expect(run.status).toBe("COMPLETED");
    expect(run.outputType).toBe("application/super+json");
    expect(output(run)).toEqual({ greeting: "hi ada", runId: run.id, attempt: 1, at: new Date(0) });
    const taskLine = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "greeting");
    expect(taskLine).toMatchObject({ level: "info", runId: run.id, taskId: "hello", attempt: 1, name: "ada" });
    const dequeue = server.callsTo(/dequeue/)[0]!;
    expect(dequeue.body).toEqual({ version: "20260101.1", maxRuns: 2, waitMs: 500 });
  });

  it("reports failures and lets the server retry; AbortTaskRunError skips retrying", async () => {
    let attempts = 0;
    const flaky = task({
      id: "flaky",
      retry: { maxAttempts: 3 },
      run: async () => {
        attempts++;
        if (attempts < 3) throw new TypeError(`attempt ${attempts} failed`);
        return "third time";
      },
    });
    const fatal = task({
      id: "fatal",
      retry: { maxAttempts: 5 },
      run: async () => {
        throw new AbortTaskRunError("do not retry");
      },
    });
    await start([flaky, fatal]);
    const a = server.createRun("flaky", "");
    const b = server.createRun("fatal", "");
    await server.waitFor(() => finished(a)() && finished(b)());
    expect(a.status).toBe("COMPLETED");
    expect(a.attemptNumber).toBe(3);
    expect(a.completions[0]).toMatchObject({
      ok: false,
      skipRetrying: false,
      error: { type: "BUILT_IN_ERROR", name: "TypeError", message: "attempt 1 failed" },
    });
    expect(b.status).toBe("FAILED");
    expect(b.attemptNumber).toBe(1);
    expect(b.completions).toEqual([
      expect.objectContaining({ ok: false, skipRetrying: true, error: expect.objectContaining({ name: "AbortTaskRunError" }) }),
    ]);
  });

  it("starts the next attempt on the same slot after RETRY_IMMEDIATELY", async () => {
    server.retryImmediatelyDelayMs = 50;
    let attempts = 0;
    const t = task({
      id: "quick-retry",
      retry: { maxAttempts: 2 },
      run: async (_: unknown, { ctx }) => {
        attempts++;
        if (ctx.attempt.number === 1) throw new Error("once");
        return ctx.attempt.number;
      },
    });
    await start([t]);
    const run = server.createRun("quick-retry", "");
    await server.waitFor(finished(run));
    expect(run.status).toBe("COMPLETED");
    expect(output(run)).toBe(2);
    expect(server.callsTo(/dequeue/).length).toBeGreaterThanOrEqual(1);
    expect(server.callsTo(/attempts\/start/)).toHaveLength(2);
    expect(attempts).toBe(2);
  });

  it("heartbeats while a run executes and fails a run whose task is unknown", async () => {
    const slow = task({ id: "slow", run: () => new Promise((r) => setTimeout(() => r("done"), 450)) });
    await start([slow]);
    const run = server.createRun("slow", "");
    const ghost = server.createRun("not-here", "");
    await server.waitFor(() => finished(run)() && finished(ghost)());
    expect(run.heartbeats).toBeGreaterThanOrEqual(2);
    expect(ghost.completions[0]).toMatchObject({
      ok: false,
      skipRetrying: true,
      error: { type: "INTERNAL_ERROR", code: "COULD_NOT_FIND_TASK" },
    });
  });

  it("never executes more runs at once than its concurrency", async () => {
    let running = 0;
    let peak = 0;
    const busy = task({
      id: "busy",
      run: async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 60));
        running--;
      },
    });
    await start([busy], { concurrency: 3 });
    const runs = Array.from({ length: 10 }, () => server.createRun("busy", ""));
    await server.waitFor(() => runs.every((r) => finished(r)()));
    expect(peak).toBe(3);
    for (const call of server.callsTo(/dequeue/)) expect((call.body as { maxRuns: number }).maxRuns).toBeLessThanOrEqual(3);
  });

  it("triggerAndWait: the parent gives its slot to the child and resumes with the child's output or error", async () => {
    const child = task({
      id: "child",
      run: async (payload: { n: number }) => {
        if (payload.n < 0) throw new RangeError("negative");
        return { doubled: payload.n * 2 };
      },
    });
    const parent = task({
      id: "parent",
      run: async (_: unknown, { ctx }) => {
        const good = await ctx.triggerAndWait<{ doubled: number }>("child", { n: 21 });
        const bad = await child.triggerAndWait({ n: -1 });
        return {
          good: good.ok ? good.output : null,
          goodId: good.id,
          bad: bad.ok ? null : { name: bad.error.name, message: bad.error.message },
        };
      },
    });
    await start([parent, child], { concurrency: 1 });
    const run = server.createRun("parent", "");
    await server.waitFor(finished(run));
    expect(run.status).toBe("COMPLETED");
    const children = [...server.runs.values()].filter((r) => r.parentRunId === run.id);
    expect(children).toHaveLength(2);
    expect(output(run)).toEqual({
      good: { doubled: 42 },
      goodId: children[0]!.id,
      bad: { name: "RangeError", message: "negative" },
    });
    const trigger = server.callsTo(/tasks\/child\/trigger/)[0]!.body as { payload: string; options: Record<string, unknown> };
    expect(trigger.options).toMatchObject({ parentRunId: run.id, resumeParentOnCompletion: true, payloadType: "application/super+json" });
    expect(superjson.parse(trigger.payload)).toEqual({ n: 21 });
  });

  it("batchTriggerAndWait returns every child's result in item order", async () => {
    const square = task({
      id: "square",
      run: async (n: number) => {
        await new Promise((r) => setTimeout(r, (5 - n) * 20)); // finish out of order
        if (n === 3) throw "three is unlucky";
        return n * n;
      },
    });
    const fanout = task({
      id: "fanout",
      run: async (_: unknown, { ctx }) => {
        const result = await ctx.batchTriggerAndWait<number>("square", [1, 2, 3, 4].map((n) => ({ payload: n })));
        return { id: result.id, outputs: result.runs.map((r) => (r.ok ? r.output : `error: ${r.error.message}`)) };
      },
    });
    await start([fanout, square], { concurrency: 4 });
    const run = server.createRun("fanout", "");
    await server.waitFor(finished(run));
    expect(output(run)).toEqual({ id: expect.stringMatching(/^batch_/), outputs: [1, 4, "error: three is unlucky", 16] });
    const items = server.callsTo(/batches\/.+\/items/)[0]!.body as string;
    expect(items.trim().split("\n").map((l) => JSON.parse(l).index)).toEqual([0, 1, 2, 3]);
  });

  it("wait.for and wait.until block the run on the server, and maxDuration ignores time spent waiting", async () => {
    const sleeper = task({
      id: "sleeper",
      maxDuration: 5,
      run: async () => {
        const started = Date.now();
        await wait.for({ seconds: 0.2 });
        await wait.until({ date: new Date(Date.now() + 200) });
        await wait.until({ date: new Date(0) }); // in the past: returns at once
        return Date.now() - started;
      },
    });
    await start([sleeper]);
    const run = server.createRun("sleeper", "");
    await server.waitFor(finished(run));
    expect(run.status).toBe("COMPLETED");
    expect(output(run)).toBeGreaterThanOrEqual(390);
    expect(server.callsTo(/wait\/duration/)).toHaveLength(2);
    expect(run.snapshots.map((s) => s.status)).toContain("EXECUTING_WITH_WAITPOINTS");
  });

  it("wait tokens: createToken, forToken with output, and a timeout as a WaitpointTimeoutError", async () => {
    let tokenId = "";
    const approval = task({
      id: "approval",
      run: async () => {
        const token = await wait.createToken({ timeout: "1h", tags: ["approval"] });
        tokenId = token.id;
        const approved = await wait.forToken<{ approved: boolean }>(token);
        const short = await wait.createToken();
        const timedOut = await wait.forToken(short.id, { timeout: new Date(Date.now() + 100) });
        return {
          approved: approved.ok && approved.output.approved,
          timedOut: !timedOut.ok && timedOut.error instanceof WaitpointTimeoutError,
        };
      },
    });
    await start([approval]);
    const run = server.createRun("approval", "");
    await server.waitFor(() => tokenId !== "" && run.snapshots.at(-1)!.status === "EXECUTING_WITH_WAITPOINTS");
    expect(server.callsTo(/waitpoints\/tokens$/)[0]!.body).toEqual({ timeout: "1h", tags: ["approval"], ownerRunId: run.id });
    server.completeToken(tokenId, { approved: true });
    await server.waitFor(finished(run));
    expect(output(run)).toEqual({ approved: true, timedOut: true });
  });

  it("batches metadata changes, flushes them during the attempt and before completing", async () => {
    const progress = task({
      id: "progress",
      run: async () => {
        metadata.set("status", "starting");
        for (let i = 0; i < 5; i++) metadata.increment("done");
        metadata.append("log", "a");
        expect(metadata.get("done")).toBe(5);
        await new Promise((r) => setTimeout(r, 150)); // a timer flush happens here
        metadata.set("status", "finishing");
        metadata.increment("done", 5);
        return metadata.current();
      },
    });
    await start([progress]);
    const run = server.createRun("progress", "");
    await server.waitFor(finished(run));
    expect(run.metadata).toEqual({ status: "finishing", done: 10, log: ["a"] });
    expect(output(run)).toEqual({ status: "finishing", done: 10, log: ["a"] });
    const puts = server.callsTo(/PUT .*metadata/);
    expect(puts).toHaveLength(2);
    expect((puts[0]!.body as { operations: unknown[] }).operations).toEqual([
      { type: "set", key: "status", value: "starting" },
      { type: "increment", key: "done", value: 5 },
      { type: "append", key: "log", value: "a" },
    ]);
    const complete = server.callsTo(/attempts\/complete/).at(-1)!;
    expect(complete.at).toBeGreaterThanOrEqual(puts[1]!.at); // the last flush comes before completion
  });

  it("acknowledges a cancel that arrives while the run waits", async () => {
    let aborted = false;
    const waiter = task({
      id: "waiter",
      run: async (_: unknown, { signal }) => {
        signal.addEventListener("abort", () => (aborted = true));
        await wait.for({ minutes: 10 });
        return "never";
      },
    });
    await start([waiter]);
    const run = server.createRun("waiter", "");
    await server.waitFor(() => run.snapshots.at(-1)!.status === "EXECUTING_WITH_WAITPOINTS");
    server.cancelRun(run.id);
    await server.waitFor(finished(run));
    expect(run.status).toBe("CANCELED");
    expect(aborted).toBe(true);
    expect(run.completions).toEqual([
      expect.objectContaining({ ok: false, skipRetrying: true, error: expect.objectContaining({ code: "TASK_RUN_CANCELLED" }) }),
    ]);
    expect(worker!.inFlight).toBe(0);
  });

  it("notices a cancel through a stale heartbeat while the task computes", async () => {
    const spinner = task({ id: "spinner", run: (_: unknown, { signal }) => new Promise((_r, reject) => signal.addEventListener("abort", () => reject(signal.reason))) });
    await start([spinner]);
    const run = server.createRun("spinner", "");
    await server.waitFor(() => run.status === "EXECUTING");
    server.cancelRun(run.id);
    await server.waitFor(finished(run));
    expect(run.status).toBe("CANCELED");
    expect(run.completions).toHaveLength(1);
  });

  it("enforces maxDuration locally with a non-retryable error", async () => {
    const hog = task({ id: "hog", maxDuration: 5, retry: { maxAttempts: 3 }, run: () => new Promise(() => {}) });
    await start([hog]);
    // The run's own maxDuration (1 s here) overrides the task's 5 s.
    const run = server.createRun("hog", "", "application/json", { maxDuration: 1 });
    await server.waitFor(finished(run), 5_000);
    expect(run.status).toBe("FAILED");
    expect(run.attemptNumber).toBe(1);
    expect(run.completions[0]).toMatchObject({
      ok: false,
      skipRetrying: true,
      error: { type: "INTERNAL_ERROR", code: "MAX_DURATION_EXCEEDED" },
    });
  }, 15_000);

  it("stop(): stops dequeuing, lets in-flight runs finish, fails the rest retryably after the deadline", async () => {
    let finishQuick!: () => void;
    const quick = task({ id: "quick", run: () => new Promise<string>((r) => (finishQuick = () => r("finished in time"))) });
    const stuck = task({ id: "stuck", retry: { maxAttempts: 2 }, run: () => new Promise(() => {}) });
    const waiting = task({ id: "waiting", retry: { maxAttempts: 2 }, run: async () => wait.for({ hours: 1 }) });
    await start([quick, stuck, waiting], { concurrency: 3, shutdownTimeoutMs: 300 });
    const a = server.createRun("quick", "");
    const b = server.createRun("stuck", "");
    const c = server.createRun("waiting", "");
    await server.waitFor(() => a.status === "EXECUTING" && b.status === "EXECUTING" && c.snapshots.at(-1)!.status === "EXECUTING_WITH_WAITPOINTS");

    const stopping = worker!.stop();
    await new Promise((r) => setTimeout(r, 50));
    const dequeuesAtStop = server.callsTo(/dequeue/).length;
    const late = server.createRun("quick", ""); // must not be picked up
    finishQuick();
    await stopping;

    expect(a.status).toBe("COMPLETED");
    for (const r of [b, c]) {
      expect(r.completions).toEqual([
        expect.objectContaining({
          ok: false,
          skipRetrying: false,
          error: expect.objectContaining({ type: "INTERNAL_ERROR", code: "TASK_PROCESS_SIGTERM" }),
        }),
      ]);
      expect(r.status).toBe("QUEUED"); // requeued by the server for another worker
    }
    expect(server.callsTo(/dequeue/).length).toBe(dequeuesAtStop);
    expect(late.attemptNumber).toBe(0);
    expect(a.completions[0]).toMatchObject({ ok: true });
    // Order: the in-time completion came before the shutdown failures.
    const completes = server.callsTo(/attempts\/complete/);
    expect(completes[0]!.path).toContain(a.id);
    expect(worker!.inFlight).toBe(0);
    await worker!.stop(); // idempotent
  });

  it("follows the parent's snapshot that a triggerAndWait moved behind its back (heartbeats, shutdown)", async () => {
    const never = task({ id: "never", retry: { maxAttempts: 2 }, run: () => new Promise(() => {}) });
    const parent = task({ id: "waits-forever", retry: { maxAttempts: 2 }, run: async () => never.triggerAndWait(undefined) });
    await start([parent, never], { concurrency: 1, shutdownTimeoutMs: 400 });
    const run = server.createRun("waits-forever", "");
    await server.waitFor(() => run.snapshots.at(-1)!.status === "EXECUTING_WITH_WAITPOINTS");
    const blocked = run.snapshots.at(-1)!.id;
    // The worker only knew the EXECUTING snapshot; a 409 on heartbeat teaches it the blocked one.
    await server.waitFor(() => server.callsTo(new RegExp(`${run.id}/snapshots/${blocked}/heartbeat`)).length > 0);
    const child = [...server.runs.values()].find((r) => r.parentRunId === run.id)!;
    await server.waitFor(() => child.status === "EXECUTING"); // the parent gave its only slot to the child

    await worker!.stop();
    // The parent's shutdown failure went to its stale snapshot first (409), then to the latest one.
    const parentCompletes = server.callsTo(new RegExp(`${run.id}/snapshots/.+/attempts/complete`));
    expect(parentCompletes).toHaveLength(2);
    expect(parentCompletes[1]!.path).toContain(blocked);
    expect(run.completions).toEqual([expect.objectContaining({ error: expect.objectContaining({ code: "TASK_PROCESS_SIGTERM" }) })]);
    expect(child.completions).toEqual([expect.objectContaining({ error: expect.objectContaining({ code: "TASK_PROCESS_SIGTERM" }) })]);
    expect(run.status).toBe("QUEUED");
  });

  it("refuses bad options and surfaces registration errors", async () => {
    await expect(startWorker({ apiUrl: "not a url", secretKey: "k", tasks: [task({ id: "x", run: () => 1 })] })).rejects.toThrow("apiUrl");
    await expect(
      startWorker({ apiUrl: server.url, secretKey: "wrong", tasks: [task({ id: "x", run: () => 1 })], logSink: () => {} }),
    ).rejects.toThrow("Invalid API key");
  });

  it("retries transient server errors on completion", async () => {
    server.failNext.push({ match: /attempts\/complete/, status: 503 });
    await start([task({ id: "t", run: () => "ok" })]);
    const run = server.createRun("t", "");
    await server.waitFor(finished(run));
    expect(run.status).toBe("COMPLETED");
    expect(server.callsTo(/attempts\/complete/)).toHaveLength(2);
  });
});

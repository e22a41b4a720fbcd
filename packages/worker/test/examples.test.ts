import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discoverTasks } from "../src/cli.js";
import { startWorker, type RunningWorker } from "../src/index.js";
import { FakeServer, type FakeRun } from "./support/fakeServer.js";

const examplesDir = resolve(dirname(fileURLToPath(import.meta.url)), "../../../examples");
let server: FakeServer;
let worker: RunningWorker;

beforeAll(async () => {
  server = await new FakeServer().start();
  const tasks = await discoverTasks(
    ["hello-world.ts", "retrying.ts", "parent-child.ts", "approval.ts", "progress.ts"].map((f) => join(examplesDir, f)),
    examplesDir,
  );
  worker = await startWorker({
    apiUrl: server.url,
    secretKey: server.secretKey,
    tasks,
    concurrency: 4,
    pollWaitMs: 500,
    heartbeatIntervalMs: 200,
    localWaitThresholdMs: 0,
    logSink: () => {},
  });
});

afterAll(async () => {
  await worker.stop();
  await server.close();
});

const done = (run: FakeRun) => () => run.snapshots.at(-1)!.status === "FINISHED";
const out = (run: FakeRun) => superjson.parse(run.output!);
const trigger = (taskId: string, payload: unknown) => server.createRun(taskId, JSON.stringify(payload));

describe("the examples run on the worker", () => {
  it("hello-world and retrying", async () => {
    const hello = trigger("hello-world", { name: "Ada" });
    const retried = trigger("retrying", { succeedOnAttempt: 2 });
    const fatal = trigger("retrying", { fatal: true });
    await server.waitFor(() => [hello, retried, fatal].every((r) => done(r)()));
    expect(out(hello)).toMatchObject({ message: "Hello, Ada!", attempt: 1 });
    expect(out(retried)).toEqual({ succeededOnAttempt: 2 });
    expect(fatal.status).toBe("FAILED");
    expect(fatal.attemptNumber).toBe(1);
  });

  it("parent-child: triggerAndWait and batchTriggerAndWait", async () => {
    const album = trigger("process-album", { cover: "https://img/c.jpg", photos: ["https://img/1.jpg", "http://img/2.jpg"] });
    await server.waitFor(done(album));
    expect(out(album)).toEqual({
      cover: { url: "https://img/c.jpg", width: 1200, resizedUrl: "https://img/c.jpg?w=1200" },
      batchId: expect.stringMatching(/^batch_/),
      thumbnails: [
        { url: "https://img/1.jpg", width: 400, resizedUrl: "https://img/1.jpg?w=400" },
        { error: "not an https URL: http://img/2.jpg" },
      ],
    });
  });

  it("approval: waits for a token completed from outside", async () => {
    const run = trigger("approval", { amount: 120 });
    await server.waitFor(() => typeof run.metadata.approvalToken === "string" && run.snapshots.at(-1)!.status === "EXECUTING_WITH_WAITPOINTS");
    server.completeToken(run.metadata.approvalToken as string, { approved: true, by: "test" });
    await server.waitFor(done(run));
    expect(out(run)).toEqual({ approved: true, by: "test" });
    expect(run.metadata.status).toBe("approved");
  });

  it("progress: metadata ends up on the run", async () => {
    const run = trigger("import-rows", { rows: 14 });
    await server.waitFor(done(run));
    expect(run.metadata).toEqual({
      status: "done",
      total: 14,
      done: 12,
      percent: 100,
      errors: [
        { row: 6, reason: "duplicate" },
        { row: 13, reason: "duplicate" },
      ],
    });
    expect(out(run)).toEqual(run.metadata);
  });
});

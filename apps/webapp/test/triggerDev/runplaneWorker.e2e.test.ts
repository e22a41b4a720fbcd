import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { configure, runs, tasks, wait } from "@trigger.dev/sdk";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { fixtureProjectDir, waitForFinished, waitForRun } from "./support";

const workerBin = path.resolve(fixtureProjectDir, "../../packages/worker/bin/runplane-worker.mjs");
const TASK_FILES = ["hello", "flaky", "parent", "waits", "observed", "hooks", "nightly"].map((name) => `src/trigger/${name}.ts`);

/**
 * The fixture project's files, written only with @trigger.dev/sdk, executed in production style by
 * `runplane-worker` (a real process) against a real server, in single and split mode; runs are
 * triggered and read back with the published SDK.
 */
// Each attempt starts a worker thread that loads the SDK and the task files: allow for a busy machine.
describe.each([{ split: false }, { split: true }])("runplane-worker runs @trigger.dev/sdk tasks (split: $split)", { timeout: 120_000 }, ({ split }) => {
  let server: TestServer;
  let worker: ChildProcess | undefined;
  let output = "";

  beforeAll(async () => {
    server = await startTestServer({ split });
    worker = spawn(process.execPath, [workerBin, ...TASK_FILES, "--poll-wait-ms", "5000"], {
      cwd: fixtureProjectDir,
      env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", RUNPLANE_API_URL: server.baseUrl, RUNPLANE_SECRET_KEY: server.devSecretKey, RUNPLANE_LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    worker.stdout!.on("data", (chunk) => (output += chunk));
    worker.stderr!.on("data", (chunk) => (output += chunk));
    const deadline = Date.now() + 60_000;
    while (!output.includes("worker registered")) {
      if (worker.exitCode !== null) throw new Error(`runplane-worker exited ${worker.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`runplane-worker did not register within 60 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    configure({ baseURL: server.baseUrl, accessToken: server.devSecretKey });
  }, 120_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker!.on("exit", resolve));
      worker.kill("SIGTERM");
      const timer = setTimeout(() => worker!.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await server?.stop();
  }, 60_000);

  const finished = (runId: string, timeoutMs = 45_000) => waitForFinished(runId, timeoutMs, () => output);

  test("registers the SDK's tasks with their queue and retry options", () => {
    expect(output).toMatch(/"tasks":\["hello","flaky","parent","sleeper","approval","observed","long-running","hooked","hooked-failure","nightly-digest"\]/);
  });

  test("schedules.task({ cron }) registers a declarative schedule", async () => {
    const { schedules } = await import("@trigger.dev/sdk");
    const page = await schedules.list();
    expect(page.data).toEqual(
      expect.arrayContaining([expect.objectContaining({ task: "nightly-digest", type: "DECLARATIVE", timezone: "Europe/London", generator: expect.objectContaining({ expression: "0 3 * * *" }) })])
    );
  });

  test("a plain task, and a task that fails twice then succeeds", async () => {
    const [hello, flaky] = await Promise.all([tasks.trigger("hello", { name: "Ada" }), tasks.trigger("flaky", {})]);
    expect((await finished(hello.id)).output).toEqual({ message: "Hello, Ada!", attempt: 1 });
    const flakyRun = await finished(flaky.id);
    expect(flakyRun.status).toBe("COMPLETED");
    expect(flakyRun.attemptCount).toBe(3);
  });

  test("triggerAndWait and batchTriggerAndWait", async () => {
    const run = await finished((await tasks.trigger("parent", {})).id, 60_000);
    expect(run.output).toEqual({ single: "Hello, child!", batch: ["Hello, one!", "Hello, two!"] });
  });

  test("wait.for and wait.forToken", async () => {
    const token = await wait.createToken({ timeout: "5m" });
    const [sleeper, approval] = await Promise.all([tasks.trigger("sleeper", {}), tasks.trigger("approval", { tokenId: token.id })]);
    await waitForRun(approval.id, (run) => run.metadata?.waitingFor === token.id, 30_000, () => output);
    await wait.completeToken(token.id, { approved: true });
    expect((await finished(approval.id)).output).toEqual({ approved: true });
    expect(((await finished(sleeper.id)).output as { waitedMs: number }).waitedMs).toBeGreaterThanOrEqual(3_000);
  });

  test("metadata.set and tags.add; the task's telemetry goes to this server's /otel", async () => {
    const run = await finished((await tasks.trigger("observed", {})).id);
    expect(run.metadata).toMatchObject({ progress: 100, stage: "done" });
    expect([...run.tags].sort()).toEqual(["from-task", "observed"]);
    expect(run.output).toEqual({ otlpEndpoint: `${server.baseUrl}/otel` });
  });

  test("lifecycle hooks, middleware and locals run with trigger.dev semantics", async () => {
    const ok = await finished((await tasks.trigger("hooked", {})).id);
    expect(ok.output).toEqual({ local: "req-42" });
    expect(ok.metadata?.hooks).toEqual(["middleware", "onStart", "run", "onWait:duration", "onResume:duration", "onSuccess", "onComplete:ok", "cleanup"]);

    // catchError says skipRetrying: one attempt although the task allows three.
    const failed = await finished((await tasks.trigger("hooked-failure", {})).id);
    expect(failed.status).toBe("FAILED");
    expect(failed.attemptCount).toBe(1);
    expect(failed.metadata?.hooks).toEqual(["run", "catchError", "onFailure", "onComplete:error", "cleanup"]);
  });

  test("a cancel while executing stops the task and is acknowledged", async () => {
    const handle = await tasks.trigger("long-running", {});
    await waitForRun(handle.id, (run) => run.status === "EXECUTING", 30_000, () => output);
    await runs.cancel(handle.id);
    expect((await finished(handle.id, 30_000)).status).toBe("CANCELED");
    const acknowledged = () => output.split("\n").some((line) => line.includes(handle.id) && line.includes("attempt interrupted") && line.includes('"reason":"cancelled"'));
    await expect.poll(acknowledged, { timeout: 30_000 }).toBe(true);
  });
});

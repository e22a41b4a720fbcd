import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, type TestServer } from "../support/testServer";
import { createHarness, decodeOutput, FINAL_STATUSES, type Harness } from "./support/harness";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const examplesDir = path.join(repoRoot, "examples");
const cliBin = path.join(repoRoot, "packages/worker/bin/runplane-worker.mjs");

/** The real CLI process (`runplane-worker examples/…`) against the real server, then SIGTERM → exit 0. */
describe.each([{ split: false }, { split: true }])("runplane-worker CLI end to end (split: $split)", ({ split }) => {
  let server: TestServer;
  let h: Harness;
  let cli: ChildProcess | undefined;
  let output = "";

  beforeAll(async () => {
    server = await startTestServer({ split });
    h = await createHarness(server, split);
  }, 120_000);
  afterAll(async () => {
    if (cli && cli.exitCode === null) cli.kill("SIGKILL");
    await h?.close();
    await server?.stop();
  }, 60_000);

  test("the CLI registers the example tasks, executes runs, and exits 0 on SIGTERM", async () => {
    const child = spawn(process.execPath, [cliBin, "hello-world.ts", "retrying.ts", "--concurrency", "4", "--poll-wait-ms", "5000"], {
      cwd: examplesDir,
      env: {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "production",
        RUNPLANE_API_URL: h.apiUrl,
        RUNPLANE_SECRET_KEY: server.devSecretKey,
        RUNPLANE_LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    cli = child;
    child.stdout!.on("data", (chunk) => (output += chunk));
    child.stderr!.on("data", (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

    const deadline = Date.now() + 30_000;
    while (!output.includes("worker registered")) {
      if (child.exitCode !== null) throw new Error(`the CLI exited ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`the CLI did not register within 30 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const hello = await h.trigger("hello-world", { name: "Ada" });
    const retried = await h.trigger("retrying", { succeedOnAttempt: 2 });
    const fatal = await h.trigger("retrying", { fatal: true });

    const helloRun = await h.waitForStatus(hello, FINAL_STATUSES);
    expect(helloRun.status, output).toBe("COMPLETED_SUCCESSFULLY");
    expect(decodeOutput(helloRun.output, helloRun.outputType)).toEqual({ message: "Hello, Ada!", runId: hello, attempt: 1 });

    const retriedRun = await h.waitForStatus(retried, FINAL_STATUSES);
    expect(retriedRun.status, output).toBe("COMPLETED_SUCCESSFULLY");
    expect(decodeOutput(retriedRun.output, retriedRun.outputType)).toEqual({ succeededOnAttempt: 2 });

    // AbortTaskRunError: skipRetrying, so one attempt only.
    const fatalRun = await h.waitForStatus(fatal, FINAL_STATUSES);
    expect(fatalRun.status).toBe("COMPLETED_WITH_ERRORS");
    expect(fatalRun.attemptNumber).toBe(1);

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(output).toContain("worker stopped");
  }, 60_000);
});

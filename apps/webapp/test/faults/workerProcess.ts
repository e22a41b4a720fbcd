import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestServer } from "../support/testServer";

const here = path.dirname(fileURLToPath(import.meta.url));
const cliBin = path.resolve(here, "../../../../packages/worker/bin/runplane-worker.mjs");

/**
 * A real `runplane-worker` process running fixtures/recordedTask.ts against `server`, registering
 * `version` (a restarted process of one deployment registers the same version again, and a run
 * started on a version is retried on that version).
 */
export type WorkerProcess = { child: ChildProcess; output(): string; kill(signal?: NodeJS.Signals): Promise<void> };

export async function startWorkerProcess(server: TestServer, executionLog: string, version = "20261206.1"): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [cliBin, "recordedTask.ts", "--concurrency", "10", "--poll-wait-ms", "2000"], {
    cwd: path.join(here, "fixtures"),
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      RUNPLANE_API_URL: server.baseUrl,
      RUNPLANE_SECRET_KEY: server.devSecretKey,
      RUNPLANE_LOG_LEVEL: "info",
      EXECUTION_LOG: executionLog,
      RUNPLANE_WORKER_VERSION: version,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 30_000;
  while (!output.includes("worker registered")) {
    if (child.exitCode !== null) throw new Error(`runplane-worker exited ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`runplane-worker did not register within 30 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output: () => output,
    kill: async (signal = "SIGKILL") => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

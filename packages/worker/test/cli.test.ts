import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliError, discoverTasks, parseArgs, workerOptionsFrom } from "../src/cli.js";
import { task } from "../src/task.js";
import { FakeServer } from "./support/fakeServer.js";

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = resolve(here, "..");
const repoRoot = resolve(packageDir, "../..");
const bin = join(packageDir, "bin/runplane-worker.mjs");

describe("parseArgs", () => {
  it("reads files and options in any order", () => {
    expect(parseArgs(["a.ts", "-c", "4", "--version=2026.1", "b.js", "--poll-wait-ms", "100", "--log-level", "debug"])).toEqual({
      files: ["a.ts", "b.js"],
      concurrency: 4,
      version: "2026.1",
      pollWaitMs: 100,
      logLevel: "debug",
      help: false,
    });
    expect(parseArgs(["--shutdown-timeout-ms=5", "--", "-weird.ts"])).toMatchObject({ shutdownTimeoutMs: 5, files: ["-weird.ts"] });
    expect(parseArgs(["-h"]).help).toBe(true);
  });

  it("refuses unknown options and bad values", () => {
    expect(() => parseArgs(["--nope"])).toThrow(CliError);
    expect(() => parseArgs(["--concurrency", "two"])).toThrow("non-negative integer");
    expect(() => parseArgs(["--concurrency"])).toThrow("needs a value");
    expect(() => parseArgs(["--log-level", "loud"])).toThrow("--log-level");
  });
});

describe("workerOptionsFrom", () => {
  const tasks = [{ task: task({ id: "t", run: () => 1 }) }];
  it("prefers RUNPLANE_* over TRIGGER_* and flags over env", () => {
    const env = {
      RUNPLANE_API_URL: "http://a",
      TRIGGER_API_URL: "http://b",
      TRIGGER_SECRET_KEY: "tr_dev_b",
      RUNPLANE_WORKER_CONCURRENCY: "7",
      RUNPLANE_WORKER_VERSION: "v-env",
    };
    expect(workerOptionsFrom(parseArgs([]), env, tasks)).toMatchObject({
      apiUrl: "http://a",
      secretKey: "tr_dev_b",
      concurrency: 7,
      version: "v-env",
      logLevel: "info",
    });
    expect(workerOptionsFrom(parseArgs(["--api-url", "http://c", "-c", "2", "-v", "v-flag"]), env, tasks)).toMatchObject({
      apiUrl: "http://c",
      concurrency: 2,
      version: "v-flag",
    });
  });

  it("explains what is missing", () => {
    expect(() => workerOptionsFrom(parseArgs([]), {}, tasks)).toThrow("RUNPLANE_API_URL");
    expect(() => workerOptionsFrom(parseArgs([]), { TRIGGER_API_URL: "http://x" }, tasks)).toThrow("RUNPLANE_SECRET_KEY");
  });
});

describe("discoverTasks", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(here, ".tmp-"));
    const src = JSON.stringify(join(packageDir, "src/index.js"));
    writeFileSync(
      join(dir, "tasks.ts"),
      `import { task } from ${src};
const shared = task({ id: "shared", run: async () => "s" });
export const first = task({ id: "first", run: async (p: { n: number }) => p.n + 1 });
export { shared };
export const alias = shared;
export const notATask = { id: "nope", run: () => 1 };
export default task({ id: "default-export", run: () => "d" });
`,
    );
    writeFileSync(join(dir, "clash.mjs"), `import { task } from ${src};\nexport const other = task({ id: "first", run: () => 2 });\n`);
    writeFileSync(join(dir, "broken.ts"), `throw new Error("import-time failure");\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("collects every exported task once, with its file and export name", async () => {
    const sources = await discoverTasks([join(dir, "tasks.ts")], dir);
    expect(sources.map((s) => [s.task.id, s.filePath, s.exportName]).sort()).toEqual([
      ["default-export", "tasks.ts", "default"],
      ["first", "tasks.ts", "first"],
      ["shared", "tasks.ts", "shared"],
    ]);
  });

  it("refuses duplicate ids across files, missing files and files that fail to load", async () => {
    await expect(discoverTasks(["tasks.ts", "clash.mjs"], dir)).rejects.toThrow('Two different tasks use the id "first"');
    await expect(discoverTasks(["missing.ts"], dir)).rejects.toThrow("Task file not found: missing.ts");
    await expect(discoverTasks(["broken.ts"], dir)).rejects.toThrow("import-time failure");
  });

  it("finds the example tasks", async () => {
    const files = ["hello-world.ts", "retrying.ts", "parent-child.ts", "approval.ts", "progress.ts"];
    const sources = await discoverTasks(files, join(repoRoot, "examples"));
    expect(sources.map((s) => s.task.id).sort()).toEqual([
      "approval",
      "hello-world",
      "import-rows",
      "process-album",
      "resize-image",
      "retrying",
    ]);
  });
});

function runCli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: join(repoRoot, "examples"),
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe("runplane-worker (the bin)", () => {
  it("prints help, and exits 1 without a secret key", async () => {
    const help = runCli(["--help"], {});
    expect(await help.exited).toBe(0);
    expect(help.out()).toContain("Usage: runplane-worker");
    const noKey = runCli(["hello-world.ts"], { RUNPLANE_API_URL: "http://127.0.0.1:9" });
    expect(await noKey.exited).toBe(1);
    expect(noKey.err()).toContain("RUNPLANE_SECRET_KEY");
  });

  it("loads .ts task files, runs them, and stops gracefully on SIGTERM", async () => {
    const server = await new FakeServer().start();
    try {
      const cli = runCli(["hello-world.ts", "retrying.ts", "--concurrency", "2", "--version", "20260101.7", "--poll-wait-ms", "200"], {
        TRIGGER_API_URL: server.url,
        TRIGGER_SECRET_KEY: server.secretKey,
      });
      await server.waitFor(() => server.registrations.length === 1, 20_000);
      expect(server.registrations[0]).toMatchObject({
        version: "20260101.7",
        tasks: [
          { id: "hello-world", filePath: "hello-world.ts", exportName: "helloWorld" },
          { id: "retrying", filePath: "retrying.ts", exportName: "retrying", retry: { maxAttempts: 4 } },
        ],
      });
      const run = server.createRun("hello-world", JSON.stringify({ name: "Ada" }));
      await server.waitFor(() => run.status === "COMPLETED");
      expect(superjson.parse(run.output!)).toMatchObject({ message: "Hello, Ada!", runId: run.id });
      expect(cli.out()).toContain('"msg":"saying hello"');

      cli.child.kill("SIGTERM");
      expect(await cli.exited).toBe(0);
      expect(cli.out()).toContain('"msg":"worker stopped"');
    } finally {
      await server.close();
    }
  }, 40_000);
});

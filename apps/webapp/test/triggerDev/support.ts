import { runs } from "@trigger.dev/sdk";
import { spawn, type ChildProcess } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestServer } from "../support/testServer";

/** The trigger.dev CLI (npm `trigger.dev@4.8.3`, a devDependency) and the fixture project it runs. */
const here = path.dirname(fileURLToPath(import.meta.url));
export const cliBin = path.resolve(here, "../../node_modules/.bin/trigger");
export const fixtureProjectDir = path.resolve(here, "../../../../examples/trigger-dev-project");

export function randomPat(): string {
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  let out = "tr_pat_";
  for (let i = 0; i < 40; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** The bootstrapped project's ref, as the boot banner prints it. */
export function projectRefOf(server: TestServer): string {
  const match = /Project:\s+\S+ \((proj_[a-z]+)\)/.exec(server.output().stdout);
  if (!match?.[1]) throw new Error(`no project ref in the banner:\n${server.output().stdout}`);
  return match[1];
}

/** Environment for a CLI process: a throwaway HOME (no stored login), telemetry off, no TTY prompts. */
export function cliEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "",
    NODE_ENV: "development",
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, ".config"),
    TRIGGER_TELEMETRY_DISABLED: "1",
    DO_NOT_TRACK: "1",
    CI: "1",
    ...extra,
  };
}

export type CliProcess = { child: ChildProcess; home: string; output(): string; waitFor(text: string, timeoutMs: number): Promise<void>; stop(): Promise<void> };

/** Spawns `trigger <args>` in `cwd`; `stop()` sends SIGTERM (SIGKILL after 10 s) and removes the temp HOME. */
export function spawnCli(args: string[], options: { cwd: string; env?: Record<string, string> }): CliProcess {
  const home = mkdtempSync(path.join(tmpdir(), "runplane-trigger-cli-"));
  const child = spawn(cliBin, args, { cwd: options.cwd, env: cliEnv(home, options.env), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return {
    child,
    home,
    output: () => output,
    async waitFor(text, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!output.includes(text)) {
        if (child.exitCode !== null) throw new Error(`the CLI exited ${child.exitCode} before "${text}":\n${output.slice(-4000)}`);
        if (Date.now() > deadline) throw new Error(`no "${text}" from the CLI within ${timeoutMs} ms:\n${output.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

type RetrievedRun = Awaited<ReturnType<typeof runs.retrieve>>;

/** Polls `runs.retrieve` (the configured SDK) until `until` holds; the error names the run and `context()`. */
export async function waitForRun(runId: string, until: (run: RetrievedRun) => boolean, timeoutMs: number, context: () => string): Promise<RetrievedRun> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await runs.retrieve(runId);
    if (until(run)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status} after ${timeoutMs} ms\n${context().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Until the run is final. */
export function waitForFinished(runId: string, timeoutMs: number, context: () => string): Promise<RetrievedRun> {
  return waitForRun(runId, (run) => run.isCompleted, timeoutMs, context);
}

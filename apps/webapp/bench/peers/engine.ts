/**
 * The engine-level arm: runs the run-engine package's own `bench` script (trigger, then dequeue → start →
 * complete, no HTTP) in a child process and reads the JSON it prints, so its setup lives in one place.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { appDir } from "../../test/support/serverProcess";

export type EngineResult = {
  runs: number;
  trigger: { concurrency: number; perSecond: number; p50ms: number; p99ms: number };
  execute: { consumers: number; batch: number; perSecond: number };
};

export async function runEngineBench(env: Record<string, string>, timeoutMs: number): Promise<EngineResult> {
  const dir = path.resolve(appDir, "../../internal-packages/run-engine");
  const child = spawn(process.execPath, ["--import", "tsx", "bench/engine.ts"], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c) => (out += c));
  child.stderr!.on("data", (c) => (err = (err + c).slice(-5_000)));
  const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  clearTimeout(timer);
  const start = out.indexOf("{");
  const end = out.lastIndexOf("}");
  if (code !== 0 || start < 0 || end < start) throw new Error(`bench:engine exited ${code}${code === null ? " (timed out)" : ""}: ${err || out}`);
  const parsed = JSON.parse(out.slice(start, end + 1)) as EngineResult;
  if (!parsed.trigger || !parsed.execute) throw new Error(`bench:engine printed an unexpected shape: ${out}`);
  return parsed;
}

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./serverProcess";

/**
 * A private `redis-server` process for fault tests: its own port and data dir, optionally with AOF
 * (`appendfsync always`, as docs/operations.md recommends for production). `kill()` is a crash
 * (SIGKILL), `start()` brings it back on the same port and data.
 */
export type RedisProcess = {
  url: string;
  port: number;
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Kills the server and deletes its data dir. */
  destroy(): Promise<void>;
};

export async function startRedisProcess(options: { appendOnly: boolean }): Promise<RedisProcess> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), "runplane-redis-"));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function start(): Promise<void> {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--daemonize", "no", "--logfile", ""];
    args.push(...(options.appendOnly ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]));
    child = spawn("redis-server", args, { stdio: "ignore" });
    exited = new Promise((resolve) => child!.once("exit", () => resolve()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on("error", () => {});
      try {
        await probe.connect();
        if ((await probe.ping()) === "PONG") return;
      } catch {
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 15 s`);
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  async function kill(): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await exited;
  }

  await start();
  return {
    url,
    port,
    kill,
    start,
    destroy: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

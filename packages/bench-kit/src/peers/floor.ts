import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { deleteKeysWithPrefix, scratchPrefix } from "./scratch.js";

export type FloorServer = { url: string; pid: number; keyPrefix: string; stop: () => Promise<void> };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** Starts floor-server.ts in its own process (as the Runplane server is), on its own Redis key prefix; `stop()` deletes the keys. */
export async function startFloorServer(redisUrl: string): Promise<FloorServer> {
  const port = await freePort();
  const keyPrefix = scratchPrefix("bench-peers-floor");
  const here = dirname(fileURLToPath(import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", join(here, "floor-server.ts")], {
    cwd: here,
    env: { PATH: process.env.PATH ?? "", PORT: String(port), REDIS_URL: redisUrl, KEY_PREFIX: keyPrefix, NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (c) => (out += c));
  child.stderr!.on("data", (c) => (out += c));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const deadline = Date.now() + 30_000;
  while (!out.includes("floor ready")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`floor server did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    keyPrefix,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      const redis = new Redis(redisUrl);
      try {
        await deleteKeysWithPrefix(redis, keyPrefix);
      } finally {
        redis.disconnect();
      }
    },
  };
}

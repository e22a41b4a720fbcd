import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
// Subpaths, not the package index: the index also exports vitest fixtures, which break outside vitest.
import { TEST_REDIS_URL, testSplitModeFromEnv } from "@internal/testcontainers/config";
import { createTestDatabase, type TestDatabase } from "@internal/testcontainers/postgres";
import { createTestRedis, type TestRedis } from "@internal/testcontainers/redis";

/**
 * Starting a real server process, with no dependency on vitest (benchmarks use it too). The vitest
 * fixtures are in testServer.ts.
 */
export const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The production build the server runs (globalSetup makes it once per test run; benchmarks call it). */
export function buildServer(): void {
  // NODE_ENV is "test" under vitest; Vite would then bundle React's development build for the browser.
  execFileSync(path.join(appDir, "node_modules/.bin/remix"), ["vite:build"], {
    cwd: appDir,
    stdio: "pipe",
    timeout: 180_000,
    env: { ...process.env, NODE_ENV: "production" },
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export type TestServerOptions = {
  /** Extra environment variables (e.g. MOLLIFIER_TRIP_THRESHOLD). */
  env?: Record<string, string>;
  /** Two databases with split mode on, minting NEW (ksuid) run ids. Default: RUNPLANE_TEST_SPLIT (off when unset). */
  split?: boolean;
  /** Extra node flags for the server process (e.g. `--cpu-prof` when profiling a benchmark). */
  nodeArgs?: string[];
  /** Another instance of this server (scale-out): same databases, Redis prefix and keys; stopping it leaves them to the first. */
  sameDataAs?: TestServer;
};

export type TestServer = {
  baseUrl: string;
  port: number;
  /** Secret keys of the bootstrapped DEVELOPMENT and PRODUCTION environments. */
  devSecretKey: string;
  prodSecretKey: string;
  databaseUrl: string;
  runOpsDatabaseUrl?: string;
  redis: TestRedis;
  /** The server process id (undefined while it is not running). */
  pid(): number | undefined;
  /** Everything the server printed so far. */
  output(): { stdout: string; stderr: string };
  /** Stops the process (SIGTERM; SIGKILL after 10 s). Idempotent. */
  stop(): Promise<number | null>;
  /** Kills the process at once (crash simulation). */
  kill(): Promise<void>;
  /** Starts a new process on the same databases and Redis prefix (after kill), optionally with changed variables. */
  restart(envOverrides?: Record<string, string>): Promise<void>;
};

function randomKey(kind: "dev" | "prod"): string {
  const alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const bytes = randomBytes(24);
  return `tr_${kind}_${Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("")}`;
}

/**
 * A real Runplane server for end-to-end tests: the production build (made once by globalSetup),
 * on fresh databases and its own Redis key prefix, with known secret keys. Call `stop()` when done.
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const shared = options.sameDataAs;
  const borrowed = (url: string): TestDatabase => ({ url, name: new URL(url).pathname.slice(1), drop: async () => {} });
  const controlPlane: TestDatabase = shared ? borrowed(shared.databaseUrl) : await createTestDatabase("control-plane");
  const split = shared ? Boolean(shared.runOpsDatabaseUrl) : (options.split ?? testSplitModeFromEnv() ?? false);
  const runOps: TestDatabase | undefined = shared
    ? shared.runOpsDatabaseUrl
      ? borrowed(shared.runOpsDatabaseUrl)
      : undefined
    : split
      ? await createTestDatabase("run-ops")
      : undefined;
  const redis: TestRedis = shared ? { ...shared.redis, cleanup: async () => {} } : createTestRedis();
  const port = await freePort();
  const devSecretKey = shared?.devSecretKey ?? randomKey("dev");
  const prodSecretKey = shared?.prodSecretKey ?? randomKey("prod");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "",
    NODE_ENV: "production",
    PORT: String(port),
    APP_ORIGIN: `http://127.0.0.1:${port}`,
    DATABASE_URL: controlPlane.url,
    DATABASE_POOL_SIZE: "5",
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    SESSION_SECRET: "test-session-secret-0123456789",
    ENCRYPTION_KEY: "test-encryption-key-0123456789abcdef",
    BOOTSTRAP_DEV_SECRET_KEY: devSecretKey,
    BOOTSTRAP_PROD_SECRET_KEY: prodSecretKey,
    LOG_LEVEL: process.env.TEST_SERVER_LOG_LEVEL ?? "warn",
    ...(runOps
      ? { RUN_OPS_SPLIT_ENABLED: "true", RUN_OPS_DATABASE_URL: runOps.url, RUN_OPS_MINT_NEW_IDS: "true" }
      : {}),
    ...options.env,
  };

  let child: ChildProcess;
  let stdout = "";
  let stderr = "";
  let exited: Promise<number | null>;

  async function launch(): Promise<void> {
    // On a restart the earlier process's banner is already in `stdout`: wait for this one's.
    const outputBefore = stdout.length;
    child = spawn(process.execPath, [...(options.nodeArgs ?? []), "--import", "tsx", "server.ts"], { cwd: appDir, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (chunk) => (stdout += chunk));
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!stdout.slice(outputBefore).includes("Runplane is ready")) {
      if (child.exitCode !== null) throw new Error(`test server exited ${child.exitCode}:\n${stderr}\n${stdout}`);
      if (Date.now() > deadline) throw new Error(`test server not ready after 60 s:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function stopProcess(signal: NodeJS.Signals): Promise<number | null> {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  try {
    await launch();
  } catch (error) {
    // a server that refused to start leaves nothing behind
    await Promise.allSettled([controlPlane.drop(), runOps?.drop(), redis.cleanup()]);
    throw error;
  }
  let cleaned = false;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    devSecretKey,
    prodSecretKey,
    databaseUrl: controlPlane.url,
    runOpsDatabaseUrl: runOps?.url,
    redis,
    pid: () => (child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    output: () => ({ stdout, stderr }),
    async stop() {
      const code = await stopProcess("SIGTERM");
      if (!cleaned) {
        cleaned = true;
        await Promise.allSettled([controlPlane.drop(), runOps?.drop(), redis.cleanup()]);
      }
      return code;
    },
    async kill() {
      await stopProcess("SIGKILL");
    },
    async restart(envOverrides) {
      Object.assign(env, envOverrides);
      await launch();
    },
  };
}


import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TEST_REDIS_URL, createTestRedis, postgresTest } from "@internal/testcontainers";
import { afterAll, expect, it } from "vitest";

// boot claims its Redis keyspace (services/keyspaceClaim.server.ts): this test's server gets its own prefix
const testRedis = createTestRedis();
afterAll(() => testRedis.cleanup());

// The production path end to end: `remix vite:build`, then `node --import tsx server.ts`.
const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// The build itself is made once per test run by test/support/globalSetup.ts.

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "server.ts"], {
    cwd: appDir,
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!stdout.includes("Runplane is ready")) {
        if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`server not ready: ${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

postgresTest(
  "the built server boots, serves /healthcheck and the index page, and exits 0 on SIGTERM",
  async ({ databaseUrl }) => {
    const port = await freePort();
    const server = startServer({
      DATABASE_URL: databaseUrl,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: testRedis.keyPrefix,
      PORT: String(port),
      SESSION_SECRET: "e2e-session-secret-0123456789",
      ENCRYPTION_KEY: "e2e-encryption-key-0123456789abcdef",
      BOOTSTRAP_DEV_SECRET_KEY: "tr_dev_E2eServerKey000000001",
    });
    try {
      await server.ready();
      const health = await fetch(`http://127.0.0.1:${port}/healthcheck`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ ok: true, checks: { database: { status: "ok" }, redis: { status: "ok" } } });

      const index = await fetch(`http://127.0.0.1:${port}/`);
      expect(index.status).toBe(200);
      expect(await index.text()).toContain("<h1>Runplane</h1>");

      const { stdout } = server.output();
      expect(stdout).toContain("tr_dev_E2eServerKey000000001");
      expect(stdout).toMatch(/pk_prod_[0-9A-Za-z]{24}/);
      expect(stdout).toContain(`Dashboard:        http://localhost:${port}`);
    } finally {
      server.child.kill("SIGTERM");
    }
    expect(await server.exited).toBe(0);
    expect(server.output().stdout).toContain("shutdown complete");
  },
  60_000
);

it("refuses to start on a bad environment, naming the variables, with exit code 1", async () => {
  const server = startServer({ DATABASE_URL: "mysql://nope", REDIS_URL: TEST_REDIS_URL, PORT: "not-a-port" });
  expect(await server.exited).toBe(1);
  const { stderr } = server.output();
  expect(stderr).toContain("Runplane refused to start: Invalid environment");
  expect(stderr).toContain("DATABASE_URL");
  expect(stderr).toContain("PORT");
  expect(stderr).toContain("SESSION_SECRET");
}, 30_000);

import { createTestRedis, postgresTest } from "@internal/testcontainers";
import { afterAll, afterEach, expect } from "vitest";
import { boot } from "~/services/boot.server";
import { backgroundWorkers } from "~/services/backgroundWorkers.server";
import { getRuntime } from "~/services/runtime.server";
import { clearSingleton } from "~/utils/singleton.server";
import { SplitRefusedError } from "~/v3/runOpsMigration/errors.server";

const saved = { ...process.env };

function setEnv(vars: Record<string, string>) {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved, vars);
  for (const name of ["env", "boot", "runtime"]) clearSingleton(name);
}

afterEach(() => setEnv({}));

// boot claims its Redis keyspace (services/keyspaceClaim.server.ts): each test database gets its own prefix
const testRedis = createTestRedis();
afterAll(() => testRedis.cleanup());

postgresTest("boot refuses a split onto the same database before wiring anything", async ({ databaseUrl }) => {
  const sameDatabase = new URL(databaseUrl);
  sameDatabase.hostname = "localhost";
  setEnv({
    DATABASE_URL: databaseUrl,
    RUN_OPS_DATABASE_URL: sameDatabase.toString(),
    RUN_OPS_SPLIT_ENABLED: "true",
    REDIS_URL: "redis://127.0.0.1:6379",
  });
  await expect(boot()).rejects.toBeInstanceOf(SplitRefusedError);
  expect(() => getRuntime()).toThrow(/not booted/);
});

postgresTest("boot wires the runtime, bootstraps, starts registered workers; shutdown stops them", async ({ databaseUrl }) => {
  setEnv({
    DATABASE_URL: databaseUrl,
    REDIS_URL: "redis://127.0.0.1:6379",
    REDIS_KEY_PREFIX: testRedis.keyPrefix,
    BOOTSTRAP_DEV_SECRET_KEY: "tr_dev_BootTestKey00000000001",
    LOG_LEVEL: "error",
  });
  const calls: string[] = [];
  backgroundWorkers.register({ name: "probe-loop", start: () => void calls.push("start"), stop: async () => void calls.push("stop") });

  const app = await boot();
  expect(await boot()).toBe(app); // once per process
  expect(getRuntime()).toBe(app.runtime);
  expect(app.bootstrap.environments.development.apiKey).toBe("tr_dev_BootTestKey00000000001");
  expect(calls).toEqual(["start"]);
  expect(await app.runtime.prisma.runtimeEnvironment.count()).toBe(2);
  expect(await app.runtime.redis.ping()).toBe("PONG");

  await app.shutdown();
  expect(calls).toEqual(["start", "stop"]);
  expect(app.runtime.redis.status).toBe("end");
});

import { containerTest, postgresTest } from "@internal/testcontainers";
import type { LoaderFunctionArgs } from "@remix-run/node";
import { describe, expect, it } from "vitest";
import { parseEnv } from "~/env.server";
import { loader } from "~/routes/healthcheck";
import { BackgroundWorkerRegistry } from "~/services/backgroundWorkers.server";
import { runHealthChecks } from "~/services/health.server";
import { createLogger } from "~/services/logger.server";
import { createRuntime, type Runtime } from "~/services/runtime.server";
import { runOpsConfigFromEnv } from "~/v3/runOpsMigration/config.server";

const logger = createLogger({ level: "error", sink: () => {} });

async function withRuntime(vars: Record<string, string>, fn: (runtime: Runtime) => Promise<void>) {
  const env = parseEnv(vars);
  const runtime = createRuntime(env, runOpsConfigFromEnv(env), logger, new BackgroundWorkerRegistry(logger));
  try {
    await fn(runtime);
  } finally {
    await runtime.close();
  }
}

async function callHealthcheck(runtime: Runtime) {
  const response = await loader({
    request: new Request("http://localhost/healthcheck"),
    params: {},
    context: { runtime },
  } as LoaderFunctionArgs);
  return { status: response.status, body: (await response.json()) as Record<string, any>, response };
}

describe("runHealthChecks", () => {
  it("reports ok, failed and skipped checks and bounds each by a timeout", async () => {
    const report = await runHealthChecks(
      {
        fine: async () => {},
        broken: async () => {
          throw new Error("connection refused");
        },
        slow: () => new Promise(() => {}),
        off: null,
      },
      50
    );
    expect(report.ok).toBe(false);
    expect(report.failing).toEqual(["broken", "slow"]);
    expect(report.checks.fine.status).toBe("ok");
    expect(report.checks.broken).toMatchObject({ status: "failed", error: "connection refused" });
    expect(report.checks.slow).toMatchObject({ status: "failed", error: "timed out after 50ms" });
    expect(report.checks.off).toEqual({ status: "skipped" });
  });
});

containerTest("GET /healthcheck: 200 with every dependency up (split on)", async ({ databaseUrl, runOpsDatabaseUrl, redis }) => {
  await withRuntime(
    { DATABASE_URL: databaseUrl, RUN_OPS_DATABASE_URL: runOpsDatabaseUrl, RUN_OPS_SPLIT_ENABLED: "true", REDIS_URL: redis.url },
    async (runtime) => {
      const { status, body, response } = await callHealthcheck(runtime);
      expect(status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("no-store");
      expect(body.ok).toBe(true);
      expect(body.checks.database.status).toBe("ok");
      expect(body.checks.runOpsDatabase.status).toBe("ok");
      expect(body.checks.redis.status).toBe("ok");
    }
  );
});

postgresTest("GET /healthcheck: the run-ops check is skipped when split is off", async ({ databaseUrl }) => {
  await withRuntime({ DATABASE_URL: databaseUrl, REDIS_URL: "redis://127.0.0.1:6379" }, async (runtime) => {
    const { status, body } = await callHealthcheck(runtime);
    expect(status).toBe(200);
    expect(body.checks.runOpsDatabase).toEqual({ status: "skipped" });
  });
});

postgresTest("GET /healthcheck: 503 naming Redis when Redis is down", async ({ databaseUrl }) => {
  await withRuntime({ DATABASE_URL: databaseUrl, REDIS_URL: "redis://127.0.0.1:1" }, async (runtime) => {
    const { status, body } = await callHealthcheck(runtime);
    expect(status).toBe(503);
    expect(body.ok).toBe(false);
    expect(body.failing).toEqual(["redis"]);
    expect(body.checks.database.status).toBe("ok");
  });
});

postgresTest("GET /healthcheck: 503 naming the run-ops database when it is unreachable", async ({ databaseUrl }) => {
  await withRuntime(
    {
      DATABASE_URL: databaseUrl,
      RUN_OPS_DATABASE_URL: "postgresql://postgres@127.0.0.1:1/runplane_run_ops",
      RUN_OPS_SPLIT_ENABLED: "true",
      REDIS_URL: "redis://127.0.0.1:6379",
    },
    async (runtime) => {
      const { status, body } = await callHealthcheck(runtime);
      expect(status).toBe(503);
      expect(body.failing).toEqual(["runOpsDatabase"]);
    }
  );
});

postgresTest("GET /healthcheck: 503 naming the control-plane database when it is unreachable", async () => {
  await withRuntime({ DATABASE_URL: "postgresql://postgres@127.0.0.1:1/runplane", REDIS_URL: "redis://127.0.0.1:6379" }, async (runtime) => {
    const { status, body } = await callHealthcheck(runtime);
    expect(status).toBe(503);
    expect(body.failing).toEqual(["database"]);
  });
});

import { registerWorker } from "@internal/run-engine";
import type { AuthenticatedEnvironment } from "@internal/database/resolver";
import { createTestDatabase, createTestRedis, TEST_REDIS_URL, type TestDatabase, type TestRedis } from "@internal/testcontainers";
import pg from "pg";
import { parseEnv } from "~/env.server";
import { triggerTaskService } from "~/runEngine/services/triggerTask.server";
import { BackgroundWorkerRegistry } from "~/services/backgroundWorkers.server";
import { bootstrapInstance } from "~/services/bootstrap.server";
import { createLogger } from "~/services/logger.server";
import { createRuntime, setRuntime, type Runtime } from "~/services/runtime.server";
import { runOpsConfigFromEnv } from "~/v3/runOpsMigration/config.server";
import { Scheduler } from "~/v3/schedules/scheduler.server";
import { SchedulerLease } from "~/v3/schedules/schedulerLease.server";
import { SchedulerMetrics } from "~/v3/schedules/schedulerMetrics.server";
import { ScheduleService } from "~/v3/schedules/scheduleService.server";

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(private current: Date) {}
  now = (): Date => new Date(this.current);
  set(iso: string | Date): void {
    this.current = new Date(iso);
  }
}

export type SchedulerHarness = {
  runtime: Runtime;
  db: TestDatabase;
  redis: TestRedis;
  clock: ManualClock;
  dev: AuthenticatedEnvironment;
  prod: AuthenticatedEnvironment;
  service: ScheduleService;
  /** A scheduler instance as a webapp process would have (its own lease token, same lease key). */
  newScheduler: (options?: { batchSize?: number }) => Scheduler;
  registerTasks: (env: AuthenticatedEnvironment, tasks: Array<{ id: string; queue?: { name: string }; machine?: string }>, version?: string) => Promise<string>;
  runs: (taskIdentifier: string) => Promise<Array<{ friendlyId: string; payload: any; queue: string; idempotencyKey: string | null }>>;
  close: () => Promise<void>;
};

/**
 * An in-process webapp runtime (real Postgres, real Redis, the real trigger path and engine) with a
 * manual clock for the scheduler. The runtime is installed as the process runtime, so the trigger
 * service the scheduler calls is the production one.
 */
export async function setupSchedulerHarness(startAt: string): Promise<SchedulerHarness> {
  const db = await createTestDatabase("control-plane");
  const redis = createTestRedis();
  const env = parseEnv({
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: redis.keyPrefix,
    BOOTSTRAP_DEV_SECRET_KEY: "tr_dev_scheduler0test",
    BOOTSTRAP_PROD_SECRET_KEY: "tr_prod_scheduler0test",
  });
  const logger = createLogger({ level: "error", sink: () => {} });
  const runtime = setRuntime(createRuntime(env, runOpsConfigFromEnv(env), logger, new BackgroundWorkerRegistry(logger)));
  const boot = await bootstrapInstance(runtime.prisma, env);
  const dev = (await runtime.resolver.resolveAuthenticatedEnv(boot.environments.development.id))!;
  const prod = (await runtime.resolver.resolveAuthenticatedEnv(boot.environments.production.id))!;
  const clock = new ManualClock(new Date(startAt));
  const metrics = new SchedulerMetrics();

  return {
    runtime,
    db,
    redis,
    clock,
    dev,
    prod,
    service: new ScheduleService({ prisma: runtime.prisma, resolver: runtime.resolver, clock: clock.now }),
    newScheduler: (options = {}) =>
      new Scheduler({
        prisma: runtime.prisma,
        resolver: runtime.resolver,
        trigger: (request) => triggerTaskService.call(request),
        lease: new SchedulerLease(runtime.redis, `${redis.keyPrefix}scheduler:lease`, 30_000),
        metrics,
        logger,
        clock: clock.now,
        batchSize: options.batchSize,
      }),
    registerTasks: async (environment, tasks, version = "1") => {
      const result = await registerWorker(
        { prisma: runtime.prisma, resolver: runtime.resolver, engine: runtime.engine },
        environment,
        { version, tasks: tasks.map((t) => ({ id: t.id, queue: t.queue, machine: t.machine ? { preset: t.machine } : undefined })) }
      );
      return result.worker.id;
    },
    runs: async (taskIdentifier) => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query(
          `SELECT "friendlyId", payload, "queue", "idempotencyKey" FROM "TaskRun" WHERE "taskIdentifier" = $1 ORDER BY "createdAt", "friendlyId"`,
          [taskIdentifier]
        );
        return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) }));
      } finally {
        await client.end();
      }
    },
    close: async () => {
      await runtime.close();
      await redis.cleanup();
      await db.drop();
    },
  };
}

import { createControlPlaneClient, type ControlPlaneClient } from "@internal/database";
import { PrismaControlPlaneResolver, type ControlPlaneResolver } from "@internal/database/resolver";
import { RunEngine } from "@internal/run-engine";
import { createRunStoreFromUrls, type RunStore } from "@internal/run-store";
import { createRedisClient } from "@runplane/redis-worker/redis";
import type { Redis } from "ioredis";
import type { Env } from "~/env.server";
import { BackgroundWorkerRegistry, backgroundWorkers } from "~/services/backgroundWorkers.server";
import type { Logger } from "~/services/logger.server";
import { registerRunStateGauges } from "~/services/runStateMetrics.server";
import { getSingleton, setSingleton } from "~/utils/singleton.server";
import type { RunOpsConfig } from "~/v3/runOpsMigration/config.server";
import { newIdWhileSplitOffPolicy } from "~/v3/runOpsMigration/splitOffGuard.server";
import { setupMetrics } from "~/services/metrics.server";
import { mollifierConfigFromEnv } from "~/v3/mollifier/config.server";
import { createMollifier, type Mollifier } from "~/v3/mollifier/mollifier.server";
import type { PacketService } from "~/v3/packets/packetService.server";
import { createPacketService } from "~/v3/packets/packetServiceFromEnv.server";
import { EnvironmentVariableService } from "~/v3/envvars/environmentVariables.server";
import { SecretBox } from "~/v3/envvars/secretBox.server";
import type { BulkActionService } from "~/v3/bulkActions/bulkActionService.server";
import { createBulkActionService } from "~/v3/bulkActions/bulkActionWiring.server";
import { createRunEvents, type RunEvents } from "~/v3/events/runEvents.server";

/**
 * The long-lived services, built once at boot (after the sentinels) and shared by every request:
 * routes read them from `context.runtime` in loaders/actions, or from `getRuntime()` in services.
 */
export type Runtime = {
  env: Env;
  logger: Logger;
  runOps: RunOpsConfig;
  /** Control-plane models (users, orgs, projects, environments, workers, queues). */
  prisma: ControlPlaneClient;
  /** Run tables, in whichever database owns each id. */
  runStore: RunStore;
  /** General-purpose connection; components needing their own (blocking reads, pub/sub) create one with createRedisClient. */
  redis: Redis;
  /** Control-plane lookups (environments, keys, worker versions), cached. */
  resolver: ControlPlaneResolver;
  /** The embedded run engine; its background jobs are registered as a background worker. */
  engine: RunEngine;
  backgroundWorkers: BackgroundWorkerRegistry;
  /** The burst buffer: gate, buffer, drainer and stale sweep (v3/mollifier). */
  mollifier: Mollifier;
  /** Offloaded payloads and outputs (object store + signed URLs). */
  packets: PacketService;
  /** Environment variables, encrypted at rest under ENCRYPTION_KEY. */
  envVars: EnvironmentVariableService;
  /** Bulk cancel / replay (processed by the "bulk-actions" background loop). */
  bulkActions: BulkActionService;
  /** Run traces: events store, OTLP ingest, engine lifecycle spans, retention (v3/events). */
  events: RunEvents;
  /** Releases the pools and connections; background workers must be stopped first. */
  close(): Promise<void>;
};

export function createRuntime(env: Env, runOps: RunOpsConfig, logger: Logger, registry = backgroundWorkers): Runtime {
  // before any instrument is created: instruments made on the no-op provider stay no-ops
  setupMetrics();
  // a mollifier misconfiguration fails boot with a named error before anything connects
  const mollifierConfig = mollifierConfigFromEnv(env);
  const prisma = createControlPlaneClient({
    connectionString: env.DATABASE_URL,
    max: env.DATABASE_POOL_SIZE,
    applicationName: "runplane-webapp",
  });
  const runStore = createRunStoreFromUrls({
    databaseUrl: env.DATABASE_URL,
    runOpsDatabaseUrl: runOps.runOpsDatabaseUrl,
    splitEnabled: runOps.splitEnabled,
    poolSize: env.DATABASE_POOL_SIZE,
    onNewIdWhileSplitOff: newIdWhileSplitOffPolicy(runOps.splitOff, logger),
    log: (level, message, fields) => logger[level](message, { component: "run-store", ...fields }),
  });
  const redis = createRedisClient(env.REDIS_URL, "runplane-webapp");
  redis.on("error", (error) => logger.warn("redis connection error", { error: error.message }));

  const resolver = new PrismaControlPlaneResolver({ client: prisma });
  const engine = new RunEngine({
    runStore: runStore.store,
    resolver,
    redis: env.REDIS_URL,
    mintKind: runOps.mintKind,
    keyPrefix: `${env.REDIS_KEY_PREFIX}engine:`,
    heartbeatTimeoutMs: env.RUN_ENGINE_HEARTBEAT_TIMEOUT_MS,
    logger: logger.child({ component: "run-engine" }),
    runQueue: { defaultEnvConcurrencyLimit: env.DEFAULT_ENV_CONCURRENCY_LIMIT },
    worker: { queueRepairIntervalMs: env.RUN_ENGINE_REPAIR_INTERVAL_MS },
    ...(env.RUNPLANE_TEST_FAILPOINT ? { failpoint: killAtFailpoint(env.RUNPLANE_TEST_FAILPOINT, logger) } : {}),
  });

  registerRunStateGauges(engine.runQueue);

  const mollifier = createMollifier({
    config: mollifierConfig,
    engine,
    runStore: runStore.store,
    logger: logger.child({ component: "mollifier" }),
    mintKind: runOps.mintKind,
  });

  const packets = createPacketService(env, runStore.store, runOps.mintKind);
  const events = createRunEvents({
    env,
    runOpsDatabaseUrl: runOps.runOpsDatabaseUrl,
    splitEnabled: runOps.splitEnabled,
    runStore: runStore.store,
    engine,
    logger: logger.child({ component: "run-events" }),
  });

  let closing: Promise<void> | null = null;
  return {
    env,
    logger,
    runOps,
    prisma,
    runStore: runStore.store,
    redis,
    resolver,
    engine,
    backgroundWorkers: registry,
    mollifier,
    packets,
    envVars: new EnvironmentVariableService(prisma, new SecretBox(env.ENCRYPTION_KEY)),
    bulkActions: createBulkActionService({ env, prisma, runStore: runStore.store, redis }),
    events,
    close: () =>
      (closing ??= (async () => {
        const results = await Promise.allSettled([
          engine.close(),
          prisma.$disconnect(),
          runStore.close(),
          closeRedis(redis),
          mollifier.close(),
          packets.close(),
          events.close(),
        ]);
        for (const result of results) {
          if (result.status === "rejected") logger.warn("error while closing a connection", { error: result.reason });
        }
      })()),
  };
}

/** QUIT when connected (flushes pending replies), otherwise drop the socket; resolves once closed. */
async function closeRedis(redis: Redis, timeoutMs = 2_000): Promise<void> {
  if (redis.status === "end") return;
  const ended = new Promise<void>((resolve) => redis.once("end", () => resolve()));
  if (redis.status === "ready") redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([ended, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  clearTimeout(timer);
  if ((redis.status as string) !== "end") redis.disconnect();
}

const RUNTIME_KEY = "runtime";

export function setRuntime(runtime: Runtime): Runtime {
  return setSingleton(RUNTIME_KEY, runtime);
}

/** The booted runtime. Throws when called before boot (e.g. from a module's top level). */
export function getRuntime(): Runtime {
  const runtime = getSingleton<Runtime>(RUNTIME_KEY);
  if (!runtime) throw new Error("The webapp runtime is not booted yet: call getRuntime() inside a request or after boot()");
  return runtime;
}

declare module "@remix-run/node" {
  interface AppLoadContext {
    /** The booted services, passed by server.ts's getLoadContext. */
    runtime: Runtime;
  }
}

/** Crash tests: the process dies (SIGKILL, no cleanup) the first time the engine reaches `name`. */
function killAtFailpoint(name: string, logger: Logger): (reached: string) => void {
  return (reached) => {
    if (reached !== name) return;
    logger.warn("test failpoint reached: killing the process", { failpoint: name });
    process.kill(process.pid, "SIGKILL");
  };
}

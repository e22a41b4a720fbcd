import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { getEnv, type Env } from "~/env.server";
import { formatBootBanner } from "~/services/bootBanner.server";
import { bootstrapInstance, type BootstrapResult } from "~/services/bootstrap.server";
import { registerBackgroundWorkers } from "~/services/backgroundWorkers.wiring.server";
import { logger as rootLogger } from "~/services/logger.server";
import { ApiRateLimiter, type ApiRateLimitResult } from "~/services/rateLimit/apiRateLimit.server";
import { createRuntime, setRuntime, type Runtime } from "~/services/runtime.server";
import { claimDeploymentKeyspaces } from "~/services/keyspaceClaim.server";
import { gracefulShutdown, installShutdownSignals } from "~/services/shutdown.server";
import { getSingleton, setSingleton } from "~/utils/singleton.server";
import { runBootSentinels } from "~/v3/runOpsMigration/bootSentinels.server";
import { runOpsConfigFromEnv } from "~/v3/runOpsMigration/config.server";
import { installMollifierDiversion } from "~/v3/mollifier/apiWiring.server";
import { createPacketObjectHandler } from "~/v3/packets/packetObjectHandler.server";

export type BootedApp = {
  env: Env;
  runtime: Runtime;
  bootstrap: BootstrapResult;
  /** Call once the HTTP server listens: prints the banner and installs the SIGTERM/SIGINT handlers. */
  onListening(server: Server): void;
  /** Stops workers, closes the server (if given) and the pools. */
  shutdown(server?: Server): Promise<void>;
  /** The per-environment API rate limit for one request (server.ts applies it to every /api/ path). */
  rateLimitApiRequest(path: string, authorization: string | undefined): Promise<ApiRateLimitResult>;
  /** Serves signed packet URLs (mounted at PACKET_OBJECT_ROUTE by server.ts). */
  handlePacketObject(req: IncomingMessage, res: ServerResponse): Promise<void>;
};

/**
 * The boot sequence, in order: parse the environment (fails on bad variables), run the split
 * sentinels (before anything is wired), build the long-lived services, bootstrap the default
 * org/project/keys, register and start background workers. Runs once per process; errors propagate
 * to the server entry, which prints them and exits 1.
 */
export function boot(): Promise<BootedApp> {
  return getSingleton<Promise<BootedApp>>("boot") ?? setSingleton("boot", runBoot());
}

async function runBoot(): Promise<BootedApp> {
  const env = getEnv();
  const logger = rootLogger;
  logger.setLevel(env.LOG_LEVEL);
  const runOps = runOpsConfigFromEnv(env);
  for (const note of runOps.notes) logger[note.level](note.message);

  await runBootSentinels(runOps, env, { logger });

  const runtime = setRuntime(createRuntime(env, runOps, logger));
  try {
    // before anything reads or writes a queue or the buffer
    await claimDeploymentKeyspaces({
      redis: runtime.redis,
      redisUrl: env.REDIS_URL,
      mollifierRedisUrl: env.MOLLIFIER_REDIS_URL,
      keyPrefix: env.REDIS_KEY_PREFIX,
      databaseUrl: env.DATABASE_URL,
    });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  // triggers over the per-env rate go to the mollifier's buffer (MOLLIFIER_ENABLED, per-org opt-out)
  installMollifierDiversion(runtime);
  let bootstrap: BootstrapResult;
  try {
    bootstrap = await bootstrapInstance(runtime.prisma, env);
    registerBackgroundWorkers(runtime);
    await runtime.backgroundWorkers.startAll();
  } catch (error) {
    await runtime.backgroundWorkers.stopAll(env.GRACEFUL_SHUTDOWN_TIMEOUT_MS).catch(() => []);
    await runtime.close();
    throw error;
  }
  logger.info("webapp booted", {
    nodeEnv: env.NODE_ENV,
    splitEnabled: runOps.splitEnabled,
    mintKind: runOps.mintKind,
    backgroundWorkers: runtime.backgroundWorkers.list(),
  });

  const shutdown = (server?: Server) =>
    gracefulShutdown({
      server,
      backgroundWorkers: runtime.backgroundWorkers,
      close: runtime.close,
      logger,
      deadlineMs: env.GRACEFUL_SHUTDOWN_TIMEOUT_MS,
    });

  const apiRateLimiter = new ApiRateLimiter(runtime);

  return {
    env,
    runtime,
    bootstrap,
    shutdown,
    rateLimitApiRequest: (path, authorization) => apiRateLimiter.check(path, authorization),
    handlePacketObject: createPacketObjectHandler(runtime.packets, logger.child({ component: "packets" })),
    onListening(server) {
      logger.info("listening", { port: env.PORT, appOrigin: env.APP_ORIGIN });
      process.stdout.write(
        formatBootBanner({ appOrigin: env.APP_ORIGIN, bootstrap, splitEnabled: runOps.splitEnabled }) + "\n"
      );
      installShutdownSignals(() => shutdown(server), { logger });
    },
  };
}

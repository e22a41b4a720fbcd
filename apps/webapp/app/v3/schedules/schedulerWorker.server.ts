import { BackgroundLoop } from "@runplane/core/lifecycle";
import type { BackgroundWorker } from "~/services/backgroundWorkers.server";
import type { Runtime } from "~/services/runtime.server";
import { triggerTaskService } from "~/runEngine/services/triggerTask.server";
import { Scheduler } from "./scheduler.server";
import { SchedulerLease } from "./schedulerLease.server";
import { SchedulerMetrics } from "./schedulerMetrics.server";

/**
 * The scheduler as a background worker: every SCHEDULER_INTERVAL_MS, try the lease and fire what is
 * due (a full batch asks for another pass at once). Stopping gives the lease up so another instance
 * takes over without waiting for it to expire.
 */
export function createSchedulerWorker(runtime: Runtime): BackgroundWorker & { scheduler: Scheduler } {
  const logger = runtime.logger.child({ component: "scheduler" });
  const lease = new SchedulerLease(runtime.redis, `${runtime.env.REDIS_KEY_PREFIX}scheduler:lease`, runtime.env.SCHEDULER_LEASE_MS);
  const scheduler = new Scheduler({
    prisma: runtime.prisma,
    resolver: runtime.resolver,
    trigger: (request) => triggerTaskService.call(request),
    lease,
    metrics: new SchedulerMetrics(),
    logger,
  });
  const loop = new BackgroundLoop({
    name: "scheduler",
    intervalMs: runtime.env.SCHEDULER_INTERVAL_MS,
    tick: async () => (await scheduler.runPass()).more,
    onError: (error) => logger.warn("scheduler pass failed", { error: error instanceof Error ? error.message : String(error) }),
  });
  return {
    name: "scheduler",
    scheduler,
    start: () => loop.start(),
    stop: async (deadlineMs: number) => {
      const stopped = await loop.stop(deadlineMs);
      await lease.release().catch((error: unknown) => logger.warn("scheduler lease release failed", { error: String(error) }));
      return stopped;
    },
  };
}

export function registerSchedulerBackgroundWorker(runtime: Runtime): void {
  runtime.backgroundWorkers.register(createSchedulerWorker(runtime), { enabled: runtime.env.SCHEDULER_ENABLED });
}

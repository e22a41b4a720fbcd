import type { Runtime } from "~/services/runtime.server";
import { registerRealtimeBackgroundWorker } from "~/v3/realtime/realtimeService.server";
import { registerSchedulerBackgroundWorker } from "~/v3/schedules/schedulerWorker.server";
import { longPolls } from "~/v3/workerProtocol/longPolls.server";
import { bulkActionLoop } from "~/v3/bulkActions/bulkActionWiring.server";
import { packetRetentionLoop } from "~/v3/packets/packetRetention.server";

/**
 * Where each feature adds its background loops, behind its flag. A `BackgroundLoop` from
 * @runplane/core, or any `{ name, start(), stop(deadlineMs) }`, can be registered. Boot calls this
 * once, after the runtime is built and before `startAll()`.
 */
export function registerBackgroundWorkers(runtime: Runtime): void {
  runtime.backgroundWorkers.register(
    {
      name: "run-engine",
      start: () => runtime.engine.start(),
      stop: async (deadlineMs: number) => {
        await runtime.engine.stop(deadlineMs);
        return true;
      },
    },
    { enabled: runtime.env.RUN_ENGINE_WORKER_ENABLED }
  );
  registerRealtimeBackgroundWorker(runtime);
  registerSchedulerBackgroundWorker(runtime);
  const { mollifier } = runtime;
  runtime.backgroundWorkers.register(mollifier.drainerWorker, { enabled: mollifier.config.drainer.enabled });
  runtime.backgroundWorkers.register(mollifier.staleSweepWorker, { enabled: mollifier.config.staleSweep.enabled });
  runtime.backgroundWorkers.register(bulkActionLoop(runtime.bulkActions, runtime.logger.child({ component: "bulk-actions" })), {
    enabled: runtime.env.BULK_ACTION_WORKER_ENABLED,
  });
  runtime.backgroundWorkers.register(runtime.events.retention);
  runtime.backgroundWorkers.register(packetRetentionLoop(runtime));
  // Not a loop: stopping it answers held worker long-polls (dequeue, continue) at once on shutdown.
  runtime.backgroundWorkers.register({ name: "worker-long-polls", start: () => longPolls.start(), stop: () => longPolls.stop() });
}

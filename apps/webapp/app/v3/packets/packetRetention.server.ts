import { BackgroundLoop } from "@runplane/core/lifecycle";
import type { Runtime } from "~/services/runtime.server";

/**
 * Offloaded payloads and outputs follow the run events' retention (EVENT_RETENTION_DAYS, checked every
 * EVENT_RETENTION_INTERVAL_MS): packets written before the cutoff are deleted from the object store.
 * Deleting is idempotent, so several instances running the loop only repeat each other's work.
 */
export function packetRetentionLoop(runtime: Pick<Runtime, "env" | "packets" | "logger">): BackgroundLoop {
  const { env, packets, logger } = runtime;
  return new BackgroundLoop({
    name: "packet-retention",
    intervalMs: env.EVENT_RETENTION_INTERVAL_MS,
    tick: async () => {
      const deleted = await packets.expire(new Date(), env.EVENT_RETENTION_DAYS);
      if (deleted > 0) logger.info("deleted expired packets", { deleted, retentionDays: env.EVENT_RETENTION_DAYS });
    },
    onError: (error) => logger.warn("packet retention tick failed", { error: error instanceof Error ? error.message : String(error) }),
  });
}

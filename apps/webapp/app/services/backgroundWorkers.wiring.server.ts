import type { Runtime } from "~/services/runtime.server";

/**
 * Where each feature adds its background loops, behind its flag, e.g.
 *
 *   runtime.backgroundWorkers.register(createMollifierDrainer(runtime), {
 *     enabled: runtime.env.MOLLIFIER_ENABLED && runtime.env.MOLLIFIER_DRAINER_ENABLED,
 *   });
 *
 * A `BackgroundLoop` from @runplane/core can be registered as is. Boot calls this once, after the
 * runtime is built and before `startAll()`.
 */
export function registerBackgroundWorkers(runtime: Runtime): void {
  void runtime;
}

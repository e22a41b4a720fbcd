import { metrics, type Meter } from "@opentelemetry/api";
import type { RunQueue } from "@internal/run-engine";

export const RUN_STATE_METRICS = {
  executing: "runplane.runs.executing",
  waiting: "runplane.runs.waiting",
} as const;

/**
 * `/metrics` gauges of the run queue, summed per environment type (never an environment or run id):
 * runs executing (holding a slot) and runs waiting, `state` = blocked (on waitpoints) or continuing
 * (waitpoints done, queued for a slot). One scan of the queue per scrape serves both gauges.
 */
export function registerRunStateGauges(runQueue: Pick<RunQueue, "runStateCounts">, meter: Meter = metrics.getMeter("runplane.run-queue")): void {
  const executing = meter.createObservableGauge(RUN_STATE_METRICS.executing, { description: "Runs executing (holding an environment slot), per environment type" });
  const waiting = meter.createObservableGauge(RUN_STATE_METRICS.waiting, { description: "Runs waiting, per environment type: blocked on waitpoints, or continuing (queued for a slot)" });
  meter.addBatchObservableCallback(
    async (result) => {
      const totals = new Map<string, { executing: number; blocked: number; continuing: number }>();
      for (const type of ["PRODUCTION", "STAGING", "DEVELOPMENT", "PREVIEW"]) totals.set(type, { executing: 0, blocked: 0, continuing: 0 });
      for (const env of (await runQueue.runStateCounts()).values()) {
        const sum = totals.get(env.environmentType) ?? { executing: 0, blocked: 0, continuing: 0 };
        for (const q of env.queues.values()) {
          sum.executing += q.executing;
          sum.blocked += q.blocked;
          sum.continuing += q.continuing;
        }
        totals.set(env.environmentType, sum);
      }
      for (const [type, sum] of totals) {
        result.observe(executing, sum.executing, { environment_type: type });
        result.observe(waiting, sum.blocked, { environment_type: type, state: "blocked" });
        result.observe(waiting, sum.continuing, { environment_type: type, state: "continuing" });
      }
    },
    [executing, waiting]
  );
}

import { engineStore } from "@internal/run-store";
import type { Attempts } from "./attempts.js";
import type { AfterEffects } from "./core.js";
import { type EngineDeps, EnginePart } from "./enginePart.js";
import type { RunFinishing } from "./finishing.js";
import { queueMessageFor } from "./queueMessage.js";
import { isExecuting } from "./statuses.js";

/** Heartbeat stalls and max duration. */
export class Stalls extends EnginePart {
  constructor(deps: EngineDeps, private readonly attempts: Attempts, private readonly finishing: RunFinishing) {
    super(deps);
  }

  async handleStalledSnapshot(runId: string, snapshotId: string): Promise<void> {
    const after: AfterEffects = [];
    await this.core.lockRun(runId, async () => {
      const latest = await this.core.latestSnapshot(runId);
      if (!latest || latest.id !== snapshotId) return;
      const run = await this.core.requireRun(runId);
      switch (latest.executionStatus) {
        case "PENDING_EXECUTING": {
          const nacked = await this.runQueue.nackMessage(runId, { retryAt: Date.now() });
          if (nacked === "dead_lettered") {
            await this.finishing.failPermanently(run, latest, { type: "INTERNAL_ERROR", code: "TASK_RUN_DEQUEUED_MAX_RETRIES" }, run.usageDurationMs, after);
            return;
          }
          if (nacked === "not_found") await this.runQueue.enqueueMessage(queueMessageFor(run), { replace: true });
          await this.core.transition(run, latest, {
            run: { status: "PENDING" },
            snapshot: { executionStatus: "QUEUED", description: "Run was requeued: the worker never started it" },
          });
          return;
        }
        case "EXECUTING":
        case "EXECUTING_WITH_WAITPOINTS": {
          await engineStore.deleteBlockingEdges(this.core.store, runId);
          const code = latest.executionStatus === "EXECUTING" ? "TASK_RUN_STALLED_EXECUTING" : "TASK_RUN_STALLED_EXECUTING_WITH_WAITPOINTS";
          await this.attempts.completeFailure(
            run,
            latest,
            { ok: false, error: { type: "INTERNAL_ERROR", code, message: "The worker stopped sending heartbeats" } },
            run.usageDurationMs,
            after,
            true
          );
          return;
        }
        case "PENDING_CANCEL":
          await this.finishing.finalizeCancel(run, latest, after);
          return;
        default:
          return;
      }
    });
    await this.core.runAfter(after);
  }

  async handleMaxDuration(runId: string, attemptNumber: number): Promise<void> {
    const after: AfterEffects = [];
    await this.core.lockRun(runId, async () => {
      const latest = await this.core.latestSnapshot(runId);
      const run = await engineStore.findRunById(this.core.store, runId);
      if (!latest || !run || !isExecuting(latest.executionStatus) || run.attemptNumber !== attemptNumber) return;
      await engineStore.deleteBlockingEdges(this.core.store, runId);
      await this.finishing.failPermanently(
        run,
        latest,
        { type: "INTERNAL_ERROR", code: "MAX_DURATION_EXCEEDED", message: `Run exceeded its maximum duration of ${run.maxDurationInSeconds}s` },
        run.usageDurationMs,
        after
      );
    });
    await this.core.runAfter(after);
  }
}

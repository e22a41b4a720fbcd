import { type TaskRun, type TaskRunExecutionSnapshot, engineStore } from "@internal/run-store";
import type { TaskRunErrorShape } from "../eventBus/index.js";
import { finalStatusForError } from "../retry/index.js";
import { type AfterEffects, jobIds } from "./core.js";
import { EnginePart } from "./enginePart.js";
import { FINAL_RUN_STATUSES } from "./statuses.js";

/**
 * Ending a run: final failure, cancel finalisation (with the cascade to waited children), the RUN
 * waitpoint's error, and the post-commit work every final status shares.
 */
export class RunFinishing extends EnginePart {
  /** The run ends in the status its error calls for; its RUN waitpoint completes with the error. */
  async failPermanently(
    run: TaskRun,
    latest: TaskRunExecutionSnapshot,
    error: TaskRunErrorShape,
    usage: number = run.usageDurationMs,
    after: AfterEffects = []
  ): Promise<{ run: TaskRun; snapshot: TaskRunExecutionSnapshot }> {
    const status = finalStatusForError(error);
    if (status === "CANCELED") return this.finalizeCancel(run, latest, after);
    const now = new Date();
    const result = await this.core.transition(run, latest, {
      run: { status, completedAt: now, error: error as never, usageDurationMs: usage },
      snapshot: { executionStatus: "FINISHED", description: "Run failed" },
    });
    await engineStore.deleteBlockingEdges(this.core.store, run.id);
    await this.runQueue.acknowledgeMessage(run.id);
    await this.core.jobs.ack(jobIds.maxDuration(run.id));
    after.push(() => this.completeRunWaitpointWithError(run.id, error));
    this.afterFinished(result.run, after);
    this.eventBus.emit("runFailed", {
      time: now,
      run: {
        id: run.id,
        status,
        error,
        completedAt: now,
        attemptNumber: result.run.attemptNumber,
        usageDurationMs: result.run.usageDurationMs,
      },
      ...this.core.tenancy(run),
    });
    return result;
  }

  async completeRunWaitpointWithError(runId: string, error: TaskRunErrorShape): Promise<void> {
    const waitpoint = await engineStore.findRunWaitpoint(this.core.store, runId);
    if (waitpoint) {
      await this.waitpoints.completeWaitpoint(waitpoint.id, { output: JSON.stringify(error), outputType: "application/json", isError: true }, { route: "RUN", ownerId: runId });
    }
  }

  /** Post-commit work common to every final status. */
  afterFinished(run: TaskRun, after: AfterEffects): void {
    const batchId = run.batchId;
    if (batchId) after.push(() => this.batches.tryCompleteBatch(batchId));
    // Only a run with an idempotency key can be another batch's (cached) item.
    if (run.idempotencyKey) after.push(() => this.batches.completeBatchesListing(run));
  }

  async finalizeCancel(
    run: TaskRun,
    latest: TaskRunExecutionSnapshot,
    after: AfterEffects,
    reason?: string,
    completedAt?: Date
  ): Promise<{ run: TaskRun; snapshot: TaskRunExecutionSnapshot }> {
    const existingReason = (run.error as { raw?: string } | null)?.raw;
    const error: TaskRunErrorShape = { type: "STRING_ERROR", raw: reason ?? existingReason ?? "Canceled by user" };
    const now = completedAt ?? new Date();
    const result = await this.core.transition(run, latest, {
      run: { status: "CANCELED", completedAt: now, error: error as never },
      snapshot: { executionStatus: "FINISHED", description: "Run was cancelled, not finished" },
    });
    await engineStore.deleteBlockingEdges(this.core.store, run.id);
    await this.runQueue.acknowledgeMessage(run.id);
    await Promise.all([this.core.jobs.ack(jobIds.delayed(run.id)), this.core.jobs.ack(jobIds.maxDuration(run.id))]);
    after.push(() => this.completeRunWaitpointWithError(run.id, error));
    after.push(() => this.cascadeCancel(run.id, error.type === "STRING_ERROR" ? error.raw : "Canceled by user"));
    this.afterFinished(result.run, after);
    this.eventBus.emit("runCancelled", {
      time: new Date(),
      run: { id: run.id, friendlyId: run.friendlyId, status: "CANCELED", error, completedAt: now, attemptNumber: result.run.attemptNumber },
      ...this.core.tenancy(run),
    });
    return result;
  }

  /** Children triggered-and-waited by a cancelled run are cancelled too (jobs, so deep trees are fine). */
  async cascadeCancel(runId: string, reason: string): Promise<void> {
    const children = await engineStore.findWaitedChildren(this.core.store, runId, FINAL_RUN_STATUSES);
    await Promise.all(
      children.map((childId) => this.core.jobs.enqueueOnce({ id: jobIds.cancel(childId), job: "cancelRun", payload: { runId: childId, reason } }))
    );
  }
}

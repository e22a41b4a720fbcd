import type { TaskRun } from "@internal/run-store";
import { type AfterEffects, runIdOf } from "./core.js";
import { type EngineDeps, EnginePart } from "./enginePart.js";
import { RunNotFoundError } from "./errors.js";
import type { RunFinishing } from "./finishing.js";
import { isExecuting } from "./statuses.js";

export type CancelRunOptions = {
  reason?: string;
  /** Finish at once even when a worker is executing the run (the worker acknowledged, or gave up). */
  finalize?: boolean;
  completedAt?: Date;
};

export type CancelRunResult = { alreadyFinished: boolean; run: TaskRun; pendingCancel: boolean };

/** Cancelling a run (at once, or PENDING_CANCEL while a worker executes it). */
export class Cancelling extends EnginePart {
  constructor(deps: EngineDeps, private readonly finishing: RunFinishing) {
    super(deps);
  }

  async cancelRun(runIdOrFriendly: string, options: CancelRunOptions = {}): Promise<CancelRunResult> {
    const runId = runIdOf(runIdOrFriendly);
    const after: AfterEffects = [];
    const result = await this.core.lockRun(runId, async (): Promise<CancelRunResult> => {
      const run = await this.core.requireRun(runId);
      const latest = await this.core.latestSnapshot(runId);
      if (!latest) throw new RunNotFoundError(runId);
      if (latest.executionStatus === "FINISHED") return { alreadyFinished: true, run, pendingCancel: false };
      const reason = options.reason ?? "Canceled by user";
      if (latest.executionStatus === "PENDING_CANCEL" && !options.finalize) return { alreadyFinished: false, run, pendingCancel: true };
      const workerHasIt = isExecuting(latest.executionStatus);
      if (workerHasIt && !options.finalize) {
        const { run: updated } = await this.core.transition(run, latest, {
          run: { status: "CANCELED", error: { type: "STRING_ERROR", raw: reason } as never },
          snapshot: { executionStatus: "PENDING_CANCEL", description: "Run was cancelled" },
        });
        after.push(() => this.finishing.cascadeCancel(runId, reason));
        return { alreadyFinished: false, run: updated, pendingCancel: true };
      }
      const finished = await this.finishing.finalizeCancel(run, latest, after, reason, options.completedAt);
      return { alreadyFinished: false, run: finished.run, pendingCancel: false };
    });
    await this.core.runAfter(after);
    return result;
  }
}

import { engineStore } from "@internal/run-store";
import type { TaskRunErrorShape } from "../eventBus/index.js";
import { type AfterEffects, describeError } from "./core.js";
import { type EngineDeps, EnginePart } from "./enginePart.js";
import type { RunFinishing } from "./finishing.js";

/** TTL: queued runs past their ttl become EXPIRED. */
export class TtlExpiry extends EnginePart {
  constructor(deps: EngineDeps, private readonly finishing: RunFinishing) {
    super(deps);
  }

  /** One TTL sweep: queued runs past their ttl become EXPIRED. Returns true when there may be more. */
  async expireDueRuns(limit = 100): Promise<boolean> {
    const runIds = await this.runQueue.popExpiredMessages(Date.now(), limit);
    for (const runId of runIds) {
      try {
        await this.expireRun(runId);
      } catch (error) {
        this.logger.error("ttl: failed to expire run", { runId, error: describeError(error) });
      }
    }
    return runIds.length >= limit;
  }

  async expireRun(runId: string): Promise<void> {
    const after: AfterEffects = [];
    await this.core.lockRun(runId, async () => {
      const run = await engineStore.findRunById(this.core.store, runId);
      const latest = await this.core.latestSnapshot(runId);
      if (!run || !latest || latest.executionStatus !== "QUEUED" || run.status !== "PENDING" || run.lockedAt) return;
      const now = new Date();
      const error: TaskRunErrorShape = { type: "STRING_ERROR", raw: `Run expired because the TTL (${run.ttl}) was reached` };
      const { run: updated } = await this.core.transition(run, latest, {
        run: { status: "EXPIRED", completedAt: now, expiredAt: now, error: error as never },
        snapshot: { executionStatus: "FINISHED", description: "Run expired because the TTL was reached" },
      });
      after.push(() => this.finishing.completeRunWaitpointWithError(runId, error));
      this.finishing.afterFinished(updated, after);
      this.eventBus.emit("runExpired", {
        time: now,
        run: { id: runId, status: "EXPIRED", ttl: run.ttl, expiredAt: now, completedAt: now },
        ...this.core.tenancy(run),
      });
    });
    await this.core.runAfter(after);
  }
}

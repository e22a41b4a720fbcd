import { engineStore, type TaskRun, type TaskRunExecutionSnapshot } from "@internal/run-store";
import { describeError, jobIds, type EngineCore } from "./core.js";
import { queueMessageFor } from "./queueMessage.js";

/** What `ensureRunQueued` found or did. */
export type EnsureRunQueuedResult =
  | "requeued" // the run was dequeueable with no queue message: it was (re)enqueued
  | "already_queued" // a queued or in-progress message exists: nothing to do
  | "delay_pending" // DELAYED with its delay still ahead or its enqueue job still scheduled
  | "not_dequeueable" // executing, waiting, finished, parked for a version…
  | "not_found";

export type QueueRepairOptions = {
  /** Runs must have waited this long before the sweep looks at them (default 60 s). */
  minAgeMs?: number;
  /** Runs read per database per page (default 100). */
  pageSize?: number;
  /** Pages per sweep tick (default 5): the rest waits for the next tick (the cursor is kept). */
  maxPagesPerTick?: number;
};

/**
 * No accepted run is left without a queue message. A process that died (or a Redis that failed)
 * between writing the TaskRun row and the run-queue message leaves a QUEUED run nobody will dequeue;
 * `ensureRunQueued` puts it back, idempotently (the queue keeps one message per run id), and a
 * bounded periodic sweep pages through waiting runs of every database calling it.
 */
export class QueueRepair {
  /** Where each scan (all environments: "") stands between ticks. */
  readonly #cursors = new Map<string, engineStore.QueueRepairCursor>();

  #slotCursor = "0";

  constructor(
    private readonly core: EngineCore,
    private readonly options: QueueRepairOptions = {},
    /** Continues a waiting run whose waitpoints completed (WaitpointSystem.continueLocked), under the run lock. */
    private readonly continueWaiting: (runId: string) => Promise<unknown> = async () => undefined
  ) {}

  async ensureRunQueued(runId: string): Promise<EnsureRunQueuedResult> {
    return this.core.lockRun(runId, async () => {
      const [run, latest] = await Promise.all([engineStore.findRunById(this.core.store, runId), this.core.latestSnapshot(runId)]);
      if (!run || !latest) return "not_found";
      if (latest.executionStatus === "QUEUED") {
        if (await this.core.runQueue.peekMessage(runId)) return "already_queued";
        // The TTL runs from when the run was queued (a run locked before never expires).
        const ttlFrom = run.lockedAt ? undefined : (run.queuedAt ?? run.createdAt).getTime();
        await this.core.runQueue.enqueueMessage(queueMessageFor(run, ttlFrom));
        this.core.logger.warn("queue repair: a queued run had no queue message; requeued", { runId });
        return "requeued";
      }
      if (latest.executionStatus === "DELAYED" && run.status === "DELAYED") {
        if (run.delayUntil && run.delayUntil.getTime() > Date.now()) return "delay_pending";
        if (await this.core.jobs.get(jobIds.delayed(runId))) return "delay_pending";
        await this.queueDelayedRun(run, latest);
        this.core.logger.warn("queue repair: a delayed run past its delay had no enqueue job; queued", { runId });
        return "requeued";
      }
      return "not_dequeueable";
    });
  }

  /** A DELAYED run whose delay passed becomes QUEUED with its message. Call under the run lock. */
  async queueDelayedRun(run: TaskRun, latest: TaskRunExecutionSnapshot): Promise<void> {
    const { run: updated } = await this.core.transition(run, latest, {
      run: { status: "PENDING", queuedAt: new Date() },
      snapshot: { executionStatus: "QUEUED", description: "Run was QUEUED, its delay has passed" },
    });
    await this.core.runQueue.enqueueMessage(queueMessageFor(updated, Date.now()));
  }

  /**
   * Slots no one may hold: a waiting run (EXECUTING_WITH_WAITPOINTS) still holding its env slot — the
   * process died between the block transition (Postgres) and the release (Redis), or between taking
   * the slots back and the continue transition — gets them released and is continued if its
   * waitpoints are done; a finished run's leftover message is acknowledged. Under the run lock, so a
   * block or continue in progress is never mistaken for a crash.
   */
  async repairHeldSlots(runId: string): Promise<"released" | "acknowledged" | "ok"> {
    return this.core.lockRun(runId, async () => {
      const peeked = await this.core.runQueue.peekMessage(runId);
      if (!peeked?.holdsConcurrency) return "ok";
      const latest = await this.core.latestSnapshot(runId);
      if (!latest || latest.executionStatus === "FINISHED") {
        await this.core.runQueue.acknowledgeMessage(runId);
        this.core.logger.warn("queue repair: a finished run still held its slots; acknowledged", { runId });
        return "acknowledged";
      }
      if (latest.executionStatus !== "EXECUTING_WITH_WAITPOINTS") return "ok";
      await this.core.runQueue.releaseConcurrency(runId, { onWaitpoint: true });
      this.core.logger.warn("queue repair: a waiting run still held its slots; released", { runId });
      await this.continueWaiting(runId);
      return "released";
    });
  }

  /** One page (cursor kept between ticks) of in-progress messages checked with `repairHeldSlots`. */
  async sweepHeldSlots(): Promise<{ scanned: number; repaired: number; done: boolean }> {
    const page = await this.core.runQueue.scanInProgress(this.#slotCursor, (this.options.pageSize ?? 100) * (this.options.maxPagesPerTick ?? 5));
    this.#slotCursor = page.cursor;
    let repaired = 0;
    for (const run of page.runs) {
      if (!run.holdsEnvSlot) continue;
      try {
        if ((await this.repairHeldSlots(run.runId)) !== "ok") repaired++;
      } catch (error) {
        this.core.logger.error("queue repair: could not check a run's slots", { runId: run.runId, error: describeError(error) });
      }
    }
    return { scanned: page.runs.length, repaired, done: page.cursor === "0" };
  }

  /**
   * One bounded sweep step: up to `maxPagesPerTick` pages of runs waiting longer than `minAgeMs`,
   * resuming where the last step stopped, then a page of held slots. Returns how many runs were requeued.
   */
  async sweep(input: { environmentId?: string; minAgeMs?: number } = {}): Promise<{ scanned: number; requeued: number; done: boolean }> {
    if (input.environmentId === undefined) await this.sweepHeldSlots();
    const olderThan = new Date(Date.now() - (input.minAgeMs ?? this.options.minAgeMs ?? 60_000));
    const limit = this.options.pageSize ?? 100;
    const scope = input.environmentId ?? "";
    let scanned = 0;
    let requeued = 0;
    for (let page = 0; page < (this.options.maxPagesPerTick ?? 5); page++) {
      const { runIds, next } = await engineStore.findQueueRepairCandidates(this.core.store, {
        olderThan,
        cursor: this.#cursors.get(scope),
        limit,
        environmentId: input.environmentId,
      });
      for (const runId of runIds) {
        scanned++;
        try {
          if ((await this.ensureRunQueued(runId)) === "requeued") requeued++;
        } catch (error) {
          this.core.logger.error("queue repair: could not check a run", { runId, error: describeError(error) });
        }
      }
      if (next) this.#cursors.set(scope, next);
      else this.#cursors.delete(scope);
      if (!next) return { scanned, requeued, done: true };
    }
    return { scanned, requeued, done: false };
  }
}

import { assertInheritedResidency, engineStore, type BatchTaskRun, type TaskRun, type Waitpoint } from "@internal/run-store";
import { fromFriendlyId, generateFriendlyId, generateInternalId, toFriendlyId, ValidationError, type MintKind } from "@runplane/core";
import { mintKindOf, randomKey, type EngineCore } from "../engine/core.js";
import { FINAL_RUN_STATUSES, isFinalRunStatus } from "../engine/statuses.js";
import type { EngineEnvironment } from "../engine/types.js";
import type { WaitpointSystem } from "../waitpoints/waitpointSystem.js";

export const MAX_BATCH_RUN_COUNT = 1000;

export type CreateBatchInput = {
  environment: EngineEnvironment;
  runCount: number;
  /** `batch_<id>`; minted when absent (parent's id shape, else the engine's mint kind). */
  friendlyId?: string;
  idempotencyKey?: string;
  parentRunId?: string;
  /** batchTriggerAndWait: the parent blocks on the batch's waitpoint until every item finished. */
  resumeParentOnCompletion?: boolean;
};

export type CreateBatchResult = { batch: BatchTaskRun; waitpoint: Waitpoint | null; isCached: boolean };

/** Batches: creation (with the parent's BATCH waitpoint) and completion tracking. */
export class BatchSystem {
  constructor(
    private readonly core: EngineCore,
    private readonly waitpoints: WaitpointSystem,
    private readonly defaultMintKind: MintKind
  ) {}

  async createBatch(input: CreateBatchInput): Promise<CreateBatchResult> {
    const env = input.environment;
    if (!Number.isInteger(input.runCount) || input.runCount < 0) throw new ValidationError("runCount must be a non-negative integer");
    if (input.runCount > MAX_BATCH_RUN_COUNT) {
      throw new ValidationError(`Batch runCount of ${input.runCount} exceeds maximum allowed of ${MAX_BATCH_RUN_COUNT}.`);
    }
    if (input.idempotencyKey) {
      const existing = await engineStore.findBatchByIdempotencyKey(this.core.store, env.id, input.idempotencyKey);
      if (existing) return { batch: existing, waitpoint: await engineStore.findBatchWaitpoint(this.core.store, existing.id), isCached: true };
    }
    const parentId = input.parentRunId ? fromFriendlyId(input.parentRunId, "run") : undefined;
    const kind: MintKind = parentId ? mintKindOf(parentId) : this.defaultMintKind;
    if (input.friendlyId) assertInheritedResidency({ id: input.friendlyId, parentRunId: parentId, what: "batch" });
    const friendlyId = input.friendlyId ?? generateFriendlyId("batch", kind);
    const id = fromFriendlyId(friendlyId, "batch");
    let batch: BatchTaskRun;
    try {
      batch = await engineStore.createBatchRow(this.core.store, {
        id,
        friendlyId,
        idempotencyKey: input.idempotencyKey ?? null,
        runtimeEnvironmentId: env.id,
        projectId: env.projectId,
        organizationId: env.organizationId,
        status: "PENDING",
        runIds: [],
        runCount: input.runCount,
        expectedCount: input.runCount,
        parentRunId: parentId ?? null,
        resumeParentOnCompletion: Boolean(input.resumeParentOnCompletion && parentId),
      });
    } catch (error) {
      if (input.idempotencyKey && engineStore.isUniqueViolation(error)) {
        const existing = await engineStore.findBatchByIdempotencyKey(this.core.store, env.id, input.idempotencyKey);
        if (existing) return { batch: existing, waitpoint: await engineStore.findBatchWaitpoint(this.core.store, existing.id), isCached: true };
      }
      throw error;
    }
    let waitpoint: Waitpoint | null = null;
    if (input.resumeParentOnCompletion && parentId) {
      const wpId = generateInternalId("LEGACY");
      waitpoint = await engineStore.createWaitpointRow(this.core.store, batch.id, {
        id: wpId,
        friendlyId: toFriendlyId("waitpoint", wpId),
        type: "BATCH",
        idempotencyKey: `batch:${batch.id}:${randomKey()}`,
        completedByBatchId: batch.id,
        projectId: env.projectId,
        environmentId: env.id,
        tags: [],
      });
      await this.waitpoints.blockRunInternal(parentId, [waitpoint.id], { batch: { id: batch.id } });
    }
    if (input.runCount === 0) await this.tryCompleteBatch(batch.id);
    return { batch, waitpoint, isCached: false };
  }

  /** Called whenever a batched run finishes. Exactly one caller flips the batch and completes its waitpoint. */
  async tryCompleteBatch(batchId: string): Promise<void> {
    const batch = await engineStore.findBatchById(this.core.store, batchId);
    if (!batch || batch.status === "COMPLETED" || batch.status === "PARTIAL_FAILED" || batch.status === "ABORTED") return;
    const counts = await this.#countItems(batch);
    const failed = counts.final - counts.succeeded;
    if (counts.final < batch.runCount) {
      await engineStore.updateBatchProgress(this.core.store, batch.id, {
        completedCount: counts.final,
        successfulRunCount: counts.succeeded,
        failedRunCount: failed,
      });
      return;
    }
    const errors = await engineStore.countBatchErrors(this.core.store, batch.id);
    const { completedNow } = await engineStore.updateBatchProgress(this.core.store, batch.id, {
      completedCount: counts.final,
      successfulRunCount: counts.succeeded,
      failedRunCount: failed,
      complete: { status: errors > 0 ? "PARTIAL_FAILED" : "COMPLETED", completedAt: new Date() },
    });
    if (!completedNow) return;
    const waitpoint = await engineStore.findBatchWaitpoint(this.core.store, batch.id);
    if (waitpoint) {
      await this.waitpoints.completeWaitpoint(
        waitpoint.id,
        { output: JSON.stringify({ id: batch.friendlyId, runCount: batch.runCount, successful: counts.succeeded, failed }) },
        { route: "BATCH", ownerId: batch.id }
      );
    }
  }

  /**
   * The batch's items: its own runs (by batchId) and, when those fall short, the runs it lists by id
   * that belong elsewhere (an item whose idempotency key returned an existing run).
   */
  async #countItems(batch: BatchTaskRun): Promise<{ total: number; final: number; succeeded: number }> {
    const own = await engineStore.countBatchRuns(this.core.store, batch.runtimeEnvironmentId, batch.id, FINAL_RUN_STATUSES);
    if (own.total >= batch.runCount || batch.runIds.length === 0) return own;
    const listed = batch.runIds.map((id) => fromFriendlyId(id, "run"));
    const foreign = await engineStore.countForeignBatchItems(this.core.store, batch.id, listed, FINAL_RUN_STATUSES);
    return { total: own.total + foreign.total, final: own.final + foreign.final, succeeded: own.succeeded + foreign.succeeded };
  }

  /**
   * A batch item whose idempotency key returned a run from outside the batch: the batch lists it, and
   * counts it when it finishes (at once when it already has). Listing before reading the status means
   * a run finishing meanwhile either sees the listing or is seen finished.
   */
  async linkCachedItem(batchId: string, run: TaskRun): Promise<void> {
    if (run.batchId === batchId) return;
    await engineStore.appendBatchRunId(this.core.store, batchId, run.friendlyId);
    const current = await engineStore.findRunById(this.core.store, run.id);
    if (current && isFinalRunStatus(current.status)) await this.tryCompleteBatch(batchId);
  }

  /** After a run with an idempotency key finished: the batches that reused it as an item may be done. */
  async completeBatchesListing(run: TaskRun): Promise<void> {
    const batchIds = await engineStore.findOpenBatchesListingRun(this.core.store, run.runtimeEnvironmentId, run.friendlyId);
    for (const batchId of batchIds) if (batchId !== run.batchId) await this.tryCompleteBatch(batchId);
  }

  async recordItemError(batchId: string, item: { index: number; taskIdentifier: string; error: string; errorCode?: string; payload?: string }) {
    await engineStore.recordBatchItemError(this.core.store, { id: generateInternalId("LEGACY"), batchTaskRunId: batchId, ...item });
  }
}

import { type RunCreateData, type TaskRun, engineStore } from "@internal/run-store";
import { fromFriendlyId, generateInternalId, toFriendlyId } from "@runplane/core";
import type { TaskRunErrorShape } from "../eventBus/index.js";
import { sanitizeError } from "../retry/index.js";
import { mintKindOf, randomKey, runIdOf } from "./core.js";
import { ttlToString } from "./durations.js";
import { EnginePart } from "./enginePart.js";
import { CreateCancelledRunConflictError } from "./errors.js";
import type { EngineEnvironment, TriggerInput } from "./types.js";

export type CreateCancelledRunInput = {
  snapshot: TriggerInput & { friendlyId: string };
  cancelledAt: Date;
  cancelReason: string;
  emitRunCancelledEvent?: boolean;
};

export type CreateFailedTaskRunInput = {
  friendlyId: string;
  environment: EngineEnvironment;
  taskIdentifier: string;
  payload?: string;
  payloadType?: string;
  error: TaskRunErrorShape;
  parentTaskRunId?: string;
  rootTaskRunId?: string;
  depth?: number;
  resumeParentOnCompletion?: boolean;
  batch?: { id: string; index: number };
  traceId?: string;
  spanId?: string;
  queue?: string;
  lockedQueueId?: string;
  emitRunFailedEvent?: boolean;
};

/**
 * Pre-materialised rows (mollifier drainer, batch items that could not trigger): runs written straight
 * into CANCELED or SYSTEM_FAILURE.
 */
export class PreMaterialisedRuns extends EnginePart {
  /** Writes a run straight into CANCELED from its trigger params (a cancel that beat the buffered trigger). */
  async createCancelledRun(input: CreateCancelledRunInput): Promise<TaskRun> {
    const t = input.snapshot;
    const env = t.environment;
    await this.core.resolver.assertEnvExists(env.id);
    const id = fromFriendlyId(t.friendlyId, "run");
    const error: TaskRunErrorShape = { type: "STRING_ERROR", raw: input.cancelReason };
    const build = (withKey: boolean): RunCreateData => ({
      id,
      friendlyId: t.friendlyId,
      runtimeEnvironmentId: env.id,
      environmentType: env.type,
      projectId: env.projectId,
      organizationId: env.organizationId,
      status: "CANCELED",
      taskIdentifier: t.taskIdentifier,
      payload: t.payload ?? "",
      payloadType: t.payloadType ?? "application/json",
      traceId: t.traceId ?? randomKey(),
      spanId: t.spanId ?? randomKey().slice(0, 16),
      parentSpanId: t.parentSpanId ?? null,
      isTest: t.isTest ?? false,
      idempotencyKey: withKey ? (t.idempotencyKey ?? null) : null,
      idempotencyKeyExpiresAt: withKey ? (t.idempotencyKeyExpiresAt ?? null) : null,
      idempotencyKeyOptions: t.idempotencyKeyOptions ?? undefined,
      queue: t.queue ?? `task/${t.taskIdentifier}`,
      lockedQueueId: t.lockedQueueId ?? null,
      workerQueue: t.workerQueue ?? "main",
      concurrencyKey: t.concurrencyKey ?? null,
      delayUntil: t.delayUntil ?? null,
      ttl: ttlToString(t.ttl),
      maxAttempts: t.maxAttempts ?? null,
      machinePreset: t.machine ?? null,
      parentTaskRunId: t.parentRunId ? runIdOf(t.parentRunId) : null,
      rootTaskRunId: t.rootTaskRunId ? runIdOf(t.rootTaskRunId) : null,
      depth: t.depth ?? 0,
      resumeParentOnCompletion: t.resumeParentOnCompletion ?? false,
      batchId: t.batch ? fromFriendlyId(t.batch.id, "batch") : null,
      replayedFromTaskRunFriendlyId: t.replayedFrom ?? null,
      metadata: t.metadata ?? null,
      seedMetadata: t.metadata ?? null,
      runTags: Array.isArray(t.tags) && t.tags.length > 0 ? t.tags : [],
      annotations: (t.annotations as never) ?? undefined,
      attemptNumber: 0,
      completedAt: input.cancelledAt,
      error: error as never,
      createdAt: t.createdAt ?? input.cancelledAt,
    });
    const snapshot = {
      id: generateInternalId(mintKindOf(id)),
      executionStatus: "FINISHED" as const,
      description: "Run cancelled before materialisation",
      runStatus: "CANCELED" as const,
      environmentId: env.id,
      environmentType: env.type,
      projectId: env.projectId,
      organizationId: env.organizationId,
      createdAt: input.cancelledAt,
    };
    let run: TaskRun;
    try {
      run = await engineStore.createRunWithSnapshot(this.core.store, { run: build(true), snapshot });
    } catch (err) {
      if (!engineStore.isUniqueViolation(err)) throw err;
      const existing = await engineStore.findRunById(this.core.store, id);
      if (existing) {
        if (existing.status === "CANCELED") return existing;
        throw new CreateCancelledRunConflictError(t.friendlyId, existing.status);
      }
      // The idempotency key belongs to another run: a cancelled row never needs it.
      run = await engineStore.createRunWithSnapshot(this.core.store, { run: build(false), snapshot: { ...snapshot, id: generateInternalId(mintKindOf(id)) } });
    }
    if (run.batchId) await this.batches.tryCompleteBatch(run.batchId).catch(() => undefined);
    if (input.emitRunCancelledEvent !== false) {
      this.eventBus.emit("runCancelled", {
        time: new Date(),
        run: { id: run.id, friendlyId: run.friendlyId, status: "CANCELED", error, completedAt: run.completedAt, attemptNumber: 0 },
        ...this.core.tenancy(run),
      });
    }
    return run;
  }

  /**
   * Writes a run straight into SYSTEM_FAILURE (a batch item or buffered trigger that could not be
   * created). A waiting parent is blocked on its RUN waitpoint, which completes at once with the error.
   */
  async createFailedTaskRun(input: CreateFailedTaskRunInput): Promise<TaskRun> {
    const env = input.environment;
    await this.core.resolver.assertEnvExists(env.id);
    const id = fromFriendlyId(input.friendlyId, "run");
    const parentId = input.parentTaskRunId ? runIdOf(input.parentTaskRunId) : null;
    const waitsForParent = Boolean(input.resumeParentOnCompletion && parentId);
    const waitpointId = waitsForParent ? generateInternalId("LEGACY") : null;
    const batchId = input.batch ? fromFriendlyId(input.batch.id, "batch") : null;
    const now = new Date();
    const error = sanitizeError(input.error);
    const run = await engineStore.createRunWithSnapshot(this.core.store, {
      run: {
        id,
        friendlyId: input.friendlyId,
        runtimeEnvironmentId: env.id,
        environmentType: env.type,
        projectId: env.projectId,
        organizationId: env.organizationId,
        status: "SYSTEM_FAILURE",
        taskIdentifier: input.taskIdentifier,
        payload: input.payload ?? "",
        payloadType: input.payloadType ?? "application/json",
        traceId: input.traceId ?? "",
        spanId: input.spanId ?? "",
        queue: input.queue ?? `task/${input.taskIdentifier}`,
        lockedQueueId: input.lockedQueueId ?? null,
        isTest: false,
        completedAt: now,
        error: error as never,
        parentTaskRunId: parentId,
        rootTaskRunId: input.rootTaskRunId ? runIdOf(input.rootTaskRunId) : null,
        depth: input.depth ?? 0,
        resumeParentOnCompletion: waitsForParent,
        batchId,
        runTags: [],
        attemptNumber: 0,
      },
      snapshot: {
        id: generateInternalId(mintKindOf(id)),
        executionStatus: "FINISHED",
        description: "Run failed before it could be triggered",
        runStatus: "SYSTEM_FAILURE",
        batchId,
        environmentId: env.id,
        environmentType: env.type,
        projectId: env.projectId,
        organizationId: env.organizationId,
        createdAt: now,
      },
      associatedWaitpoint: waitpointId
        ? { id: waitpointId, friendlyId: toFriendlyId("waitpoint", waitpointId), type: "RUN", idempotencyKey: randomKey(), projectId: env.projectId, environmentId: env.id, tags: [] }
        : undefined,
    });
    if (waitpointId && parentId) {
      if (input.batch) await this.waitpoints.addBatchItemEdge(parentId, waitpointId, { id: batchId!, index: input.batch.index });
      else await this.waitpoints.blockRunInternal(parentId, [waitpointId]);
      await this.waitpoints.completeWaitpoint(waitpointId, { output: JSON.stringify(error), outputType: "application/json", isError: true }, { route: "RUN", ownerId: id });
    }
    if (batchId) await this.batches.tryCompleteBatch(batchId);
    if (input.emitRunFailedEvent !== false) {
      this.eventBus.emit("runFailed", {
        time: now,
        run: { id: run.id, status: "SYSTEM_FAILURE", error, completedAt: now, attemptNumber: 0, usageDurationMs: 0 },
        ...this.core.tenancy(run),
      });
    }
    return run;
  }
}

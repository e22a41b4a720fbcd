import { type TaskRun, type TaskRunExecutionSnapshot, engineStore } from "@internal/run-store";
import { toFriendlyId } from "@runplane/core";
import type { TaskRunErrorShape } from "../eventBus/index.js";
import { MAX_TASK_RUN_ATTEMPTS, isRetryableError, nextRetryDelayMs, resolveRetryPolicy, sanitizeError } from "../retry/index.js";
import { type AfterEffects, jobIds, runIdOf, snapshotFriendlyId, snapshotIdOf } from "./core.js";
import { type EngineDeps, EnginePart } from "./enginePart.js";
import { InvalidRunStateError } from "./errors.js";
import type { RunFinishing } from "./finishing.js";
import { DEFAULT_MACHINE, INT4_MAX } from "./limits.js";
import { queueMessageFor } from "./queueMessage.js";
import { isExecuting } from "./statuses.js";
import type { CompleteAttemptResult, CompletionError, CompletionInput, ExecutionContext, StartAttemptResult } from "./types.js";

/** A worker's loose error report → the stored TaskRunError shape. */
export function normalizeCompletionError(error: CompletionError): TaskRunErrorShape {
  const e = error as { type: string; name?: string; message?: string; stackTrace?: string; raw?: string; code?: string };
  switch (e.type) {
    case "BUILT_IN_ERROR":
      return sanitizeError({ type: "BUILT_IN_ERROR", name: e.name ?? "Error", message: e.message ?? "", stackTrace: e.stackTrace });
    case "CUSTOM_ERROR":
      return sanitizeError({ type: "CUSTOM_ERROR", raw: e.raw ?? e.message ?? "" });
    case "STRING_ERROR":
      return sanitizeError({ type: "STRING_ERROR", raw: e.raw ?? e.message ?? "" });
    case "INTERNAL_ERROR":
      return sanitizeError({ type: "INTERNAL_ERROR", code: e.code ?? "UNSPECIFIED_ERROR", message: e.message, stackTrace: e.stackTrace });
    default:
      return sanitizeError({ type: "BUILT_IN_ERROR", name: e.name ?? e.type ?? "Error", message: e.message ?? e.raw ?? "", stackTrace: e.stackTrace });
  }
}

/** Attempts: start, heartbeat, complete (success, retry or final failure). */
export class Attempts extends EnginePart {
  constructor(deps: EngineDeps, private readonly finishing: RunFinishing) {
    super(deps);
  }

  async startRunAttempt(runIdOrFriendly: string, snapshotIdOrFriendly: string): Promise<StartAttemptResult> {
    const runId = runIdOf(runIdOrFriendly);
    const snapshotId = snapshotIdOf(snapshotIdOrFriendly);
    const started = await this.core.lockRun(runId, async () => {
      const [latest, run] = await Promise.all([this.core.requireLatest(runId, snapshotId), this.core.requireRun(runId)]);
      const retryingHere = latest.executionStatus === "EXECUTING" && run.status === "RETRYING_AFTER_FAILURE";
      if (latest.executionStatus !== "PENDING_EXECUTING" && !retryingHere) {
        throw new InvalidRunStateError(runId, latest.executionStatus, "start an attempt");
      }
      if (!run.lockedById) throw new InvalidRunStateError(runId, latest.executionStatus, "start an attempt before being locked to a worker");
      const attemptNumber = (run.attemptNumber ?? 0) + 1;
      if (attemptNumber > MAX_TASK_RUN_ATTEMPTS) {
        await this.finishing.failPermanently(run, latest, { type: "INTERNAL_ERROR", code: "TASK_RUN_CRASHED", message: "Max attempts reached." });
        throw new InvalidRunStateError(runId, "FINISHED", "start an attempt (max attempts reached)");
      }
      const now = new Date();
      const { run: updated, snapshot } = await this.core.transition(run, latest, {
        run: { status: "EXECUTING", attemptNumber, executedAt: run.executedAt ?? now },
        snapshot: { executionStatus: "EXECUTING", description: "Attempt created, starting execution", attemptNumber },
      });
      if (updated.maxDurationInSeconds) {
        await this.core.jobs.enqueue({
          id: jobIds.maxDuration(runId),
          job: "maxDurationExceeded",
          payload: { runId, attemptNumber },
          availableAt: now.getTime() + updated.maxDurationInSeconds * 1000,
        });
      }
      return { run: updated, snapshot, startedAt: now };
    });
    const { run, snapshot, startedAt } = started;
    this.eventBus.emit("runAttemptStarted", {
      time: new Date(),
      run: { id: run.id, status: run.status, attemptNumber: run.attemptNumber ?? 1, executedAt: run.executedAt },
      ...this.core.tenancy(run),
    });
    return { snapshotId: snapshot.id, snapshotFriendlyId: snapshotFriendlyId(snapshot.id), execution: await this.executionContext(run, startedAt) };
  }

  async executionContext(run: TaskRun, startedAt: Date): Promise<ExecutionContext> {
    const [env, version] = await Promise.all([
      this.core.resolver.resolveAuthenticatedEnv(run.runtimeEnvironmentId),
      run.lockedToVersionId ? this.core.resolver.resolveWorkerVersion(run.runtimeEnvironmentId, { workerId: run.lockedToVersionId }) : null,
    ]);
    const task = version?.tasks.find((t) => t.slug === run.taskIdentifier) as
      | (NonNullable<typeof version>["tasks"][number] & { filePath?: string; exportName?: string | null })
      | undefined;
    return {
      run: {
        id: run.friendlyId,
        internalId: run.id,
        payload: run.payload,
        payloadType: run.payloadType,
        tags: run.runTags,
        isTest: run.isTest,
        createdAt: run.createdAt,
        startedAt: run.startedAt,
        idempotencyKey: run.idempotencyKey,
        maxAttempts: run.maxAttempts,
        version: run.taskVersion,
        metadata: run.metadata,
        metadataType: run.metadataType,
        maxDuration: run.maxDurationInSeconds,
        priority: run.priorityMs / 1000,
        concurrencyKey: run.concurrencyKey,
        parentTaskRunId: run.parentTaskRunId ? toFriendlyId("run", run.parentTaskRunId) : null,
        rootTaskRunId: run.rootTaskRunId ? toFriendlyId("run", run.rootTaskRunId) : null,
        depth: run.depth,
      },
      attempt: { number: run.attemptNumber ?? 1, startedAt },
      task: { id: run.taskIdentifier, filePath: task?.filePath ?? "", exportName: task?.exportName ?? null },
      queue: { id: run.lockedQueueId, name: run.queue },
      environment: { id: run.runtimeEnvironmentId, slug: env?.slug ?? "", type: env?.type ?? run.environmentType ?? "PRODUCTION" },
      organization: { id: run.organizationId, slug: env?.organization.slug ?? "", name: env?.organization.title ?? "" },
      project: { id: run.projectId, ref: env?.project.externalRef ?? "", slug: env?.project.slug ?? "", name: env?.project.name ?? "" },
      machine: { name: run.machinePreset ?? DEFAULT_MACHINE },
      ...(run.batchId ? { batch: { id: toFriendlyId("batch", run.batchId) } } : {}),
    };
  }

  /**
   * Pushes the heartbeat deadline out and returns the run's current snapshot (it moves without the
   * worker when a triggerAndWait blocks the run or waitpoints continue it). A snapshot from a previous
   * execution is rejected (409).
   */
  async heartbeat(
    runIdOrFriendly: string,
    snapshotIdOrFriendly: string
  ): Promise<{ snapshotId: string; snapshotFriendlyId: string; executionStatus: TaskRunExecutionSnapshot["executionStatus"] }> {
    const runId = runIdOf(runIdOrFriendly);
    const snapshotId = snapshotIdOf(snapshotIdOrFriendly);
    const { latest } = await this.core.currentExecution(runId, snapshotId);
    await this.core.armHeartbeat(runId, latest);
    return { snapshotId: latest.id, snapshotFriendlyId: snapshotFriendlyId(latest.id), executionStatus: latest.executionStatus };
  }

  async completeRunAttempt(runIdOrFriendly: string, snapshotIdOrFriendly: string, completion: CompletionInput): Promise<CompleteAttemptResult> {
    const runId = runIdOf(runIdOrFriendly);
    const snapshotId = snapshotIdOf(snapshotIdOrFriendly);
    const after: AfterEffects = [];
    const result = await this.core.lockRun(runId, async () => {
      const [{ latest }, run] = await Promise.all([this.core.currentExecution(runId, snapshotId), this.core.requireRun(runId)]);
      if (latest.executionStatus === "PENDING_CANCEL") {
        const finished = await this.finishing.finalizeCancel(run, latest, after);
        return this.result("RUN_FINISHED", finished.run, finished.snapshot);
      }
      if (!isExecuting(latest.executionStatus)) throw new InvalidRunStateError(runId, latest.executionStatus, "complete an attempt");
      if (latest.executionStatus === "EXECUTING_WITH_WAITPOINTS") await engineStore.deleteBlockingEdges(this.core.store, runId);
      const usage = Math.min(INT4_MAX, run.usageDurationMs + Math.max(0, completion.usageDurationMs ?? Date.now() - latest.createdAt.getTime()));
      if (completion.ok) {
        return this.completeSuccess(run, latest, completion, usage, after);
      }
      return this.completeFailure(run, latest, completion, usage, after);
    });
    await this.core.runAfter(after);
    return result;
  }

  result(status: CompleteAttemptResult["attemptStatus"], run: TaskRun, snapshot: TaskRunExecutionSnapshot, retryAt?: Date): CompleteAttemptResult {
    return { attemptStatus: status, snapshotId: snapshot.id, snapshotFriendlyId: snapshotFriendlyId(snapshot.id), runStatus: run.status, ...(retryAt ? { retryAt } : {}) };
  }

  async completeSuccess(
    run: TaskRun,
    latest: TaskRunExecutionSnapshot,
    completion: Extract<CompletionInput, { ok: true }>,
    usage: number,
    after: AfterEffects
  ): Promise<CompleteAttemptResult> {
    const now = new Date();
    const metadataChanged = completion.metadata !== undefined;
    const { run: updated, snapshot } = await this.core.transition(run, latest, {
      run: {
        status: "COMPLETED_SUCCESSFULLY",
        completedAt: now,
        output: completion.output ?? null,
        outputType: completion.outputType ?? "application/json",
        usageDurationMs: usage,
        ...(metadataChanged ? { metadata: completion.metadata, metadataType: completion.metadataType ?? "application/json", metadataVersion: { increment: 1 } } : {}),
      },
      snapshot: { executionStatus: "FINISHED", description: "Task completed successfully" },
    });
    await this.runQueue.acknowledgeMessage(run.id);
    await this.core.jobs.ack(jobIds.maxDuration(run.id));
    after.push(async () => {
      const waitpoint = await engineStore.findRunWaitpoint(this.core.store, run.id);
      if (waitpoint) {
        await this.waitpoints.completeWaitpoint(waitpoint.id, { output: updated.output ?? undefined, outputType: updated.outputType }, { route: "RUN", ownerId: run.id });
      }
    });
    this.finishing.afterFinished(updated, after);
    if (metadataChanged) {
      this.eventBus.emit("runMetadataUpdated", {
        time: now,
        run: { id: updated.id, metadata: updated.metadata, metadataType: updated.metadataType },
        environment: { id: updated.runtimeEnvironmentId },
      });
    }
    this.eventBus.emit("runSucceeded", {
      time: now,
      run: {
        id: updated.id,
        status: updated.status,
        output: updated.output,
        outputType: updated.outputType,
        completedAt: updated.completedAt,
        attemptNumber: updated.attemptNumber,
        usageDurationMs: updated.usageDurationMs,
      },
      ...this.core.tenancy(updated),
    });
    return this.result("RUN_FINISHED", updated, snapshot);
  }

  async completeFailure(
    run: TaskRun,
    latest: TaskRunExecutionSnapshot,
    completion: Extract<CompletionInput, { ok: false }>,
    usage: number,
    after: AfterEffects,
    forceRequeue = false
  ): Promise<CompleteAttemptResult> {
    const error = normalizeCompletionError(completion.error);
    if (error.type === "INTERNAL_ERROR" && error.code === "TASK_RUN_CANCELLED") {
      const finished = await this.finishing.finalizeCancel(run, latest, after);
      return this.result("RUN_FINISHED", finished.run, finished.snapshot);
    }
    const attempt = run.attemptNumber ?? 1;
    const policy = resolveRetryPolicy(run.lockedRetryConfig, this.retryDefaults);
    const maxAttempts = run.maxAttempts ?? policy.maxAttempts;
    const delay =
      completion.skipRetrying || !isRetryableError(error)
        ? null
        : completion.retry && attempt < Math.min(maxAttempts, MAX_TASK_RUN_ATTEMPTS)
          ? Math.max(0, completion.retry.delayMs)
          : nextRetryDelayMs(policy, attempt, maxAttempts);
    if (delay === null) {
      const finished = await this.finishing.failPermanently(run, latest, error, usage, after);
      return this.result("RUN_FINISHED", finished.run, finished.snapshot);
    }
    const retryAt = new Date(Date.now() + delay);
    // A worker that shut down mid-attempt is leaving: its run is always requeued, never retried in place.
    const workerLeaving = error.type === "INTERNAL_ERROR" && error.code === "TASK_PROCESS_SIGTERM";
    const warm = !forceRequeue && !workerLeaving && delay < (this.options.retryWarmStartThresholdMs ?? 0);
    let outcome: CompleteAttemptResult;
    if (warm) {
      const { run: updated, snapshot } = await this.core.transition(run, latest, {
        run: { status: "RETRYING_AFTER_FAILURE", error: error as never, usageDurationMs: usage },
        snapshot: { executionStatus: "EXECUTING", description: "Attempt failed with a short delay, starting a new attempt" },
      });
      await this.core.jobs.ack(jobIds.maxDuration(run.id));
      outcome = this.result("RETRY_IMMEDIATELY", updated, snapshot, retryAt);
    } else {
      const nacked = await this.runQueue.nackMessage(run.id, { retryAt: retryAt.getTime() });
      if (nacked === "dead_lettered") {
        const finished = await this.finishing.failPermanently(
          run,
          latest,
          { type: "INTERNAL_ERROR", code: "TASK_RUN_DEQUEUED_MAX_RETRIES", message: "The run was requeued too many times" },
          usage,
          after
        );
        return this.result("RUN_FINISHED", finished.run, finished.snapshot);
      }
      if (nacked === "not_found") {
        // No in-progress message (lost or swept): queue it afresh at the retry time.
        await this.runQueue.enqueueMessage({ ...queueMessageFor(run), timestamp: retryAt.getTime() }, { replace: true });
      }
      const { run: updated, snapshot } = await this.core.transition(run, latest, {
        run: { status: "PENDING", error: error as never, usageDurationMs: usage },
        snapshot: { executionStatus: "QUEUED", description: "Requeued the run after a failure" },
      });
      await this.core.jobs.ack(jobIds.maxDuration(run.id));
      outcome = this.result("RETRY_QUEUED", updated, snapshot, retryAt);
    }
    this.eventBus.emit("runAttemptFailed", {
      time: new Date(),
      run: { id: run.id, status: outcome.runStatus, attemptNumber: attempt, error },
      retryAt,
      ...this.core.tenancy(run),
    });
    return outcome;
  }
}

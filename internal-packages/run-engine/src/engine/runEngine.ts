import { createHash } from "node:crypto";
import type { ResolvedWorkerVersion } from "@internal/database/resolver";
import { assertInheritedResidency, engineStore, type TaskRun, type TaskRunExecutionSnapshot, type RunCreateData } from "@internal/run-store";
import {
  BackgroundLoop,
  fromFriendlyId,
  generateFriendlyId,
  generateInternalId,
  NotFoundError,
  toFriendlyId,
  UnprocessableError,
  ValidationError,
  type MintKind,
} from "@runplane/core";
import { JobQueue, JobWorker } from "@runplane/redis-worker/jobs";
import { BatchSystem, type CreateBatchInput, type CreateBatchResult } from "../batches/batchSystem.js";
import { EngineEventBus, type TaskRunErrorShape } from "../eventBus/index.js";
import { RunLocker } from "../locks/index.js";
import {
  DEFAULT_RETRY_POLICY,
  finalStatusForError,
  isRetryableError,
  MAX_TASK_RUN_ATTEMPTS,
  nextRetryDelayMs,
  resolveRetryPolicy,
  sanitizeError,
  type ResolvedRetryPolicy,
} from "../retry/index.js";
import { RunQueue } from "../runQueue/index.js";
import {
  WaitpointSystem,
  validateTags,
  type CompleteWaitpointInput,
  type CreateManualWaitpointInput,
} from "../waitpoints/waitpointSystem.js";
import {
  consoleLogger,
  describeError,
  EngineCore,
  engineJobCatalog,
  jobIds,
  mintKindOf,
  randomKey,
  runIdOf,
  snapshotFriendlyId,
  snapshotIdOf,
  type AfterEffects,
  type EngineJobCatalog,
} from "./core.js";
import { parseDurationMs, ttlToMs, ttlToString } from "./durations.js";
import { queueMessageFor } from "./queueMessage.js";
import { QueueRepair, type EnsureRunQueuedResult } from "./queueRepair.js";
import { CreateCancelledRunConflictError, InvalidRunStateError, RunNotFoundError, StaleSnapshotError } from "./errors.js";
import { FAILED_RUN_STATUSES, FINAL_RUN_STATUSES, isExecuting, isFinalRunStatus } from "./statuses.js";
import type {
  BlockResult,
  CompleteAttemptResult,
  CompletionError,
  CompletionInput,
  ContinueFromResult,
  DequeuedRun,
  EngineEnvironment,
  EngineLogger,
  ExecutionContext,
  HeartbeatTimeouts,
  RunEngineOptions,
  StartAttemptResult,
  TriggerInput,
  TriggerResult,
  WaitpointResult,
} from "./types.js";

export const MAX_TAGS_PER_RUN = 10;
export const MAX_TAG_LENGTH = 128;
export const MAX_METADATA_BYTES = 262_144;
const INT4_MAX = 2_147_483_647;
const DEFAULT_IDEMPOTENCY_TTL_MS = 30 * 24 * 3600_000;
const DEFAULT_MACHINE = "small-1x";
const MACHINE_PRESETS = new Set(["micro", "small-1x", "small-2x", "medium-1x", "medium-2x", "large-1x", "large-2x"]);

export type CancelRunOptions = {
  reason?: string;
  /** Finish at once even when a worker is executing the run (the worker acknowledged, or gave up). */
  finalize?: boolean;
  completedAt?: Date;
};

export type CancelRunResult = { alreadyFinished: boolean; run: TaskRun; pendingCancel: boolean };

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

function resolveHeartbeats(option: RunEngineOptions["heartbeatTimeoutMs"]): HeartbeatTimeouts {
  const base: HeartbeatTimeouts = {
    PENDING_EXECUTING: 60_000,
    EXECUTING: 60_000,
    EXECUTING_WITH_WAITPOINTS: 60_000,
    PENDING_CANCEL: 60_000,
    SUSPENDED: 600_000,
  };
  if (typeof option === "number") {
    return { PENDING_EXECUTING: option, EXECUTING: option, EXECUTING_WITH_WAITPOINTS: option, PENDING_CANCEL: option, SUSPENDED: option * 10 };
  }
  return { ...base, ...(option ?? {}) };
}

function sanitizeQueueName(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_\-/.]/g, "").slice(0, 128);
  if (!clean) throw new ValidationError(`Invalid queue name: ${name}`);
  return clean;
}

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

function machineFromConfig(config: unknown): string | null {
  if (config && typeof config === "object" && typeof (config as { preset?: unknown }).preset === "string") {
    const preset = (config as { preset: string }).preset;
    return MACHINE_PRESETS.has(preset) ? preset : null;
  }
  return null;
}

/**
 * The run engine: trigger → queue → dequeue → attempts → completion, with retries, waitpoints,
 * batches, cancellation, delays and TTLs. Owns its Redis pieces (queue, locks, jobs); writes run
 * tables only through the run store.
 */
export class RunEngine {
  readonly eventBus: EngineEventBus;
  readonly runQueue: RunQueue;
  readonly waitpoints: WaitpointSystem;
  readonly batches: BatchSystem;
  private readonly core: EngineCore;
  private readonly locker: RunLocker;
  private readonly jobs: JobQueue<EngineJobCatalog>;
  private readonly jobWorker: JobWorker<EngineJobCatalog>;
  private readonly ttlLoop: BackgroundLoop;
  private readonly queueRepair: QueueRepair;
  private readonly queueRepairLoop: BackgroundLoop | null;
  private readonly logger: EngineLogger;
  private readonly mintKind: MintKind;
  private readonly retryDefaults: ResolvedRetryPolicy;
  private started = false;

  constructor(private readonly options: RunEngineOptions) {
    this.logger = options.logger ?? consoleLogger;
    this.mintKind = options.mintKind ?? "LEGACY";
    this.retryDefaults = { ...DEFAULT_RETRY_POLICY, ...(options.retryDefaults ?? {}) };
    const prefix = options.keyPrefix ?? "engine:";
    this.eventBus = new EngineEventBus((event, error) => this.logger.error("engine event listener failed", { event, error: describeError(error) }));
    this.runQueue = new RunQueue({ redis: options.redis, keyPrefix: `${prefix}runqueue:`, ...(options.runQueue ?? {}) });
    this.locker = new RunLocker({ redis: options.redis, keyPrefix: `${prefix}runlock:` });
    this.jobs = new JobQueue({ name: "engine", redis: options.redis, catalog: engineJobCatalog, keyPrefix: `${prefix}worker:` });
    this.core = new EngineCore(
      options.runStore,
      options.resolver,
      this.runQueue,
      this.locker,
      this.jobs,
      this.eventBus,
      this.logger,
      resolveHeartbeats(options.heartbeatTimeoutMs)
    );
    this.waitpoints = new WaitpointSystem(this.core);
    this.batches = new BatchSystem(this.core, this.waitpoints, this.mintKind);
    this.jobWorker = new JobWorker({
      queue: this.jobs,
      name: "engine-jobs",
      concurrency: options.worker?.concurrency ?? 10,
      pollIntervalMs: options.worker?.pollIntervalMs ?? 100,
      onError: (error, job) => this.logger.error("engine job failed", { job: job?.job, id: job?.id, error: describeError(error) }),
      handlers: {
        heartbeatSnapshot: ({ runId, snapshotId }) => this.#handleStalledSnapshot(runId, snapshotId),
        enqueueDelayedRun: ({ runId }) => this.#enqueueDelayedRun(runId),
        finishWaitpoint: ({ waitpointId, error }) => this.waitpoints.finishWaitpoint(waitpointId, error),
        cancelRun: async ({ runId, reason }) => void (await this.cancelRun(runId, { reason })),
        maxDurationExceeded: ({ runId, attemptNumber }) => this.#handleMaxDuration(runId, attemptNumber),
        continueRunIfUnblocked: async ({ runId }) => void (await this.waitpoints.continueRunIfUnblocked(runId)),
        tryCompleteBatch: ({ batchId }) => this.batches.tryCompleteBatch(batchId),
      },
    });
    this.ttlLoop = new BackgroundLoop({
      name: "engine-ttl",
      intervalMs: options.worker?.ttlSweepIntervalMs ?? 1000,
      tick: () => this.expireDueRuns(),
      onError: (error) => this.logger.error("engine ttl sweep failed", { error: describeError(error) }),
    });
    this.queueRepair = new QueueRepair(this.core, { minAgeMs: options.worker?.queueRepairMinAgeMs });
    const repairEveryMs = options.worker?.queueRepairIntervalMs ?? 30_000;
    // The first sweep waits one interval: a process that just booted leaves the others' fresh runs alone.
    let repairNotBefore = 0;
    this.queueRepairLoop =
      repairEveryMs > 0
        ? new BackgroundLoop({
            name: "engine-queue-repair",
            intervalMs: repairEveryMs,
            tick: async () => {
              if (repairNotBefore === 0) repairNotBefore = Date.now() + repairEveryMs;
              if (Date.now() < repairNotBefore) return;
              await this.queueRepair.sweep();
            },
            onError: (error) => this.logger.error("engine queue repair sweep failed", { error: describeError(error) }),
          })
        : null;
  }

  /** Starts the background workers (jobs: delays, heartbeats, timeouts, cascades; TTL sweep). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.jobWorker.start();
    this.ttlLoop.start();
    this.queueRepairLoop?.start();
  }

  /** Stops the background workers; false when in-flight work outlived the deadline. */
  async stop(deadlineMs = 10_000): Promise<boolean> {
    if (!this.started) return true;
    this.started = false;
    const results = await Promise.all([
      this.jobWorker.stop(deadlineMs),
      this.ttlLoop.stop(deadlineMs),
      this.queueRepairLoop?.stop(deadlineMs) ?? true,
    ]);
    return results.every(Boolean);
  }

  /** Stops workers and closes Redis connections. */
  async close(): Promise<void> {
    await this.stop();
    this.eventBus.removeAllListeners();
    await Promise.all([this.runQueue.close(), this.locker.close(), this.jobs.close()]);
  }

  // =================================================================================================
  // Trigger

  async trigger(input: TriggerInput): Promise<TriggerResult> {
    this.#validateTrigger(input);
    if (input.idempotencyKey) {
      const key = input.idempotencyKey;
      // Serialises triggers sharing a key across processes and databases (the unique index is per database).
      const lockKey = createHash("sha256").update(`${input.environment.id}\0${input.taskIdentifier}\0${key}`).digest("hex");
      return this.locker.lock([`idem:${lockKey}`], () => this.#triggerWithKey(input, key));
    }
    return { run: await this.#createRun(input), isCached: false };
  }

  #validateTrigger(input: TriggerInput): void {
    if (!input.taskIdentifier) throw new ValidationError("taskIdentifier is required");
    if (input.tags) {
      if (input.tags.length > MAX_TAGS_PER_RUN) throw new ValidationError(`Runs can have at most ${MAX_TAGS_PER_RUN} tags`);
      for (const tag of input.tags) {
        if (tag.length > MAX_TAG_LENGTH) throw new ValidationError(`Tags must be at most ${MAX_TAG_LENGTH} characters`);
      }
    }
    if (input.metadata && Buffer.byteLength(input.metadata, "utf8") > MAX_METADATA_BYTES) {
      throw new ValidationError(`Metadata exceeds the maximum size of ${MAX_METADATA_BYTES} bytes`);
    }
    if (input.maxAttempts !== undefined && (!Number.isInteger(input.maxAttempts) || input.maxAttempts < 1)) {
      throw new ValidationError("maxAttempts must be a positive integer");
    }
    if (input.idempotencyKey && input.idempotencyKey.length > 2048) throw new ValidationError("idempotencyKey must be at most 2048 characters");
    if (input.ttl !== undefined) ttlToMs(input.ttl);
  }

  async #triggerWithKey(input: TriggerInput, key: string): Promise<TriggerResult> {
    const existing = await this.core.store.findRunByIdempotencyKey({
      environmentId: input.environment.id,
      taskIdentifier: input.taskIdentifier,
      idempotencyKey: key,
    });
    if (existing) {
      const expired = existing.idempotencyKeyExpiresAt !== null && existing.idempotencyKeyExpiresAt.getTime() <= Date.now();
      if (expired || FAILED_RUN_STATUSES.includes(existing.status) || existing.status === "EXPIRED") {
        await engineStore.clearRunIdempotencyKey(this.core.store, existing.id);
      } else {
        await this.#onCached(input, existing);
        return { run: existing, isCached: true };
      }
    }
    try {
      return { run: await this.#createRun(input), isCached: false };
    } catch (error) {
      if (!engineStore.isUniqueViolation(error, "idempotencyKey")) throw error;
      const raced = await this.core.store.findRunByIdempotencyKey({
        environmentId: input.environment.id,
        taskIdentifier: input.taskIdentifier,
        idempotencyKey: key,
      });
      if (!raced) throw error;
      await this.#onCached(input, raced);
      return { run: raced, isCached: true };
    }
  }

  async #onCached(input: TriggerInput, cached: TaskRun): Promise<void> {
    if (input.batch) await this.batches.linkCachedItem(fromFriendlyId(input.batch.id, "batch"), cached);
    await this.#blockParentOnCached(input, cached);
  }

  async #blockParentOnCached(input: TriggerInput, cached: TaskRun): Promise<void> {
    if (!input.resumeParentOnCompletion || !input.parentRunId) return;
    const parentId = runIdOf(input.parentRunId);
    const waitpoint = await this.waitpoints.getOrCreateRunWaitpoint(cached.id);
    if (input.batch) {
      await this.waitpoints.addBatchItemEdge(parentId, waitpoint.id, input.batch);
      if (waitpoint.status === "COMPLETED") await this.waitpoints.continueRunIfUnblocked(parentId);
    } else {
      await this.waitpoints.blockRunInternal(parentId, [waitpoint.id], { spanIdToComplete: input.spanId });
    }
  }

  async #resolveQueueName(input: TriggerInput): Promise<{ name: string; queueId: string | null }> {
    if (input.queue) return { name: sanitizeQueueName(input.queue), queueId: input.lockedQueueId ?? null };
    try {
      const version = await this.#latestWorker(input.environment.id, input.lockToVersion);
      const task = version?.tasks.find((t) => t.slug === input.taskIdentifier);
      if (task?.queue) return { name: task.queue.name, queueId: task.queue.id };
    } catch (error) {
      this.logger.warn("trigger: could not resolve the task's queue", { error: describeError(error) });
    }
    return { name: `task/${input.taskIdentifier}`, queueId: null };
  }

  // Triggers without an explicit queue, and dequeues, look up the current worker. The resolver does not
  // cache "newest worker"; a 2 s engine-side memo keeps that off the hot path (other processes see a
  // newly registered worker within 2 s).
  readonly #workerMemo = new Map<string, { at: number; value: Promise<ResolvedWorkerVersion | null> }>();
  #latestWorker(environmentId: string, version?: string): Promise<ResolvedWorkerVersion | null> {
    const key = `${environmentId}:${version ?? ""}`;
    const hit = this.#workerMemo.get(key);
    if (hit && Date.now() - hit.at < 2000) return hit.value;
    const value = this.core.resolver.resolveWorkerVersion(environmentId, version ? { version } : {});
    if (this.#workerMemo.size > 10_000) this.#workerMemo.clear();
    this.#workerMemo.set(key, { at: Date.now(), value });
    value.catch(() => this.#workerMemo.delete(key));
    return value;
  }

  /** Forget memoised worker lookups of an environment (call after registering a worker). */
  invalidateWorkers(environmentId: string): void {
    for (const key of this.#workerMemo.keys()) if (key.startsWith(`${environmentId}:`)) this.#workerMemo.delete(key);
  }

  #effectiveTtl(input: TriggerInput): string | null {
    const ttl = ttlToString(input.ttl);
    const maxTtl = this.options.defaultMaxTtl;
    if (!maxTtl) return ttl;
    const maxMs = parseDurationMs(maxTtl);
    if (maxMs === null) return ttl;
    if (ttl === null) return input.ttl === 0 ? null : maxTtl;
    return (ttlToMs(ttl) ?? 0) > maxMs ? maxTtl : ttl;
  }

  async #createRun(input: TriggerInput): Promise<TaskRun> {
    const env = input.environment;
    const parentId = input.parentRunId ? runIdOf(input.parentRunId) : undefined;
    const parent = parentId ? await engineStore.findRunById(this.core.store, parentId) : null;
    if (parentId && !parent) throw new NotFoundError(`Parent run ${input.parentRunId} not found`);
    if (parent && parent.runtimeEnvironmentId !== env.id) throw new ValidationError("The parent run belongs to another environment");
    if (parent && input.resumeParentOnCompletion && isFinalRunStatus(parent.status)) {
      throw new UnprocessableError(`Cannot trigger and wait from a finished run (${parent.status})`);
    }
    const kind: MintKind = parent ? mintKindOf(parent.id) : input.batch ? mintKindOf(fromFriendlyId(input.batch.id, "batch")) : this.mintKind;
    // A caller-minted id must keep the tree in one database (cross-seam guard; 422 otherwise).
    if (input.friendlyId) assertInheritedResidency({ id: input.friendlyId, parentRunId: parent?.id, batchId: input.batch?.id });
    const friendlyId = input.friendlyId ?? generateFriendlyId("run", kind);
    const id = fromFriendlyId(friendlyId, "run");
    const now = new Date();
    const delayed = input.delayUntil !== undefined && input.delayUntil.getTime() > now.getTime();
    const status: TaskRun["status"] = delayed ? "DELAYED" : "PENDING";
    const queue = await this.#resolveQueueName(input);
    const ttl = this.#effectiveTtl(input);
    const queueTimestamp = input.queueTimestamp ?? parent?.queueTimestamp ?? (delayed ? input.delayUntil! : now);
    const priorityMs = input.priority ? Math.min(INT4_MAX, Math.max(0, Math.round(input.priority * 1000))) : 0;
    const batchId = input.batch ? fromFriendlyId(input.batch.id, "batch") : null;
    let lockedToVersionId: string | null = null;
    let taskVersion: string | null = null;
    if (input.lockToVersion) {
      const version = await this.core.resolver.resolveWorkerVersion(env.id, { version: input.lockToVersion });
      if (!version) throw new ValidationError(`Worker version ${input.lockToVersion} not found`);
      lockedToVersionId = version.worker.id;
      taskVersion = version.worker.version;
    }
    const tags = [...new Set((input.tags ?? []).map((t) => t.trim()).filter(Boolean))];
    const waitsForParent = Boolean(input.resumeParentOnCompletion && parent);
    const runData: RunCreateData = {
      id,
      friendlyId,
      runtimeEnvironmentId: env.id,
      environmentType: env.type,
      projectId: env.projectId,
      organizationId: env.organizationId,
      status,
      taskIdentifier: input.taskIdentifier,
      payload: input.payload,
      payloadType: input.payloadType ?? "application/json",
      traceId: input.traceId ?? randomKey(),
      spanId: input.spanId ?? randomKey().slice(0, 16),
      parentSpanId: input.parentSpanId ?? null,
      isTest: input.isTest ?? false,
      idempotencyKey: input.idempotencyKey ?? null,
      idempotencyKeyExpiresAt: input.idempotencyKey
        ? (input.idempotencyKeyExpiresAt ?? new Date(now.getTime() + (this.options.idempotencyKeyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS)))
        : null,
      idempotencyKeyOptions: input.idempotencyKeyOptions ?? undefined,
      queue: queue.name,
      lockedQueueId: queue.queueId,
      workerQueue: input.workerQueue ?? "main",
      concurrencyKey: input.concurrencyKey ?? null,
      priorityMs,
      queueTimestamp,
      queuedAt: delayed ? null : now,
      delayUntil: input.delayUntil ?? null,
      ttl,
      lockedToVersionId,
      taskVersion,
      maxAttempts: input.maxAttempts ?? null,
      maxDurationInSeconds: input.maxDuration !== undefined ? Math.min(INT4_MAX, Math.max(5, Math.round(input.maxDuration))) : null,
      machinePreset: input.machine ?? null,
      parentTaskRunId: parent?.id ?? null,
      rootTaskRunId: parent ? (parent.rootTaskRunId ?? parent.id) : input.rootTaskRunId ? runIdOf(input.rootTaskRunId) : null,
      depth: parent ? parent.depth + 1 : (input.depth ?? 0),
      resumeParentOnCompletion: waitsForParent,
      batchId,
      replayedFromTaskRunFriendlyId: input.replayedFrom ?? null,
      metadata: input.metadata ?? null,
      metadataType: input.metadataType ?? "application/json",
      seedMetadata: input.metadata ?? null,
      seedMetadataType: input.metadataType ?? "application/json",
      runTags: tags,
      annotations: (input.annotations as never) ?? undefined,
      createdAt: input.createdAt ?? now,
    };
    const snapshotId = generateInternalId(kind);
    const waitpointId = waitsForParent ? generateInternalId("LEGACY") : null;
    const run = await engineStore.createRunWithSnapshot(this.core.store, {
      run: runData,
      snapshot: {
        id: snapshotId,
        executionStatus: delayed ? "DELAYED" : "QUEUED",
        description: delayed ? "Run is delayed" : "Run was QUEUED",
        runStatus: status,
        batchId,
        environmentId: env.id,
        environmentType: env.type,
        projectId: env.projectId,
        organizationId: env.organizationId,
        createdAt: now,
      },
      associatedWaitpoint: waitpointId
        ? {
            id: waitpointId,
            friendlyId: toFriendlyId("waitpoint", waitpointId),
            type: "RUN",
            idempotencyKey: randomKey(),
            projectId: env.projectId,
            environmentId: env.id,
            tags: [],
          }
        : undefined,
    });

    // The parent blocks before the child can run, so the child's completion always finds the edge.
    if (waitpointId && parent) {
      if (input.batch) {
        await this.waitpoints.addBatchItemEdge(parent.id, waitpointId, { id: batchId!, index: input.batch.index });
      } else {
        await this.waitpoints.blockRunInternal(parent.id, [waitpointId], { spanIdToComplete: input.spanId });
      }
    }

    if (delayed) {
      await this.core.jobs.enqueue({ id: jobIds.delayed(run.id), job: "enqueueDelayedRun", payload: { runId: run.id }, availableAt: input.delayUntil! });
    } else {
      await this.#enqueue(run, true);
    }
    this.eventBus.emit("runCreated", {
      time: new Date(),
      run: { id: run.id, friendlyId: run.friendlyId, status: run.status, runTags: run.runTags, batchId: run.batchId, taskIdentifier: run.taskIdentifier },
      ...this.core.tenancy(run),
    });
    this.eventBus.emit("executionSnapshotCreated", {
      time: new Date(),
      run: { id: run.id },
      snapshot: { id: snapshotId, executionStatus: delayed ? "DELAYED" : "QUEUED", description: delayed ? "Run is delayed" : "Run was QUEUED" },
    });
    return run;
  }

  async #enqueue(run: TaskRun, armTtl: boolean): Promise<void> {
    await this.runQueue.enqueueMessage(queueMessageFor(run, armTtl ? Date.now() : undefined));
  }

  // =================================================================================================
  // Dequeue and attempts

  /**
   * Takes up to `maxRuns` queued runs of the environment, locks each to a worker version and moves it
   * to PENDING_EXECUTING. Long-polls up to `waitMs` when nothing is due.
   */
  async dequeue(input: {
    environmentId: string;
    consumerId: string;
    maxRuns: number;
    version?: string;
    waitMs?: number;
    /** Aborting ends the long-poll: nothing more is dequeued and what was taken so far is returned. */
    signal?: AbortSignal;
  }): Promise<DequeuedRun[]> {
    const deadline = Date.now() + Math.max(0, input.waitMs ?? 0);
    const maxRuns = Math.max(1, Math.min(input.maxRuns, 100));
    const versions = new Map<string, Promise<ResolvedWorkerVersion | null>>();
    const out: DequeuedRun[] = [];
    for (;;) {
      if (input.signal?.aborted) return out;
      const messages = await this.runQueue.dequeue({ environmentId: input.environmentId, consumerId: input.consumerId, maxCount: maxRuns - out.length });
      const locked = await Promise.all(
        messages.map(async (message) => {
          try {
            return await this.#lockDequeuedRun(message.runId, input, versions);
          } catch (error) {
            this.logger.error("dequeue: failed to lock run; requeueing", { runId: message.runId, error: describeError(error) });
            await this.runQueue.nackMessage(message.runId, { retryAt: Date.now() + 1000 }).catch(() => undefined);
            return null;
          }
        })
      );
      for (const result of locked) if (result) out.push(result);
      const remaining = deadline - Date.now();
      if (out.length > 0 || remaining <= 0) return out;
      if (messages.length === 0) await this.runQueue.waitForMessages(input.environmentId, remaining, input.signal);
    }
  }

  #resolveVersion(
    environmentId: string,
    options: { version?: string; workerId?: string },
    cache: Map<string, Promise<ResolvedWorkerVersion | null>>
  ): Promise<ResolvedWorkerVersion | null> {
    const key = options.workerId ? `id:${options.workerId}` : `v:${options.version ?? ""}`;
    let found = cache.get(key);
    if (!found) {
      // The newest worker is memoised for 2 s (registerWorker clears it in-process); pinned ones are
      // cached by the resolver itself.
      found = options.workerId ? this.core.resolver.resolveWorkerVersion(environmentId, options) : this.#latestWorker(environmentId, options.version);
      cache.set(key, found);
    }
    return found;
  }

  async #lockDequeuedRun(
    runId: string,
    input: { environmentId: string; consumerId: string; version?: string },
    versions: Map<string, Promise<ResolvedWorkerVersion | null>>
  ): Promise<DequeuedRun | null> {
    return this.core.lockRun(runId, async () => {
      const [run, latest] = await Promise.all([engineStore.findRunById(this.core.store, runId), this.core.latestSnapshot(runId)]);
      if (!run) {
        await this.runQueue.acknowledgeMessage(runId);
        return null;
      }
      if (!latest || latest.executionStatus !== "QUEUED") {
        const status = latest?.executionStatus ?? "NONE";
        if (status === "FINISHED" || status === "NONE") await this.runQueue.acknowledgeMessage(runId);
        else this.logger.warn("dequeue: run not in a dequeueable state", { runId, status });
        return null;
      }
      const version = await this.#resolveVersion(
        run.runtimeEnvironmentId,
        run.lockedToVersionId ? { workerId: run.lockedToVersionId } : { version: input.version },
        versions
      );
      const task = version?.tasks.find((t) => t.slug === run.taskIdentifier);
      if (!version || !task) {
        await this.#parkPendingVersion(run, latest, version ? "TASK_NOT_IN_LATEST" : "NO_WORKER");
        return null;
      }
      if (input.version && run.lockedToVersionId && version.worker.version !== input.version) {
        // Locked to another version than the one asking: leave it for that worker.
        await this.runQueue.nackMessage(runId, { retryAt: Date.now() + 1000 });
        return null;
      }
      const retryConfig = task.retryConfig ?? null;
      const policy = resolveRetryPolicy(retryConfig, this.retryDefaults);
      const now = new Date();
      const { run: updated, snapshot } = await this.core.transition(run, latest, {
        run: {
          status: "DEQUEUED",
          statusReason: null,
          lockedAt: now,
          lockedById: task.id,
          lockedToVersionId: version.worker.id,
          lockedQueueId: task.queue?.id ?? run.lockedQueueId,
          startedAt: run.startedAt ?? now,
          taskVersion: version.worker.version,
          sdkVersion: version.worker.sdkVersion,
          maxAttempts: run.maxAttempts ?? policy.maxAttempts,
          maxDurationInSeconds: run.maxDurationInSeconds === INT4_MAX ? null : (run.maxDurationInSeconds ?? task.maxDurationInSeconds ?? null),
          lockedRetryConfig: (run.lockedRetryConfig ?? retryConfig ?? undefined) as never,
          machinePreset: run.machinePreset ?? machineFromConfig(task.machineConfig) ?? DEFAULT_MACHINE,
        },
        snapshot: {
          executionStatus: "PENDING_EXECUTING",
          description: "Run was dequeued for execution",
          workerId: version.worker.id,
          runnerId: input.consumerId,
          completedWaitpointIds: latest.completedWaitpointIds,
        },
      });
      return {
        runId: updated.friendlyId,
        runFriendlyId: updated.friendlyId,
        snapshotId: snapshot.id,
        snapshotFriendlyId: snapshotFriendlyId(snapshot.id),
        attemptNumber: (updated.attemptNumber ?? 0) + 1,
        taskIdentifier: updated.taskIdentifier,
        environmentId: updated.runtimeEnvironmentId,
        workerId: version.worker.id,
        workerVersion: version.worker.version,
        completedWaitpoints: await this.waitpoints.completedWaitpointsFor(run.id, snapshot),
      };
    });
  }

  async #parkPendingVersion(run: TaskRun, latest: TaskRunExecutionSnapshot, reason: string): Promise<void> {
    await this.core.transition(run, latest, {
      run: { status: "PENDING_VERSION", statusReason: reason },
      snapshot: { executionStatus: "RUN_CREATED", description: `Run is waiting for a worker version with task '${run.taskIdentifier}'` },
    });
    await this.runQueue.acknowledgeMessage(run.id);
  }

  /** After a worker registers: parked runs of these tasks go back to their queues. */
  async requeuePendingVersionRuns(environmentId: string, taskIdentifiers: string[]): Promise<number> {
    const parked = await engineStore.findRunsByStatus(this.core.store, { environmentId, status: "PENDING_VERSION", taskIdentifiers });
    let count = 0;
    for (const candidate of parked) {
      const moved = await this.core.lockRun(candidate.id, async () => {
        const run = await engineStore.findRunById(this.core.store, candidate.id);
        const latest = await this.core.latestSnapshot(candidate.id);
        if (!run || !latest || run.status !== "PENDING_VERSION" || latest.executionStatus !== "RUN_CREATED") return false;
        const { run: updated } = await this.core.transition(run, latest, {
          run: { status: "PENDING", statusReason: null, queuedAt: new Date() },
          snapshot: { executionStatus: "QUEUED", description: "Run was QUEUED, a worker version with its task was registered" },
        });
        await this.#enqueue(updated, true);
        return true;
      });
      if (moved) count++;
    }
    return count;
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
        await this.#failPermanently(run, latest, { type: "INTERNAL_ERROR", code: "TASK_RUN_CRASHED", message: "Max attempts reached." });
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
    return { snapshotId: snapshot.id, snapshotFriendlyId: snapshotFriendlyId(snapshot.id), execution: await this.#executionContext(run, startedAt) };
  }

  async #executionContext(run: TaskRun, startedAt: Date): Promise<ExecutionContext> {
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

  /** The latest snapshot of a run (worker polling). */
  async getLatestSnapshot(runIdOrFriendly: string): Promise<TaskRunExecutionSnapshot | null> {
    return this.core.latestSnapshot(runIdOf(runIdOrFriendly));
  }

  /** One snapshot of a run (any, not only the latest); null when the run has no such snapshot. */
  async getSnapshot(runIdOrFriendly: string, snapshotIdOrFriendly: string): Promise<TaskRunExecutionSnapshot | null> {
    return engineStore.findSnapshot(this.core.store, runIdOf(runIdOrFriendly), snapshotIdOf(snapshotIdOrFriendly));
  }

  async completeRunAttempt(runIdOrFriendly: string, snapshotIdOrFriendly: string, completion: CompletionInput): Promise<CompleteAttemptResult> {
    const runId = runIdOf(runIdOrFriendly);
    const snapshotId = snapshotIdOf(snapshotIdOrFriendly);
    const after: AfterEffects = [];
    const result = await this.core.lockRun(runId, async () => {
      const [{ latest }, run] = await Promise.all([this.core.currentExecution(runId, snapshotId), this.core.requireRun(runId)]);
      if (latest.executionStatus === "PENDING_CANCEL") {
        const finished = await this.#finalizeCancel(run, latest, after);
        return this.#result("RUN_FINISHED", finished.run, finished.snapshot);
      }
      if (!isExecuting(latest.executionStatus)) throw new InvalidRunStateError(runId, latest.executionStatus, "complete an attempt");
      if (latest.executionStatus === "EXECUTING_WITH_WAITPOINTS") await engineStore.deleteBlockingEdges(this.core.store, runId);
      const usage = Math.min(INT4_MAX, run.usageDurationMs + Math.max(0, completion.usageDurationMs ?? Date.now() - latest.createdAt.getTime()));
      if (completion.ok) {
        return this.#completeSuccess(run, latest, completion, usage, after);
      }
      return this.#completeFailure(run, latest, completion, usage, after);
    });
    await this.core.runAfter(after);
    return result;
  }

  #result(status: CompleteAttemptResult["attemptStatus"], run: TaskRun, snapshot: TaskRunExecutionSnapshot, retryAt?: Date): CompleteAttemptResult {
    return { attemptStatus: status, snapshotId: snapshot.id, snapshotFriendlyId: snapshotFriendlyId(snapshot.id), runStatus: run.status, ...(retryAt ? { retryAt } : {}) };
  }

  async #completeSuccess(
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
    this.#afterFinished(updated, after);
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
    return this.#result("RUN_FINISHED", updated, snapshot);
  }

  async #completeFailure(
    run: TaskRun,
    latest: TaskRunExecutionSnapshot,
    completion: Extract<CompletionInput, { ok: false }>,
    usage: number,
    after: AfterEffects,
    forceRequeue = false
  ): Promise<CompleteAttemptResult> {
    const error = normalizeCompletionError(completion.error);
    if (error.type === "INTERNAL_ERROR" && error.code === "TASK_RUN_CANCELLED") {
      const finished = await this.#finalizeCancel(run, latest, after);
      return this.#result("RUN_FINISHED", finished.run, finished.snapshot);
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
      const finished = await this.#failPermanently(run, latest, error, usage, after);
      return this.#result("RUN_FINISHED", finished.run, finished.snapshot);
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
      outcome = this.#result("RETRY_IMMEDIATELY", updated, snapshot, retryAt);
    } else {
      const nacked = await this.runQueue.nackMessage(run.id, { retryAt: retryAt.getTime() });
      if (nacked === "dead_lettered") {
        const finished = await this.#failPermanently(
          run,
          latest,
          { type: "INTERNAL_ERROR", code: "TASK_RUN_DEQUEUED_MAX_RETRIES", message: "The run was requeued too many times" },
          usage,
          after
        );
        return this.#result("RUN_FINISHED", finished.run, finished.snapshot);
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
      outcome = this.#result("RETRY_QUEUED", updated, snapshot, retryAt);
    }
    this.eventBus.emit("runAttemptFailed", {
      time: new Date(),
      run: { id: run.id, status: outcome.runStatus, attemptNumber: attempt, error },
      retryAt,
      ...this.core.tenancy(run),
    });
    return outcome;
  }

  /** The run ends in the status its error calls for; its RUN waitpoint completes with the error. */
  async #failPermanently(
    run: TaskRun,
    latest: TaskRunExecutionSnapshot,
    error: TaskRunErrorShape,
    usage: number = run.usageDurationMs,
    after: AfterEffects = []
  ): Promise<{ run: TaskRun; snapshot: TaskRunExecutionSnapshot }> {
    const status = finalStatusForError(error);
    if (status === "CANCELED") return this.#finalizeCancel(run, latest, after);
    const now = new Date();
    const result = await this.core.transition(run, latest, {
      run: { status, completedAt: now, error: error as never, usageDurationMs: usage },
      snapshot: { executionStatus: "FINISHED", description: "Run failed" },
    });
    await engineStore.deleteBlockingEdges(this.core.store, run.id);
    await this.runQueue.acknowledgeMessage(run.id);
    await this.core.jobs.ack(jobIds.maxDuration(run.id));
    after.push(() => this.#completeRunWaitpointWithError(run.id, error));
    this.#afterFinished(result.run, after);
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

  async #completeRunWaitpointWithError(runId: string, error: TaskRunErrorShape): Promise<void> {
    const waitpoint = await engineStore.findRunWaitpoint(this.core.store, runId);
    if (waitpoint) {
      await this.waitpoints.completeWaitpoint(waitpoint.id, { output: JSON.stringify(error), outputType: "application/json", isError: true }, { route: "RUN", ownerId: runId });
    }
  }

  /** Post-commit work common to every final status. */
  #afterFinished(run: TaskRun, after: AfterEffects): void {
    const batchId = run.batchId;
    if (batchId) after.push(() => this.batches.tryCompleteBatch(batchId));
    // Only a run with an idempotency key can be another batch's (cached) item.
    if (run.idempotencyKey) after.push(() => this.batches.completeBatchesListing(run));
  }

  // =================================================================================================
  // Cancel, replay, reschedule, expire

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
        after.push(() => this.#cascadeCancel(runId, reason));
        return { alreadyFinished: false, run: updated, pendingCancel: true };
      }
      const finished = await this.#finalizeCancel(run, latest, after, reason, options.completedAt);
      return { alreadyFinished: false, run: finished.run, pendingCancel: false };
    });
    await this.core.runAfter(after);
    return result;
  }

  async #finalizeCancel(
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
    after.push(() => this.#completeRunWaitpointWithError(run.id, error));
    after.push(() => this.#cascadeCancel(run.id, error.type === "STRING_ERROR" ? error.raw : "Canceled by user"));
    this.#afterFinished(result.run, after);
    this.eventBus.emit("runCancelled", {
      time: new Date(),
      run: { id: run.id, friendlyId: run.friendlyId, status: "CANCELED", error, completedAt: now, attemptNumber: result.run.attemptNumber },
      ...this.core.tenancy(run),
    });
    return result;
  }

  /** Children triggered-and-waited by a cancelled run are cancelled too (jobs, so deep trees are fine). */
  async #cascadeCancel(runId: string, reason: string): Promise<void> {
    const children = await engineStore.findWaitedChildren(this.core.store, runId, FINAL_RUN_STATUSES);
    await Promise.all(
      children.map((childId) => this.core.jobs.enqueueOnce({ id: jobIds.cancel(childId), job: "cancelRun", payload: { runId: childId, reason } }))
    );
  }

  /** A fresh run with the original's task, payload and options; `replayedFromTaskRunFriendlyId` links them. */
  async replay(runIdOrFriendly: string, overrides: Partial<TriggerInput> = {}): Promise<TriggerResult> {
    const original = await this.core.requireRun(runIdOf(runIdOrFriendly));
    const environment =
      overrides.environment ??
      ((await this.core.resolver.resolveEnv(original.runtimeEnvironmentId)) as EngineEnvironment | null) ??
      ({ id: original.runtimeEnvironmentId, type: (original.environmentType ?? "PRODUCTION") as EngineEnvironment["type"], projectId: original.projectId, organizationId: original.organizationId } as EngineEnvironment);
    return this.trigger({
      taskIdentifier: original.taskIdentifier,
      payload: original.payload,
      payloadType: original.payloadType,
      queue: original.queue,
      concurrencyKey: original.concurrencyKey ?? undefined,
      tags: original.runTags,
      metadata: original.seedMetadata ?? undefined,
      metadataType: original.seedMetadataType,
      maxAttempts: original.maxAttempts ?? undefined,
      machine: original.machinePreset ?? undefined,
      maxDuration: original.maxDurationInSeconds ?? undefined,
      ttl: original.ttl ?? undefined,
      isTest: original.isTest,
      ...overrides,
      environment,
      replayedFrom: original.friendlyId,
    });
  }

  /** Moves a delayed run's start. Only DELAYED runs (UnprocessableError otherwise). */
  async rescheduleRun(runIdOrFriendly: string, delayUntil: Date): Promise<TaskRun> {
    const runId = runIdOf(runIdOrFriendly);
    return this.core.lockRun(runId, async () => {
      const run = await this.core.requireRun(runId);
      const latest = await this.core.latestSnapshot(runId);
      if (!latest || run.status !== "DELAYED" || latest.executionStatus !== "DELAYED") {
        throw new UnprocessableError(`Cannot reschedule a run that is not delayed (status ${run.status})`);
      }
      const { run: updated } = await this.core.transition(run, latest, {
        run: { delayUntil, queueTimestamp: delayUntil },
        snapshot: { executionStatus: "DELAYED", description: "Delayed run was rescheduled to a future date" },
      });
      await this.core.jobs.enqueue({ id: jobIds.delayed(runId), job: "enqueueDelayedRun", payload: { runId }, availableAt: delayUntil });
      return updated;
    });
  }

  async #enqueueDelayedRun(runId: string): Promise<void> {
    await this.core.lockRun(runId, async () => {
      const run = await engineStore.findRunById(this.core.store, runId);
      const latest = await this.core.latestSnapshot(runId);
      if (!run || !latest || latest.executionStatus !== "DELAYED" || run.status !== "DELAYED") return;
      if (run.delayUntil && run.delayUntil.getTime() > Date.now() + 50) {
        await this.core.jobs.enqueue({ id: jobIds.delayed(runId), job: "enqueueDelayedRun", payload: { runId }, availableAt: run.delayUntil });
        return;
      }
      await this.queueRepair.queueDelayedRun(run, latest);
    });
  }

  /**
   * Makes sure a dequeueable run (QUEUED, or DELAYED past its delay with no enqueue job) has its queue
   * message, (re)enqueueing it when the trigger's enqueue was lost. Idempotent; safe on any run.
   */
  ensureRunQueued(runIdOrFriendly: string): Promise<EnsureRunQueuedResult> {
    return this.queueRepair.ensureRunQueued(runIdOf(runIdOrFriendly));
  }

  /** One bounded queue-repair sweep step (the background loop calls it every 30 s). */
  repairUnqueuedRuns(input: { environmentId?: string; minAgeMs?: number } = {}) {
    return this.queueRepair.sweep(input);
  }

  /** One TTL sweep: queued runs past their ttl become EXPIRED. Returns true when there may be more. */
  async expireDueRuns(limit = 100): Promise<boolean> {
    const runIds = await this.runQueue.popExpiredMessages(Date.now(), limit);
    for (const runId of runIds) {
      try {
        await this.#expireRun(runId);
      } catch (error) {
        this.logger.error("ttl: failed to expire run", { runId, error: describeError(error) });
      }
    }
    return runIds.length >= limit;
  }

  async #expireRun(runId: string): Promise<void> {
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
      after.push(() => this.#completeRunWaitpointWithError(runId, error));
      this.#afterFinished(updated, after);
      this.eventBus.emit("runExpired", {
        time: now,
        run: { id: runId, status: "EXPIRED", ttl: run.ttl, expiredAt: now, completedAt: now },
        ...this.core.tenancy(run),
      });
    });
    await this.core.runAfter(after);
  }

  /** Clears an idempotency key so the next trigger with it creates a new run. NotFound when none had it. */
  async resetIdempotencyKey(environmentId: string, taskIdentifier: string | undefined, idempotencyKey: string): Promise<number> {
    const count = await engineStore.resetIdempotencyKey(this.core.store, { environmentId, idempotencyKey, taskIdentifier });
    if (count === 0) throw new NotFoundError(`No run with idempotency key ${idempotencyKey}`);
    return count;
  }

  // =================================================================================================
  // Heartbeat stalls and max duration

  async #handleStalledSnapshot(runId: string, snapshotId: string): Promise<void> {
    const after: AfterEffects = [];
    await this.core.lockRun(runId, async () => {
      const latest = await this.core.latestSnapshot(runId);
      if (!latest || latest.id !== snapshotId) return;
      const run = await this.core.requireRun(runId);
      switch (latest.executionStatus) {
        case "PENDING_EXECUTING": {
          const nacked = await this.runQueue.nackMessage(runId, { retryAt: Date.now() });
          if (nacked === "dead_lettered") {
            await this.#failPermanently(run, latest, { type: "INTERNAL_ERROR", code: "TASK_RUN_DEQUEUED_MAX_RETRIES" }, run.usageDurationMs, after);
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
          await this.#completeFailure(
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
          await this.#finalizeCancel(run, latest, after);
          return;
        default:
          return;
      }
    });
    await this.core.runAfter(after);
  }

  async #handleMaxDuration(runId: string, attemptNumber: number): Promise<void> {
    const after: AfterEffects = [];
    await this.core.lockRun(runId, async () => {
      const latest = await this.core.latestSnapshot(runId);
      const run = await engineStore.findRunById(this.core.store, runId);
      if (!latest || !run || !isExecuting(latest.executionStatus) || run.attemptNumber !== attemptNumber) return;
      await engineStore.deleteBlockingEdges(this.core.store, runId);
      await this.#failPermanently(
        run,
        latest,
        { type: "INTERNAL_ERROR", code: "MAX_DURATION_EXCEEDED", message: `Run exceeded its maximum duration of ${run.maxDurationInSeconds}s` },
        run.usageDurationMs,
        after
      );
    });
    await this.core.runAfter(after);
  }

  // =================================================================================================
  // Pre-materialised rows (mollifier drainer, batch items that could not trigger)

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

  // =================================================================================================
  // Waitpoints and batches (delegates)

  createManualWaitpoint(input: CreateManualWaitpointInput): Promise<WaitpointResult> {
    return this.waitpoints.createManualWaitpoint(input);
  }

  /** First completion wins. With `environmentId`, a waitpoint of another environment is not found (404). */
  async completeWaitpoint(waitpointIdOrFriendly: string, input: CompleteWaitpointInput & { environmentId?: string } = {}) {
    const id = fromFriendlyId(waitpointIdOrFriendly, "waitpoint");
    if (input.environmentId && !(await this.core.store.findWaitpoint({ id, environmentId: input.environmentId }))) {
      throw new NotFoundError(`Waitpoint ${waitpointIdOrFriendly} not found`);
    }
    return this.waitpoints.completeWaitpoint(id, input);
  }

  async waitForDuration(runIdOrFriendly: string, snapshotIdOrFriendly: string, date: Date, options?: { idempotencyKey?: string; idempotencyKeyTTL?: string }) {
    return this.waitpoints.waitForDuration(runIdOf(runIdOrFriendly), snapshotIdOf(snapshotIdOrFriendly), date, options);
  }

  /** `timeout`: pending tokens among the waitpoints complete with the timeout error at that instant. */
  async blockRunWithWaitpoint(
    runIdOrFriendly: string,
    snapshotIdOrFriendly: string,
    waitpointIds: string[],
    options: { timeout?: Date } = {}
  ): Promise<BlockResult> {
    return this.waitpoints.blockRunWithWaitpoint(
      runIdOf(runIdOrFriendly),
      snapshotIdOf(snapshotIdOrFriendly),
      waitpointIds.map((id) => fromFriendlyId(id, "waitpoint")),
      options
    );
  }

  /** The worker protocol's `continue` long-poll (from a possibly older snapshot); see WaitpointSystem.continueFrom. */
  continueFrom(runIdOrFriendly: string, snapshotIdOrFriendly: string, options: { waitMs?: number; signal?: AbortSignal } = {}): Promise<ContinueFromResult> {
    return this.waitpoints.continueFrom(runIdOf(runIdOrFriendly), snapshotIdOf(snapshotIdOrFriendly), options.waitMs ?? 0, options.signal);
  }

  createBatch(input: CreateBatchInput): Promise<CreateBatchResult> {
    return this.batches.createBatch(input);
  }

  /** Replaces a run's metadata (≤ 256 KiB; optimistic on metadataVersion when given). Finished runs refuse. */
  async updateMetadata(runIdOrFriendly: string, input: { metadata: string; metadataType?: string; expectedVersion?: number }): Promise<TaskRun> {
    if (Buffer.byteLength(input.metadata, "utf8") > MAX_METADATA_BYTES) {
      throw new ValidationError(`Metadata exceeds the maximum size of ${MAX_METADATA_BYTES} bytes`);
    }
    const runId = runIdOf(runIdOrFriendly);
    const run = await this.core.lockRun(runId, async () => {
      const current = await this.core.requireRun(runId);
      if (isFinalRunStatus(current.status)) throw new UnprocessableError("Cannot update the metadata of a finished run");
      if (input.expectedVersion !== undefined && current.metadataVersion !== input.expectedVersion) {
        throw new UnprocessableError("Metadata was changed concurrently");
      }
      return engineStore.updateRunRow(this.core.store, runId, {
        metadata: input.metadata,
        metadataType: input.metadataType ?? "application/json",
        metadataVersion: { increment: 1 },
      });
    });
    this.eventBus.emit("runMetadataUpdated", {
      time: new Date(),
      run: { id: run.id, metadata: run.metadata, metadataType: run.metadataType },
      environment: { id: run.runtimeEnvironmentId },
    });
    return run;
  }
}


import { type RunCreateData, type TaskRun, assertInheritedResidency, engineStore } from "@internal/run-store";
import { type MintKind, NotFoundError, UnprocessableError, ValidationError, fromFriendlyId, generateFriendlyId, generateInternalId, toFriendlyId } from "@runplane/core";
import { attemptSpanId } from "@runplane/core/traces";
import { createHash, randomBytes } from "node:crypto";
import { describeError, jobIds, mintKindOf, randomKey, runIdOf } from "./core.js";
import { parseDurationMs, ttlToMs, ttlToString } from "./durations.js";
import { type EngineDeps, EnginePart } from "./enginePart.js";
import { INT4_MAX, MAX_METADATA_BYTES, MAX_TAGS_PER_RUN, MAX_TAG_LENGTH } from "./limits.js";
import { queueMessageFor } from "./queueMessage.js";
import { FAILED_RUN_STATUSES, isFinalRunStatus } from "./statuses.js";
import type { TriggerInput, TriggerResult } from "./types.js";
import type { WorkerLookup } from "./workerLookup.js";

function sanitizeQueueName(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_\-/.]/g, "").slice(0, 128);
  if (!clean) throw new ValidationError(`Invalid queue name: ${name}`);
  return clean;
}

const DEFAULT_IDEMPOTENCY_TTL_MS = 30 * 24 * 3600_000;

/**
 * Trigger: validation, idempotency keys (lock, cached runs, reset), the run row with its first
 * snapshot, the queue message.
 */
export class Triggering extends EnginePart {
  constructor(deps: EngineDeps, private readonly workers: WorkerLookup) {
    super(deps);
  }

  async trigger(input: TriggerInput): Promise<TriggerResult> {
    this.validateTrigger(input);
    if (input.idempotencyKey) {
      const key = input.idempotencyKey;
      // Serialises triggers sharing a key across processes and databases (the unique index is per database).
      const lockKey = createHash("sha256").update(`${input.environment.id}\0${input.taskIdentifier}\0${key}`).digest("hex");
      return this.locker.lock([`idem:${lockKey}`], () => this.triggerWithKey(input, key));
    }
    return { run: await this.createRun(input), isCached: false };
  }

  validateTrigger(input: TriggerInput): void {
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

  async triggerWithKey(input: TriggerInput, key: string): Promise<TriggerResult> {
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
        await this.onCached(input, existing);
        return { run: existing, isCached: true };
      }
    }
    try {
      return { run: await this.createRun(input), isCached: false };
    } catch (error) {
      if (!engineStore.isUniqueViolation(error, "idempotencyKey")) throw error;
      const raced = await this.core.store.findRunByIdempotencyKey({
        environmentId: input.environment.id,
        taskIdentifier: input.taskIdentifier,
        idempotencyKey: key,
      });
      if (!raced) throw error;
      await this.onCached(input, raced);
      return { run: raced, isCached: true };
    }
  }

  async onCached(input: TriggerInput, cached: TaskRun): Promise<void> {
    if (input.batch) await this.batches.linkCachedItem(fromFriendlyId(input.batch.id, "batch"), cached);
    await this.blockParentOnCached(input, cached);
  }

  async blockParentOnCached(input: TriggerInput, cached: TaskRun): Promise<void> {
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

  /**
   * A parent whose queue keeps its slots while it waits (`releaseConcurrencyOnWaitpoint: false`) would
   * wait forever for a child queued behind it in that same, full queue: refused at once (422).
   */
  async refuseSameQueueDeadlock(parent: TaskRun, queue: string, concurrencyKey: string | null): Promise<void> {
    if (parent.queue !== queue || (parent.concurrencyKey ?? null) !== concurrencyKey) return;
    const envId = parent.runtimeEnvironmentId;
    if (await this.runQueue.queueReleasesOnWaitpoint(envId, queue)) return;
    const [{ limit, total }, envLimit, keyOverride, running, queueRunning] = await Promise.all([
      this.runQueue.queueSettings(envId, queue),
      this.runQueue.envConcurrencyLimit(envId),
      this.runQueue.keyConcurrencyLimit(envId, queue, concurrencyKey ?? ""),
      this.runQueue.currentConcurrency({ environmentId: envId, queue, concurrencyKey: concurrencyKey ?? "" }),
      this.runQueue.currentConcurrency({ environmentId: envId, queue }),
    ]);
    const effective = Math.min(keyOverride?.limit ?? limit ?? envLimit, envLimit);
    if (running >= effective || (total !== null && queueRunning >= total)) {
      throw new UnprocessableError(
        `Cannot triggerAndWait into queue "${queue}" from a run of that queue: the queue keeps its ${effective} slot(s) while its runs wait ` +
          `(releaseConcurrencyOnWaitpoint: false) and all are taken, so the child could never start. Use another queue or release concurrency on waitpoints.`
      );
    }
  }

  async resolveQueueName(input: TriggerInput): Promise<{ name: string; queueId: string | null }> {
    if (input.queue) return { name: sanitizeQueueName(input.queue), queueId: input.lockedQueueId ?? null };
    try {
      const version = await this.workers.latestWorker(input.environment.id, input.lockToVersion);
      const task = version?.tasks.find((t) => t.slug === input.taskIdentifier);
      if (task?.queue) return { name: task.queue.name, queueId: task.queue.id };
    } catch (error) {
      this.logger.warn("trigger: could not resolve the task's queue", { error: describeError(error) });
    }
    return { name: `task/${input.taskIdentifier}`, queueId: null };
  }

  effectiveTtl(input: TriggerInput): string | null {
    const ttl = ttlToString(input.ttl);
    const maxTtl = this.options.defaultMaxTtl;
    if (!maxTtl) return ttl;
    const maxMs = parseDurationMs(maxTtl);
    if (maxMs === null) return ttl;
    if (ttl === null) return input.ttl === 0 ? null : maxTtl;
    return (ttlToMs(ttl) ?? 0) > maxMs ? maxTtl : ttl;
  }

  async createRun(input: TriggerInput): Promise<TaskRun> {
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
    const queue = await this.resolveQueueName(input);
    if (parent && input.resumeParentOnCompletion) await this.refuseSameQueueDeadlock(parent, queue.name, input.concurrencyKey ?? null);
    const ttl = this.effectiveTtl(input);
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
      // A child run joins its parent's trace, under the parent's current attempt span (W3C-shaped ids).
      traceId: input.traceId ?? parent?.traceId ?? randomBytes(16).toString("hex"),
      spanId: input.spanId ?? randomBytes(8).toString("hex"),
      parentSpanId: input.parentSpanId ?? (parent ? attemptSpanId(parent.friendlyId, Math.max(1, parent.attemptNumber ?? 1)) : null),
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
      await this.enqueue(run, true);
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

  async enqueue(run: TaskRun, armTtl: boolean): Promise<void> {
    await this.runQueue.enqueueMessage(queueMessageFor(run, armTtl ? Date.now() : undefined));
  }

  /** Clears an idempotency key so the next trigger with it creates a new run. NotFound when none had it. */
  async resetIdempotencyKey(environmentId: string, taskIdentifier: string | undefined, idempotencyKey: string): Promise<number> {
    const count = await engineStore.resetIdempotencyKey(this.core.store, { environmentId, idempotencyKey, taskIdentifier });
    if (count === 0) throw new NotFoundError(`No run with idempotency key ${idempotencyKey}`);
    return count;
  }
}

import { decideUnblock, engineStore, hintFromWaitpoint, type TaskRun, type TaskRunExecutionSnapshot, type Waitpoint, type WaitpointOwnerHint } from "@internal/run-store";
import { generateInternalId, toFriendlyId, ValidationError } from "@runplane/core";
import { describeError, jobIds, randomKey, snapshotFriendlyId, type EngineCore } from "../engine/core.js";
import { parseDurationMs } from "../engine/durations.js";
import { InvalidRunStateError, RunNotFoundError, SnapshotNotFoundError, StaleSnapshotError, WaitpointNotFoundError } from "../engine/errors.js";
import { isExecuting, isFinalRunStatus } from "../engine/statuses.js";
import type { BlockResult, CompletedWaitpoint, ContinueFromResult, EngineEnvironment, WaitpointResult } from "../engine/types.js";
import { SnapshotWaiters } from "./snapshotWaiters.js";

export const MAX_WAITPOINT_TAGS = 10;
export const MAX_TAG_LENGTH = 128;
const DEFAULT_TOKEN_KEY_TTL_MS = 30 * 24 * 3600_000;

export type CreateManualWaitpointInput = {
  environment: EngineEnvironment;
  /** A Date, an ISO string or a duration ("10m"): when the token completes with a timeout error. */
  timeout?: Date | string;
  idempotencyKey?: string;
  /** `<n>s|m|h|d`. Default 30 days. */
  idempotencyKeyTTL?: string;
  tags?: string[];
  /**
   * The run (internal id) that created the token, when created from inside a run: the token is then
   * written beside that run (co-location: a run-ops run's token lives in the run-ops database).
   * Without it the token is standalone and lives on the control plane.
   */
  ownerRunId?: string;
};

export type CompleteWaitpointInput = { output?: string; outputType?: string; isError?: boolean };

export type BlockOptions = { batch?: { id: string; index?: number }; spanIdToComplete?: string };

/** The JSON stored as a token's output when its timeout passes. */
export function waitpointTimeoutError(at: Date): string {
  return JSON.stringify({ code: "TRIGGER_WAITPOINT_TIMEOUT", message: `Waitpoint timed out at ${at.toISOString()}` });
}

/** Completed waitpoint ids are stored as `<id>` or `<id>#<batchIndex>` in snapshot order. */
function encodeCompleted(waitpointId: string, batchIndex: number | null): string {
  return batchIndex === null || batchIndex === undefined ? waitpointId : `${waitpointId}#${batchIndex}`;
}
function decodeCompleted(entry: string): { id: string; index?: number } {
  const hash = entry.indexOf("#");
  return hash < 0 ? { id: entry } : { id: entry.slice(0, hash), index: Number(entry.slice(hash + 1)) };
}

export function resolveDate(value: Date | string, field: string): Date {
  if (value instanceof Date) return value;
  const duration = parseDurationMs(value);
  if (duration !== null) return new Date(Date.now() + duration);
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw new ValidationError(`Invalid ${field}: ${value}`);
  return parsed;
}

export function validateTags(tags: string[] | undefined): string[] {
  const clean = (tags ?? []).map((t) => t.trim()).filter((t) => t.length > 0);
  if (clean.length > MAX_WAITPOINT_TAGS) throw new ValidationError(`At most ${MAX_WAITPOINT_TAGS} tags are allowed`);
  for (const tag of clean) {
    if (tag.length > MAX_TAG_LENGTH) throw new ValidationError(`Tags must be at most ${MAX_TAG_LENGTH} characters`);
  }
  return [...new Set(clean)];
}

/** RUN, DATETIME, MANUAL and BATCH waitpoints: creation, blocking, completion and continuation. */
export class WaitpointSystem {
  readonly waiters: SnapshotWaiters;

  constructor(private readonly core: EngineCore) {
    this.waiters = new SnapshotWaiters(core.eventBus);
  }

  // -------------------------------------------------------------------------------------------------
  // Creation

  /** A standalone token (control-plane database). The same live idempotency key returns the same token. */
  async createManualWaitpoint(input: CreateManualWaitpointInput): Promise<WaitpointResult> {
    const env = input.environment;
    const tags = validateTags(input.tags);
    const completedAfter = input.timeout !== undefined ? resolveDate(input.timeout, "timeout") : null;
    let keyExpiresAt: Date | null = null;
    if (input.idempotencyKey) {
      if (input.idempotencyKey.length > 2048) throw new ValidationError("idempotencyKey must be at most 2048 characters");
      const ttlMs = input.idempotencyKeyTTL ? parseDurationMs(input.idempotencyKeyTTL) : DEFAULT_TOKEN_KEY_TTL_MS;
      keyExpiresAt = new Date(Date.now() + (ttlMs ?? DEFAULT_TOKEN_KEY_TTL_MS));
      const cached = await this.#findLiveByKey(input.ownerRunId ?? null, env.id, input.idempotencyKey);
      if (cached) return { waitpoint: cached, isCached: true };
    }
    const id = generateInternalId("LEGACY");
    let waitpoint: Waitpoint;
    try {
      waitpoint = await engineStore.createWaitpointRow(this.core.store, input.ownerRunId ?? null, {
        id,
        friendlyId: toFriendlyId("waitpoint", id),
        type: "MANUAL",
        ownerRunId: input.ownerRunId ?? null,
        idempotencyKey: input.idempotencyKey ?? randomKey(),
        userProvidedIdempotencyKey: Boolean(input.idempotencyKey),
        idempotencyKeyExpiresAt: keyExpiresAt,
        completedAfter,
        projectId: env.projectId,
        environmentId: env.id,
        tags,
      });
    } catch (error) {
      if (input.idempotencyKey && engineStore.isUniqueViolation(error)) {
        const existing = await engineStore.findWaitpointByIdempotencyKey(this.core.store, input.ownerRunId ?? null, env.id, input.idempotencyKey);
        if (existing) return { waitpoint: existing, isCached: true };
      }
      throw error;
    }
    if (completedAfter) {
      await this.core.jobs.enqueue({
        id: jobIds.finishWaitpoint(waitpoint.id),
        job: "finishWaitpoint",
        payload: { waitpointId: waitpoint.id, error: waitpointTimeoutError(completedAfter) },
        availableAt: completedAfter,
      });
    }
    return { waitpoint, isCached: false };
  }

  async #findLiveByKey(ownerId: string | null, environmentId: string, key: string): Promise<Waitpoint | null> {
    const existing = await engineStore.findWaitpointByIdempotencyKey(this.core.store, ownerId, environmentId, key);
    if (!existing) return null;
    if (!existing.idempotencyKeyExpiresAt || existing.idempotencyKeyExpiresAt.getTime() > Date.now()) return existing;
    await engineStore.rotateWaitpointIdempotencyKey(this.core.store, ownerId, existing.id, randomKey());
    return null;
  }

  /** The RUN waitpoint of a run, created on demand; a finished run's is completed at once from its result. */
  async getOrCreateRunWaitpoint(runId: string): Promise<Waitpoint> {
    const existing = await engineStore.findRunWaitpoint(this.core.store, runId);
    if (existing) return existing;
    return this.core.lockRun(runId, async () => {
      const again = await engineStore.findRunWaitpoint(this.core.store, runId);
      if (again) return again;
      const run = await this.core.requireRun(runId);
      const id = generateInternalId("LEGACY");
      let waitpoint: Waitpoint;
      try {
        waitpoint = await engineStore.createWaitpointRow(this.core.store, run.id, {
          id,
          friendlyId: toFriendlyId("waitpoint", id),
          type: "RUN",
          idempotencyKey: randomKey(),
          completedByTaskRunId: run.id,
          projectId: run.projectId,
          environmentId: run.runtimeEnvironmentId,
          tags: [],
        });
      } catch (error) {
        const raced = engineStore.isUniqueViolation(error) ? await engineStore.findRunWaitpoint(this.core.store, runId) : null;
        if (raced) return raced;
        throw error;
      }
      if (isFinalRunStatus(run.status)) {
        const success = run.status === "COMPLETED_SUCCESSFULLY";
        const done = await engineStore.completeWaitpointRows(
          this.core.store,
          waitpoint.id,
          {
            output: success ? run.output : JSON.stringify(run.error ?? {}),
            outputType: success ? run.outputType : "application/json",
            outputIsError: !success,
            completedAt: run.completedAt ?? new Date(),
          },
          { route: "RUN", ownerId: run.id }
        );
        if (done) waitpoint = done.waitpoint;
      }
      return waitpoint;
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Blocking

  /** `wait.for` / `wait.until`: a DATETIME waitpoint beside the run, then the run blocks on it. */
  async waitForDuration(
    runId: string,
    snapshotId: string,
    date: Date,
    options: { idempotencyKey?: string; idempotencyKeyTTL?: string } = {}
  ): Promise<BlockResult & { waitpointId: string; waitpointFriendlyId: string }> {
    return this.core.lockRun(runId, async () => {
      const { latest } = await this.core.currentExecution(runId, snapshotId);
      if (!isExecuting(latest.executionStatus)) throw new InvalidRunStateError(runId, latest.executionStatus, "wait");
      const run = await this.core.requireRun(runId);
      let waitpoint: Waitpoint | null = null;
      if (options.idempotencyKey) waitpoint = await this.#findLiveByKey(run.id, run.runtimeEnvironmentId, options.idempotencyKey);
      if (!waitpoint) {
        const id = generateInternalId("LEGACY");
        const ttlMs = options.idempotencyKeyTTL ? parseDurationMs(options.idempotencyKeyTTL) : null;
        waitpoint = await engineStore.createWaitpointRow(this.core.store, run.id, {
          id,
          friendlyId: toFriendlyId("waitpoint", id),
          type: "DATETIME",
          idempotencyKey: options.idempotencyKey ?? randomKey(),
          userProvidedIdempotencyKey: Boolean(options.idempotencyKey),
          idempotencyKeyExpiresAt: ttlMs ? new Date(Date.now() + ttlMs) : null,
          completedAfter: date,
          ownerRunId: run.id,
          projectId: run.projectId,
          environmentId: run.runtimeEnvironmentId,
          tags: [],
        });
        if (date.getTime() <= Date.now()) {
          await engineStore.completeWaitpointRows(
            this.core.store,
            waitpoint.id,
            { outputIsError: false, completedAt: new Date() },
            { route: "DATETIME", ownerId: run.id }
          );
        } else {
          await this.core.jobs.enqueue({
            id: jobIds.finishWaitpoint(waitpoint.id),
            job: "finishWaitpoint",
            payload: { waitpointId: waitpoint.id },
            availableAt: date,
          });
        }
      }
      const result = await this.blockLocked(run, latest, [waitpoint.id], {});
      return { ...result, waitpointId: waitpoint.id, waitpointFriendlyId: waitpoint.friendlyId };
    });
  }

  /** The worker waits on existing waitpoints (tokens). `snapshotId` must be the latest. */
  async blockRunWithWaitpoint(runId: string, snapshotId: string, waitpointIds: string[], options: { timeout?: Date } = {}): Promise<BlockResult> {
    if (waitpointIds.length === 0) throw new ValidationError("No waitpoints to wait for");
    return this.core.lockRun(runId, async () => {
      const { latest } = await this.core.currentExecution(runId, snapshotId);
      if (!isExecuting(latest.executionStatus)) throw new InvalidRunStateError(runId, latest.executionStatus, "wait");
      const run = await this.core.requireRun(runId);
      const result = await this.blockLocked(run, latest, waitpointIds, {});
      if (options.timeout) await this.#armWaitTimeout(result.waitpointIds, run.id, options.timeout);
      return result;
    });
  }

  /** A wait's own timeout: pending MANUAL waitpoints complete with the timeout error then, unless they time out sooner. */
  async #armWaitTimeout(waitpointIds: string[], runId: string, timeout: Date): Promise<void> {
    const waitpoints = await engineStore.findWaitpointsByIds(this.core.store, waitpointIds, runId);
    for (const wp of waitpoints) {
      if (wp.status !== "PENDING" || wp.type !== "MANUAL") continue;
      if (wp.completedAfter && wp.completedAfter.getTime() <= timeout.getTime()) continue;
      await this.core.jobs.enqueue({
        id: jobIds.finishWaitpoint(wp.id),
        job: "finishWaitpoint",
        payload: { waitpointId: wp.id, error: waitpointTimeoutError(timeout) },
        availableAt: timeout,
      });
    }
  }

  /** Blocks a run without a snapshot check (triggerAndWait, batchTriggerAndWait): the engine is the caller. */
  async blockRunInternal(runId: string, waitpointIds: string[], options: BlockOptions = {}): Promise<BlockResult | null> {
    return this.core.lockRun(runId, async () => {
      const latest = await this.core.latestSnapshot(runId);
      const run = await engineStore.findRunById(this.core.store, runId);
      if (!latest || !run) throw new RunNotFoundError(runId);
      if (latest.executionStatus === "FINISHED" || latest.executionStatus === "PENDING_CANCEL") {
        throw new InvalidRunStateError(runId, latest.executionStatus, "be blocked");
      }
      return this.blockLocked(run, latest, waitpointIds, options);
    });
  }

  /** Edge only (the parent is already blocked by the batch): a batch item's RUN waitpoint, with its index. */
  async addBatchItemEdge(parentRunId: string, waitpointId: string, batch: { id: string; index: number }): Promise<void> {
    const parent = await engineStore.findRunById(this.core.store, parentRunId);
    if (!parent) throw new RunNotFoundError(parentRunId);
    await engineStore.insertBlockingEdges(this.core.store, parentRunId, [
      { id: generateInternalId("LEGACY"), waitpointId, projectId: parent.projectId, batchId: batch.id, batchIndex: batch.index },
    ]);
  }

  /** Under the run lock: edges, then (separately) the pending count, then the snapshot. */
  async blockLocked(run: TaskRun, latest: TaskRunExecutionSnapshot, waitpointIds: string[], options: BlockOptions): Promise<BlockResult> {
    const ids = [...new Set(waitpointIds)];
    const found = new Map((await engineStore.findWaitpointsByIds(this.core.store, ids, run.id)).map((w) => [w.id, w]));
    for (const id of ids) {
      const waitpoint = found.get(id);
      if (!waitpoint || waitpoint.environmentId !== run.runtimeEnvironmentId) throw new WaitpointNotFoundError(id);
      // Cross-seam guard: refuses a pair the engine could not resume (e.g. a batch in another database).
      const hint = hintFromWaitpoint(waitpoint);
      if (hint) decideUnblock({ waitpoint: hint, waiterRunId: run.id }, { splitEnabled: this.core.store.splitEnabled });
    }
    await engineStore.insertBlockingEdges(
      this.core.store,
      run.id,
      ids.map((waitpointId) => ({
        id: generateInternalId("LEGACY"),
        waitpointId,
        projectId: run.projectId,
        batchId: options.batch?.id ?? null,
        batchIndex: options.batch?.index ?? null,
        spanIdToComplete: options.spanIdToComplete ?? null,
      }))
    );
    const pending = await engineStore.countPendingWaitpoints(this.core.store, run.id, ids);
    let snapshot = latest;
    if (latest.executionStatus === "EXECUTING") {
      ({ snapshot } = await this.core.transition(run, latest, {
        snapshot: { executionStatus: "EXECUTING_WITH_WAITPOINTS", description: "Run was blocked by a waitpoint.", batchId: options.batch?.id ?? null },
      }));
    }
    const blocked = snapshot;
    if (snapshot.executionStatus === "EXECUTING_WITH_WAITPOINTS") {
      if (pending > 0) {
        // After the Postgres transition: a crash in between leaves a waiting run holding slots,
        // which the repair sweep (queueRepair.ts) releases.
        this.core.failpoint("block:afterTransition");
        await this.core.runQueue.releaseConcurrency(run.id, { onWaitpoint: true });
      } else {
        const continued = await this.continueLocked(run.id);
        if (continued.status === "unblocked") snapshot = continued.snapshot;
      }
    }
    return {
      snapshotId: snapshot.id,
      snapshotFriendlyId: snapshotFriendlyId(snapshot.id),
      executionStatus: snapshot.executionStatus,
      waitpointIds: ids,
      blockedSnapshotId: blocked.id,
      blockedSnapshotFriendlyId: snapshotFriendlyId(blocked.id),
    };
  }

  // -------------------------------------------------------------------------------------------------
  // Completion and continuation

  /** First completion wins; later ones return the stored result. Every blocked run is checked. */
  async completeWaitpoint(waitpointId: string, input: CompleteWaitpointInput = {}, hint?: WaitpointOwnerHint): Promise<Waitpoint> {
    // The hint (route + owner) lets the cross-seam guard go to the waitpoint's home database directly.
    const result = await engineStore.completeWaitpointRows(
      this.core.store,
      waitpointId,
      {
        output: input.output ?? null,
        outputType: input.outputType ?? "application/json",
        outputIsError: input.isError ?? false,
        completedAt: new Date(),
      },
      hint
    );
    if (!result) throw new WaitpointNotFoundError(waitpointId);
    if (result.won) await this.core.jobs.ack(jobIds.finishWaitpoint(waitpointId));
    const blocked = await engineStore.findRunsBlockedBy(this.core.store, waitpointId);
    await Promise.all(blocked.map((runId) => this.continueRunIfUnblocked(runId)));
    if (result.won) {
      const wp = result.waitpoint;
      this.core.eventBus.emit("waitpointCompleted", {
        time: new Date(),
        waitpoint: { id: wp.id, friendlyId: wp.friendlyId, type: wp.type, outputIsError: wp.outputIsError, completedAt: wp.completedAt },
        blockedRunIds: blocked,
        environment: { id: wp.environmentId },
      });
    }
    return result.waitpoint;
  }

  /** Timer job: DATETIME completes plainly, MANUAL with its timeout error. */
  async finishWaitpoint(waitpointId: string, error?: string): Promise<void> {
    const found = await engineStore.findWaitpointWithClient(this.core.store, waitpointId);
    if (!found || found.row.status === "COMPLETED") return;
    await this.completeWaitpoint(waitpointId, error ? { output: error, isError: true } : {}, hintFromWaitpoint(found.row) ?? undefined);
  }

  async continueRunIfUnblocked(runId: string): Promise<"blocked" | "skipped" | "queued" | "unblocked"> {
    try {
      const result = await this.core.lockRun(runId, () => this.continueLocked(runId));
      return result.status;
    } catch (error) {
      this.core.logger.warn("continueRunIfUnblocked failed; retrying in the background", { runId, error: describeError(error) });
      await this.core.jobs.enqueue({ id: jobIds.continueRun(runId), job: "continueRunIfUnblocked", payload: { runId }, availableAt: Date.now() + 50 });
      return "skipped";
    }
  }

  /** Under the run lock. All edges completed and the run waiting → EXECUTING with the completed waitpoints. */
  async continueLocked(
    runId: string
  ): Promise<{ status: "blocked" | "skipped" | "queued" } | { status: "unblocked"; snapshot: TaskRunExecutionSnapshot }> {
    const edges = await engineStore.listBlockingEdges(this.core.store, runId);
    if (edges.length === 0) return { status: "skipped" };
    if (edges.some((e) => e.waitpoint.status === "PENDING")) return { status: "blocked" };
    const latest = await this.core.latestSnapshot(runId);
    if (!latest) return { status: "skipped" };
    if (latest.executionStatus === "FINISHED") {
      await engineStore.deleteBlockingEdges(this.core.store, runId);
      return { status: "skipped" };
    }
    if (latest.executionStatus !== "EXECUTING_WITH_WAITPOINTS") return { status: "skipped" };
    // Slots back before the run resumes; with no room it waits at the head of its queue and the
    // dequeue that hands it out continues it (Dequeueing.lockDequeuedRun).
    if ((await this.core.runQueue.continueRun(runId)) === "queued") return { status: "queued" };
    const ordered = [...edges].sort(
      (a, b) => (a.batchIndex ?? -1) - (b.batchIndex ?? -1) || a.createdAt.getTime() - b.createdAt.getTime()
    );
    const run = await this.core.requireRun(runId);
    const { snapshot } = await this.core.transition(run, latest, {
      snapshot: {
        executionStatus: "EXECUTING",
        description: "Run was continued, whilst still executing.",
        completedWaitpointIds: ordered.map((e) => encodeCompleted(e.waitpointId, e.batchIndex)),
      },
    });
    await engineStore.deleteBlockingEdges(this.core.store, runId, edges.map((e) => e.id));
    return { status: "unblocked", snapshot };
  }

  /** The completed waitpoints a snapshot carries, in order, as the worker sees them. */
  async completedWaitpointsFor(runId: string, snapshot: TaskRunExecutionSnapshot): Promise<CompletedWaitpoint[]> {
    if (snapshot.completedWaitpointIds.length === 0) return [];
    const entries = snapshot.completedWaitpointIds.map(decodeCompleted);
    const rows = await engineStore.findWaitpointsByIds(this.core.store, entries.map((e) => e.id), runId);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const out: CompletedWaitpoint[] = [];
    for (const entry of entries) {
      const wp = byId.get(entry.id);
      if (!wp) continue;
      const completingRun = wp.completedByTaskRunId;
      out.push({
        id: wp.id,
        friendlyId: wp.friendlyId,
        type: wp.type,
        completedAt: wp.completedAt,
        ...(entry.index !== undefined ? { index: entry.index } : {}),
        ...(completingRun ? { completedByTaskRun: { id: completingRun, friendlyId: toFriendlyId("run", completingRun) } } : {}),
        ...(wp.completedByBatchId ? { completedByBatch: { id: wp.completedByBatchId, friendlyId: toFriendlyId("batch", wp.completedByBatchId) } } : {}),
        ...(wp.completedAfter ? { completedAfter: wp.completedAfter } : {}),
        ...(wp.output !== null ? { output: wp.output } : {}),
        outputType: wp.outputType,
        outputIsError: wp.outputIsError,
        ...(wp.userProvidedIdempotencyKey ? { idempotencyKey: wp.idempotencyKey } : {}),
      });
    }
    return out;
  }

  /**
   * The worker protocol's `continue` long-poll: `snapshotId` is the snapshot the worker waits from and
   * may be older than the latest (a triggerAndWait blocks the parent behind the worker's back).
   * cancelled: the run left this attempt; resumed: a newer EXECUTING snapshot, with the waitpoints
   * completed since; otherwise it waits up to `waitMs` (or until `signal` aborts) and says waiting.
   */
  async continueFrom(runId: string, snapshotId: string, waitMs = 0, signal?: AbortSignal): Promise<ContinueFromResult> {
    const from = await engineStore.findSnapshot(this.core.store, runId, snapshotId);
    if (!from) throw new SnapshotNotFoundError(runId, snapshotId);
    const deadline = Date.now() + Math.max(0, Math.min(waitMs, 60_000));
    for (;;) {
      const latest = await this.core.latestSnapshot(runId);
      if (!latest) throw new RunNotFoundError(runId);
      const result = await this.#evaluateContinueFrom(runId, from, latest);
      if (result) return result;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || signal?.aborted) return { status: "waiting" };
      await this.waiters.wait(runId, Math.min(remaining, 500), signal);
    }
  }

  /** No requeue or other dequeue happened after `from` (a PENDING_EXECUTING snapshot). */
  async #sameDequeue(runId: string, from: TaskRunExecutionSnapshot): Promise<boolean> {
    const since = (await engineStore.listSnapshots(this.core.store, runId)).filter((s) => s.isValid && s.createdAt.getTime() > from.createdAt.getTime());
    return since.every((s) => s.executionStatus !== "QUEUED" && s.executionStatus !== "PENDING_EXECUTING");
  }

  async #evaluateContinueFrom(
    runId: string,
    from: TaskRunExecutionSnapshot,
    latest: TaskRunExecutionSnapshot
  ): Promise<ContinueFromResult | null> {
    const friendly = snapshotFriendlyId(latest.id);
    // Asked from the dequeue's PENDING_EXECUTING snapshot while that worker's own attempt start was in
    // flight (a heartbeat racing attempts/start): the attempt it started is still its own.
    const startedSince =
      from.executionStatus === "PENDING_EXECUTING" && (latest.attemptNumber ?? 0) === (from.attemptNumber ?? 0) + 1 && latest.createdAt.getTime() > from.createdAt.getTime();
    if (startedSince && isExecuting(latest.executionStatus) && (await this.#sameDequeue(runId, from))) return null;
    const sameAttempt = (latest.attemptNumber ?? 0) === (from.attemptNumber ?? 0);
    if (latest.executionStatus === "PENDING_CANCEL" && sameAttempt) {
      return { status: "cancelled", snapshotId: latest.id, snapshotFriendlyId: friendly };
    }
    // Not "cancelled": that answer makes the worker post a cancel completion on `latest`, which for
    // another attempt's snapshot would cancel a run nobody cancelled.
    if (!isExecuting(latest.executionStatus) || !sameAttempt) return { status: "superseded" };
    if (latest.id === from.id || latest.executionStatus !== "EXECUTING" || latest.createdAt.getTime() <= from.createdAt.getTime()) {
      return null;
    }
    const since = (await engineStore.listSnapshots(this.core.store, runId)).filter(
      (s) => s.isValid && s.createdAt.getTime() > from.createdAt.getTime() && s.createdAt.getTime() <= latest.createdAt.getTime()
    );
    const completedWaitpoints: CompletedWaitpoint[] = [];
    const seen = new Set<string>();
    for (const snapshot of since) {
      for (const wp of await this.completedWaitpointsFor(runId, snapshot)) {
        const key = `${wp.id}#${wp.index ?? ""}`;
        if (seen.has(key)) continue;
        seen.add(key);
        completedWaitpoints.push(wp);
      }
    }
    return { status: "resumed", snapshotId: latest.id, snapshotFriendlyId: friendly, completedWaitpoints };
  }
}

import type { RunStore } from "@internal/run-store";

import type { TaskRun } from "@internal/run-store";
import { fromFriendlyId, toFriendlyId } from "@runplane/core";
import type { BufferEntry, MollifierBuffer } from "@runplane/redis-worker/mollifier";
import { entrySnapshot } from "@runplane/redis-worker/mollifier";
import { errorMessage } from "./gate.server";
import { safeParseBufferedTrigger, type ParsedBufferedTrigger } from "./snapshot.server";
import type { MollifierLog } from "./types.server";

/** A run that so far exists only in the buffer, as a TaskRun row would show it. */
export type BufferedRun = {
  run: TaskRun;
  isBuffered: true;
  entry: BufferEntry;
  trigger: ParsedBufferedTrigger;
};

export type RunWithBufferFlag = { run: TaskRun; isBuffered: boolean };

export function runFriendlyIdOf(runIdOrFriendlyId: string): string {
  return toFriendlyId("run", fromFriendlyId(runIdOrFriendlyId, "run"));
}

/**
 * The TaskRun row the drainer will write, built from the entry: status CANCELED when cancelled while
 * buffered, DELAYED while its delay is ahead, else PENDING (public QUEUED). Execution fields are empty.
 */
export function synthesiseTaskRun(entry: BufferEntry, trigger: ParsedBufferedTrigger, now = new Date()): TaskRun {
  const env = trigger.environment;
  const delayed = trigger.delayUntil !== undefined && trigger.delayUntil.getTime() > now.getTime();
  const status: TaskRun["status"] = trigger.cancelledAt ? "CANCELED" : delayed ? "DELAYED" : "PENDING";
  const createdAt = trigger.createdAt ?? entry.createdAt;
  const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
  const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
  const ttl = typeof trigger.ttl === "number" ? `${trigger.ttl}s` : str(trigger.ttl);
  return {
    id: fromFriendlyId(trigger.friendlyId, "run"),
    friendlyId: trigger.friendlyId,
    runtimeEnvironmentId: env.id,
    environmentType: env.type,
    projectId: env.projectId,
    organizationId: env.organizationId,
    status,
    statusReason: null,
    taskIdentifier: trigger.taskIdentifier,
    payload: trigger.payload,
    payloadType: str(trigger.payloadType) ?? "application/json",
    traceId: str(trigger.traceId) ?? "",
    spanId: str(trigger.spanId) ?? "",
    parentSpanId: str(trigger.parentSpanId),
    isTest: trigger.isTest === true,
    idempotencyKey: trigger.idempotencyKey ?? null,
    idempotencyKeyExpiresAt: trigger.idempotencyKey ? (trigger.idempotencyKeyExpiresAt ?? null) : null,
    idempotencyKeyOptions: trigger.idempotencyKey && trigger.idempotencyKeyOptions ? (trigger.idempotencyKeyOptions as never) : null,
    queue: str(trigger.queue) ?? `task/${trigger.taskIdentifier}`,
    lockedQueueId: str(trigger.lockedQueueId),
    workerQueue: str(trigger.workerQueue) ?? "main",
    concurrencyKey: str(trigger.concurrencyKey),
    priorityMs: num(trigger.priority) !== null ? Math.max(0, Math.round(num(trigger.priority)! * 1000)) : 0,
    queueTimestamp: trigger.queueTimestamp ?? (delayed ? trigger.delayUntil! : createdAt),
    queuedAt: delayed ? null : createdAt,
    delayUntil: trigger.delayUntil ?? null,
    ttl,
    expiredAt: null,
    lockedAt: null,
    lockedById: null,
    lockedToVersionId: null,
    taskVersion: str(trigger.lockToVersion),
    sdkVersion: null,
    lockedRetryConfig: null,
    maxAttempts: num(trigger.maxAttempts),
    maxDurationInSeconds: num(trigger.maxDuration),
    machinePreset: str(trigger.machine),
    attemptNumber: null,
    startedAt: null,
    executedAt: null,
    completedAt: trigger.cancelledAt ?? null,
    usageDurationMs: 0,
    output: null,
    outputType: "application/json",
    error: trigger.cancelledAt ? ({ type: "STRING_ERROR", raw: trigger.cancelReason ?? "Canceled by user" } as never) : null,
    parentTaskRunId: str(trigger.parentRunId) ? fromFriendlyId(trigger.parentRunId!, "run") : null,
    rootTaskRunId: str(trigger.rootTaskRunId) ? fromFriendlyId(trigger.rootTaskRunId!, "run") : null,
    depth: num(trigger.depth) ?? 0,
    resumeParentOnCompletion: trigger.resumeParentOnCompletion === true,
    batchId: trigger.batch && typeof trigger.batch.id === "string" ? fromFriendlyId(trigger.batch.id, "batch") : null,
    replayedFromTaskRunFriendlyId: str(trigger.replayedFrom),
    metadata: str(trigger.metadata),
    metadataType: str(trigger.metadataType) ?? "application/json",
    metadataVersion: entry.metadataVersion,
    seedMetadata: str(trigger.metadata),
    seedMetadataType: str(trigger.metadataType) ?? "application/json",
    runTags: [...(trigger.tags ?? [])],
    bulkActionGroupIds: [],
    annotations: (trigger.annotations as never) ?? null,
    createdAt,
    updatedAt: trigger.cancelledAt ?? createdAt,
  };
}

/** Entry + parsed snapshot (mutations laid over), or null when the snapshot cannot be read. */
export function readBufferedEntry(entry: BufferEntry): { trigger: ParsedBufferedTrigger; run: TaskRun } | null {
  let snapshot: unknown;
  try {
    snapshot = entrySnapshot(entry);
  } catch {
    return null;
  }
  const trigger = safeParseBufferedTrigger(snapshot);
  return trigger ? { trigger, run: synthesiseTaskRun(entry, trigger) } : null;
}

/**
 * The buffered run with this id, when it belongs to the caller's environment (and org). An entry of
 * another environment is reported as absent (never 403: existence stays hidden). Fails open to null
 * on a Redis error, after logging it — unless `throwOnError`, for callers that must not guess.
 */
export async function findBufferedRun(
  deps: { buffer: MollifierBuffer | null; logger: MollifierLog },
  input: { runId: string; environmentId: string; organizationId?: string; throwOnError?: boolean }
): Promise<BufferedRun | null> {
  if (!deps.buffer) return null;
  try {
    const entry = await deps.buffer.getEntry(runFriendlyIdOf(input.runId));
    if (!entry) return null;
    if (entry.envId !== input.environmentId || (input.organizationId !== undefined && entry.orgId !== input.organizationId)) {
      deps.logger.warn("mollifier read-fallback auth mismatch", { runId: entry.runId });
      return null;
    }
    const read = readBufferedEntry(entry);
    if (!read) return null;
    return { ...read, isBuffered: true, entry };
  } catch (error) {
    if (input.throwOnError) throw error;
    deps.logger.error("mollifier read-fallback errored — fail-open to null", { error: errorMessage(error), runId: input.runId });
    return null;
  }
}

/**
 * Every run read for the API: Postgres first, then the buffer. A buffer entry already materialised
 * (acked, kept for a grace period) defers to Postgres, which is read once more.
 */
export async function findRunWithMollifierFallback(
  deps: { runStore: Pick<RunStore, "findRun">; buffer: MollifierBuffer | null; logger: MollifierLog },
  input: { runId: string; environmentId: string; organizationId?: string }
): Promise<RunWithBufferFlag | null> {
  const friendlyId = runFriendlyIdOf(input.runId);
  const row = await deps.runStore.findRun({ friendlyId, environmentId: input.environmentId });
  if (row) return { run: row, isBuffered: false };
  const buffered = await findBufferedRun(deps, { ...input, runId: friendlyId });
  if (buffered && !buffered.entry.materialised && buffered.entry.status === "QUEUED") return { run: buffered.run, isBuffered: true };
  // popped or just materialised: the row may have landed after the first read
  const again = await deps.runStore.findRun({ friendlyId, environmentId: input.environmentId });
  if (again) return { run: again, isBuffered: false };
  return buffered ? { run: buffered.run, isBuffered: true } : null;
}

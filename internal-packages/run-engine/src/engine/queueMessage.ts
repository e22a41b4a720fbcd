import type { TaskRun } from "@internal/run-store";
import type { QueueMessageInput } from "../runQueue/types.js";
import { ttlToMs } from "./durations.js";

/**
 * The run-queue message of a run. `ttlFrom` arms the run's TTL from that instant (ms); without it the
 * message carries no TTL (a requeue after a failure or a stall never expires the run).
 */
export function queueMessageFor(run: TaskRun, ttlFrom?: number): QueueMessageInput {
  const ttlMs = ttlFrom !== undefined && run.ttl ? ttlToMs(run.ttl) : null;
  return {
    runId: run.id,
    orgId: run.organizationId,
    projectId: run.projectId,
    environmentId: run.runtimeEnvironmentId,
    environmentType: (run.environmentType ?? "PRODUCTION") as QueueMessageInput["environmentType"],
    queue: run.queue,
    concurrencyKey: run.concurrencyKey,
    taskIdentifier: run.taskIdentifier,
    priorityMs: run.priorityMs,
    timestamp: (run.queueTimestamp ?? run.createdAt).getTime(),
    attempt: 0,
    ttlExpiresAt: ttlMs && ttlFrom !== undefined ? ttlFrom + ttlMs : null,
  };
}

import type { TaskRun } from "@internal/run-store";
import { getRuntime } from "~/services/runtime.server";

/** Statuses after which an idempotency key is released and a new run may take it (the engine agrees). */
const RELEASING_STATUSES: ReadonlySet<TaskRun["status"]> = new Set([
  "INTERRUPTED",
  "COMPLETED_WITH_ERRORS",
  "SYSTEM_FAILURE",
  "CRASHED",
  "TIMED_OUT",
  "EXPIRED",
]);

/** A run that still holds its key: not expired, not released by a failure. */
export function holdsIdempotencyKey(run: TaskRun, now = Date.now()): boolean {
  if (run.idempotencyKeyExpiresAt && run.idempotencyKeyExpiresAt.getTime() <= now) return false;
  return !RELEASING_STATUSES.has(run.status);
}

/**
 * Step 4 of a trigger: an existing run holding the key answers the trigger (`isCached`). A run that
 * no longer holds it is left to the engine, which releases the key under its lock and creates the run.
 * Callers that must block a parent on the cached run go to the engine regardless (it does the blocking).
 */
export async function findCachedRun(input: {
  environmentId: string;
  taskIdentifier: string;
  idempotencyKey: string | undefined;
}): Promise<TaskRun | null> {
  if (!input.idempotencyKey) return null;
  const existing = await getRuntime().runStore.findRunByIdempotencyKey({
    environmentId: input.environmentId,
    taskIdentifier: input.taskIdentifier,
    idempotencyKey: input.idempotencyKey,
  });
  return existing && holdsIdempotencyKey(existing) ? existing : null;
}

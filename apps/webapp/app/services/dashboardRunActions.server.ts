import type { DashboardRun } from "~/presenters/dashboard/runSource.server";
import { cancelRunForApi } from "~/v3/runs/mutations/cancelRun.server";
import { replayRunForApi } from "~/v3/runs/mutations/replayRun.server";
import { resetIdempotencyKeyForApi } from "~/v3/runs/mutations/resetIdempotencyKey.server";

/**
 * Cancel, replay and idempotency reset from the dashboard: the same mutation services as the REST
 * API (`app/v3/runs/mutations/`), scoped to the run's environment. The caller has already found the
 * run in an environment the user may see.
 */
export type CancelOutcome = { kind: "cancelled" | "pending_cancel" | "already_finished" | "buffered" };

const FINAL = new Set(["CANCELED", "INTERRUPTED", "COMPLETED_SUCCESSFULLY", "COMPLETED_WITH_ERRORS", "SYSTEM_FAILURE", "CRASHED", "EXPIRED", "TIMED_OUT"]);
/** A worker holds runs in these statuses: cancelling asks it to stop (PENDING_CANCEL). */
const HELD_BY_WORKER = new Set(["DEQUEUED", "EXECUTING", "RETRYING_AFTER_FAILURE", "WAITING_TO_RESUME"]);

export async function cancelRunFromDashboard(found: DashboardRun): Promise<CancelOutcome> {
  const { run } = found;
  if (FINAL.has(run.status)) return { kind: "already_finished" };
  await cancelRunForApi({ id: run.runtimeEnvironmentId }, run.friendlyId);
  if (found.isBuffered) return { kind: "buffered" };
  return { kind: HELD_BY_WORKER.has(run.status) ? "pending_cancel" : "cancelled" };
}

/** A new run with the original's payload and options; returns its friendly id. */
export async function replayRunFromDashboard(found: DashboardRun): Promise<{ friendlyId: string }> {
  const { id } = await replayRunForApi({ id: found.run.runtimeEnvironmentId }, found.run.friendlyId, undefined);
  return { friendlyId: id };
}

/** Clears the run's idempotency key (for its task), so the next trigger with that key creates a new run. */
export async function resetIdempotencyKeyFromDashboard(found: DashboardRun): Promise<{ reset: boolean }> {
  const { run } = found;
  if (!run.idempotencyKey) return { reset: false };
  await resetIdempotencyKeyForApi({ id: run.runtimeEnvironmentId }, run.idempotencyKey, run.taskIdentifier);
  return { reset: true };
}

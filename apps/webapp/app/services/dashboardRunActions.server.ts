import type { DashboardRun } from "~/presenters/dashboard/runSource.server";
import type { Runtime } from "~/services/runtime.server";

/**
 * Cancel and replay from the dashboard. The seam for the run mutation services of
 * `app/v3/runs/mutations/` (which also handle buffered runs) once they land; until then the engine
 * is called directly. The caller has already found the run in the user's environment.
 */
export type CancelOutcome = { kind: "cancelled" | "pending_cancel" | "already_finished" };

export async function cancelRunFromDashboard(runtime: Pick<Runtime, "engine">, found: DashboardRun): Promise<CancelOutcome> {
  const result = await runtime.engine.cancelRun(found.run.id, { reason: "Canceled from the dashboard" });
  if (result.alreadyFinished) return { kind: "already_finished" };
  return { kind: result.pendingCancel ? "pending_cancel" : "cancelled" };
}

export async function replayRunFromDashboard(runtime: Pick<Runtime, "engine">, found: DashboardRun): Promise<{ friendlyId: string }> {
  const { run } = await runtime.engine.replay(found.run.id);
  return { friendlyId: run.friendlyId };
}

/** Clears the run's idempotency key (for its task), so the next trigger with that key creates a new run. */
export async function resetIdempotencyKeyFromDashboard(runtime: Pick<Runtime, "engine">, found: DashboardRun): Promise<{ count: number }> {
  const { run } = found;
  if (!run.idempotencyKey) return { count: 0 };
  const count = await runtime.engine.resetIdempotencyKey(run.runtimeEnvironmentId, run.taskIdentifier, run.idempotencyKey);
  return { count };
}

import type { AuthenticatedEnvironment } from "@internal/database/resolver";
import type { TaskRunExecutionSnapshot } from "@internal/run-store";
import { fromFriendlyId, isClassifiable, NotFoundError } from "@runplane/core";
import { getRuntime } from "~/services/runtime.server";

/** The environment a worker authenticated as: it sees only this environment's runs and waitpoints. */
export type WorkerEnvironment = AuthenticatedEnvironment;

type PathEntity = "run" | "snapshot" | "waitpoint";

const NOT_FOUND: Record<PathEntity, string> = {
  run: "Run not found",
  snapshot: "Snapshot not found",
  waitpoint: "Waitpoint not found",
};

/**
 * A friendly id from the path (`run_…`, `snapshot_…`, `waitpoint_…`). Anything else is a 404, like an
 * unknown id: a path names a resource, so a malformed one is simply not there.
 */
export function requireFriendlyId(raw: string | undefined, entity: PathEntity): string {
  const prefix = `${entity}_`;
  if (!raw || !raw.startsWith(prefix) || !isClassifiable(raw.slice(prefix.length))) throw new NotFoundError(NOT_FOUND[entity]);
  return raw;
}

export type RunRef = { runId: string; snapshotId: string; latest: TaskRunExecutionSnapshot };

/**
 * Resolves `:runId/snapshots/:snapshotId` for a worker of `environment`: a run of another environment
 * is a 404 (never a 403, so ids cannot be probed). Returns the run's latest snapshot; whether
 * `snapshotId` is that latest is each operation's concern (stale → 409, checked under the run lock).
 */
export async function requireRunInEnvironment(
  environment: WorkerEnvironment,
  params: { runId?: string; snapshotId?: string }
): Promise<RunRef> {
  const runId = requireFriendlyId(params.runId, "run");
  const snapshotId = requireFriendlyId(params.snapshotId, "snapshot");
  const latest = await getRuntime().engine.getLatestSnapshot(runId);
  if (!latest || latest.environmentId !== environment.id) throw new NotFoundError(NOT_FOUND.run);
  return { runId, snapshotId, latest };
}

/** The snapshot must be the run's: an id of another run (or none) is a 404, not a stale 409. */
export async function requireSnapshotOfRun(ref: RunRef): Promise<void> {
  if (ref.latest.id === fromFriendlyId(ref.snapshotId, "snapshot")) return;
  const snapshot = await getRuntime().engine.getSnapshot(ref.runId, ref.snapshotId);
  if (!snapshot) throw new NotFoundError(NOT_FOUND.snapshot);
}

import type { ListRunsQuery, TaskRun } from "@internal/run-store";
import type { Runtime } from "~/services/runtime.server";

/**
 * Where the dashboard reads runs from: the one seam to switch to the buffer-aware reads of
 * `app/v3/runs/` (findRunForApi / listRunsForApi) once they land, so buffered (mollified) runs show
 * up with a "Buffered" badge. Until then: the run store, scoped to the environment.
 */
export type DashboardRun = { run: TaskRun; isBuffered: boolean };

type RunSourceRuntime = Pick<Runtime, "runStore">;

export async function findRunForDashboard(
  runtime: RunSourceRuntime,
  environmentId: string,
  friendlyId: string
): Promise<DashboardRun | null> {
  if (!friendlyId.startsWith("run_")) return null;
  const run = await runtime.runStore.findRun({ friendlyId, environmentId });
  return run ? { run, isBuffered: false } : null;
}

export async function listRunsForDashboard(runtime: RunSourceRuntime, query: ListRunsQuery): Promise<DashboardRun[]> {
  const runs = await runtime.runStore.listRuns(query);
  return runs.map((run) => ({ run, isBuffered: false }));
}

import { apiQueries, type RunTablesPrisma, type TaskRun } from "@internal/run-store";
import type { Runtime } from "~/services/runtime.server";
import { findRunForApi } from "~/v3/runs/findRunForApi.server";
import type { FetchedPage, PageRequest } from "./pagination.server";

/**
 * Where the dashboard reads runs from. A single run comes through the API's lookup
 * (`findRunForApi`), where the mollifier plugs in buffered runs (`isBuffered`). Lists use the same
 * paged run-store query as the API list; buffered runs are not in lists (upstream lists leave them
 * out too), so a freshly buffered run appears once the buffer drains.
 */
export type DashboardRun = { run: TaskRun; isBuffered: boolean };

export async function findRunForDashboard(environmentId: string, friendlyId: string): Promise<DashboardRun | null> {
  const run = await findRunForApi({ id: environmentId }, friendlyId);
  return run ? { run, isBuffered: run.isBuffered === true } : null;
}

export async function listRunsForDashboard(
  runtime: Pick<Runtime, "runStore">,
  query: PageRequest & { environmentId: string; where?: RunTablesPrisma.TaskRunWhereInput; limit: number }
): Promise<FetchedPage<DashboardRun & { createdAt: Date; id: string }>> {
  const { environmentId, ...rest } = query;
  const page = await apiQueries.listRunPage(runtime.runStore, { environmentIds: [environmentId], ...rest });
  return { rows: page.rows.map((run) => ({ run, isBuffered: false, createdAt: run.createdAt, id: run.id })), hasMore: page.hasMore };
}

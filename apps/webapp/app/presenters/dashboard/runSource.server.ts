import { apiQueries, type RunTablesPrisma, type TaskRun } from "@internal/run-store";
import type { ListRunsFilters } from "@runplane/core/schemas";
import type { Runtime } from "~/services/runtime.server";
import { mergeBufferedIntoListPage } from "~/v3/mollifier/apiWiring.server";
import { findRunForApi } from "~/v3/runs/findRunForApi.server";
import type { FetchedPage, PageRequest } from "./pagination.server";

/**
 * Where the dashboard reads runs from: the API's seams, so buffered (mollified) runs show up here
 * exactly as they do in the API — a single run through `findRunForApi`, lists through the same paged
 * run-store query with the buffered runs merged into forward pages (as `listRunsForApi` does).
 */
export type DashboardRun = { run: TaskRun; isBuffered: boolean };
export type DashboardRunRow = DashboardRun & { createdAt: Date; id: string };

export async function findRunForDashboard(environmentId: string, friendlyId: string): Promise<DashboardRun | null> {
  const run = await findRunForApi({ id: environmentId }, friendlyId);
  return run ? { run, isBuffered: run.isBuffered === true } : null;
}

export type DashboardListQuery = PageRequest & {
  environmentId: string;
  /** The SQL filter over run rows… */
  where?: RunTablesPrisma.TaskRunWhereInput;
  /** …and the same filter in the API's terms, applied to buffered runs in memory. */
  filters: Omit<ListRunsFilters, "pageSize">;
  limit: number;
};

export async function listRunsForDashboard(runtime: Pick<Runtime, "runStore">, query: DashboardListQuery): Promise<FetchedPage<DashboardRunRow>> {
  const page = await apiQueries.listRunPage(runtime.runStore, {
    environmentIds: [query.environmentId],
    where: query.where,
    limit: query.limit,
    after: query.after,
    before: query.before,
  });
  // Backward pages show rows only, like the API's `page[before]`.
  const merged: { rows: Array<TaskRun & { isBuffered?: boolean }>; hasMore: boolean } = query.before
    ? page
    : await mergeBufferedIntoListPage({
        environmentIds: [query.environmentId],
        filters: { ...query.filters, pageSize: query.limit },
        after: query.after,
        rows: page.rows,
        hasMore: page.hasMore,
      });
  return {
    rows: merged.rows.map((run) => ({ run, isBuffered: run.isBuffered === true, createdAt: run.createdAt, id: run.id })),
    hasMore: merged.hasMore,
  };
}

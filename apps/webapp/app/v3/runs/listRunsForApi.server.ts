import { apiQueries, type RunTablesPrisma } from "@internal/run-store";
import { ValidationError, fromFriendlyId } from "@runplane/core";
import { decodeCursor, encodeCursor, parseDurationMs, toInternalRunStatuses, type ListRunsFilters } from "@runplane/core/schemas";
import { z } from "zod";
import { presentRunListItem, type ListItemEnvironment } from "~/presenters/v3/apiRun.server";
import { getRuntime } from "~/services/runtime.server";
import { mergeBufferedIntoListPage } from "~/v3/mollifier/apiWiring.server";
import { scheduleRunsKeyPrefix } from "~/v3/schedules/scheduledPayload.server";

/** Cursor payload: the (createdAt, id) keyset position of a row. */
const Cursor = z.object({ c: z.number().int(), i: z.string().min(1) });

function cursorOf(row: { createdAt: Date; id: string }): string {
  return encodeCursor({ c: row.createdAt.getTime(), i: row.id });
}

function positionOf(cursor: string | undefined, name: string) {
  if (cursor === undefined) return undefined;
  const decoded = decodeCursor(cursor, Cursor);
  if (!decoded) throw new ValidationError(`${name}: invalid cursor`);
  return { createdAt: new Date(decoded.c), id: decoded.i };
}

/** Filters → a Prisma where over TaskRun; `null` when a filter can match nothing here (no such column). */
export function runListWhere(filters: ListRunsFilters, now: Date): RunTablesPrisma.TaskRunWhereInput | null {
  const and: RunTablesPrisma.TaskRunWhereInput[] = [];
  // A schedule's runs carry its idempotency key prefix (schedule:<id>:<tick>).
  if (filters.scheduleId) and.push({ idempotencyKey: { startsWith: scheduleRunsKeyPrefix(filters.scheduleId) } });
  if (filters.bulkActionId) and.push({ bulkActionGroupIds: { has: filters.bulkActionId } });
  if (filters.statuses) and.push({ status: { in: toInternalRunStatuses(filters.statuses) } });
  if (filters.taskIdentifiers) and.push({ taskIdentifier: { in: filters.taskIdentifiers } });
  if (filters.versions) and.push({ taskVersion: { in: filters.versions } });
  if (filters.tags) and.push({ runTags: { hasSome: filters.tags } });
  if (filters.isTest !== undefined) and.push({ isTest: filters.isTest });
  if (filters.batchId) and.push({ batchId: fromFriendlyId(filters.batchId, "batch") });
  if (filters.queues) and.push({ queue: { in: filters.queues } });
  if (filters.machines) and.push({ machinePreset: { in: filters.machines } });
  if (filters.regions) and.push({ OR: filters.regions.map((region) => ({ annotations: { path: ["region"], equals: region } })) });
  let from = filters.createdFrom;
  if (filters.period) {
    const ms = parseDurationMs(filters.period);
    if (ms === undefined) throw new ValidationError(`filter[createdAt][period]: invalid duration "${filters.period}"`);
    const since = new Date(now.getTime() - ms);
    if (!from || since > from) from = since;
  }
  if (from || filters.createdTo) {
    and.push({ createdAt: { ...(from ? { gte: from } : {}), ...(filters.createdTo ? { lte: filters.createdTo } : {}) } });
  }
  return { AND: and };
}

export type ListRunsForApiResult = {
  data: ReturnType<typeof presentRunListItem>[];
  pagination: { next?: string; previous?: string };
};

/**
 * THE run list of the REST API (environment and project listings): newest first, cursor pages over
 * (createdAt, id) in every run database. `environments` are the ones the caller may see.
 */
export async function listRunsForApi(environments: ListItemEnvironment[], filters: ListRunsFilters): Promise<ListRunsForApiResult> {
  if (filters.after && filters.before) throw new ValidationError("page[after] and page[before] cannot be combined");
  const after = positionOf(filters.after, "page[after]");
  const before = positionOf(filters.before, "page[before]");
  const where = runListWhere(filters, new Date());
  if (where === null || environments.length === 0) return { data: [], pagination: {} };

  const { runStore } = getRuntime();
  const page = await apiQueries.listRunPage(runStore, {
    environmentIds: environments.map((env) => env.id),
    where,
    limit: filters.pageSize,
    after,
    before,
  });
  // buffered (mollified) runs join forward pages with their real status, marked isBuffered
  const { rows, hasMore }: { rows: Array<(typeof page.rows)[number] & { isBuffered?: boolean }>; hasMore: boolean } = before
    ? page
    : await mergeBufferedIntoListPage({ environmentIds: environments.map((env) => env.id), filters, after, rows: page.rows, hasMore: page.hasMore });
  const envById = new Map(environments.map((env) => [env.id, env]));
  const data = rows.map((row) => presentRunListItem(row, envById.get(row.runtimeEnvironmentId) ?? { id: row.runtimeEnvironmentId, slug: "unknown" }, { isBuffered: row.isBuffered }));

  const first = rows[0];
  const last = rows[rows.length - 1];
  const movingBack = before !== undefined;
  const pagination: { next?: string; previous?: string } = {};
  if (last && (movingBack || hasMore)) pagination.next = cursorOf(last);
  if (first && (movingBack ? hasMore : after !== undefined)) pagination.previous = cursorOf(first);
  return { data, pagination };
}

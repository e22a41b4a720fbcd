import { MAX_PAGE_SIZE, type BulkActionFilter, type ListRunsFilters } from "@runplane/core/schemas";

const list = <T>(value: T | T[] | undefined): T[] | undefined => {
  if (value === undefined) return undefined;
  const items = (Array.isArray(value) ? value : [value]).filter((v) => !(typeof v === "string" && v.trim() === ""));
  return items.length > 0 ? items : undefined;
};
const date = (value: Date | number | undefined): Date | undefined => (value === undefined ? undefined : new Date(value));

/**
 * A bulk action's filter as run-list filters, bounded above by the action's creation time: runs
 * created afterwards (the action's own replays among them) are never part of it.
 */
export function bulkFilterToListFilters(filter: BulkActionFilter, createdAt: Date): ListRunsFilters {
  const to = date(filter.to);
  return {
    pageSize: MAX_PAGE_SIZE,
    statuses: list(filter.status),
    taskIdentifiers: list(filter.taskIdentifier),
    versions: list(filter.version),
    tags: list(filter.tag),
    bulkActionId: filter.bulkAction,
    scheduleId: filter.schedule,
    isTest: filter.isTest,
    createdFrom: date(filter.from),
    createdTo: to && to < createdAt ? to : createdAt,
    period: filter.period,
    batchId: filter.batch,
    queues: list(filter.queue),
    machines: list(filter.machine),
    regions: list(filter.region),
  };
}

import type { TaskRun } from "@internal/run-store";
import { toFriendlyId } from "@runplane/core";
import { toPublicRunStatus, type ListRunsFilters } from "@runplane/core/schemas";
import { envListingCursor, type MollifierBuffer } from "@runplane/redis-worker/mollifier";
import { scheduleRunsKeyPrefix } from "~/v3/schedules/scheduledPayload.server";
import { errorMessage } from "./gate.server";
import { readBufferedEntry, type RunWithBufferFlag } from "./readFallback.server";
import type { MollifierLog } from "./types.server";

export type ListPosition = { createdAt: Date; id: string };

/** Whether a buffered run passes the list filters (the in-memory twin of the list query's WHERE). */
export function bufferedRunMatchesFilters(run: TaskRun, filters: Partial<ListRunsFilters>): boolean {
  if (filters.statuses && !filters.statuses.includes(toPublicRunStatus(run.status))) return false;
  if (filters.taskIdentifiers && !filters.taskIdentifiers.includes(run.taskIdentifier)) return false;
  if (filters.versions && !(run.taskVersion && filters.versions.includes(run.taskVersion))) return false;
  if (filters.tags && !filters.tags.some((t) => run.runTags.includes(t))) return false;
  if (filters.bulkActionId) return false; // a bulk action only ever targets rows
  if (filters.scheduleId && !run.idempotencyKey?.startsWith(scheduleRunsKeyPrefix(filters.scheduleId))) return false;
  if (filters.isTest !== undefined && run.isTest !== filters.isTest) return false;
  if (filters.createdFrom && run.createdAt.getTime() < filters.createdFrom.getTime()) return false;
  if (filters.createdTo && run.createdAt.getTime() > filters.createdTo.getTime()) return false;
  if (filters.batchId && !(run.batchId && (filters.batchId === run.batchId || filters.batchId === toFriendlyId("batch", run.batchId)))) return false;
  if (filters.queues && !filters.queues.includes(run.queue)) return false;
  if (filters.machines && !(run.machinePreset && filters.machines.includes(run.machinePreset))) return false;
  if (filters.regions) {
    const annotations = run.annotations as { region?: unknown } | null;
    if (!(annotations && typeof annotations.region === "string" && filters.regions.includes(annotations.region))) return false;
  }
  return true;
}

function newerFirst(a: TaskRun, b: TaskRun): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * One newest-first page of an environment's runs with its buffered runs merged in, each marked.
 * `pgPage` runs the list's own query (same filters, strictly after `after`, `limit` rows). Buffered
 * entries are read from the same position (strictly older than `after`), filtered in memory (at most
 * `scanLimit` entries per call), and merged by (createdAt, id); a run in both (materialised while
 * being listed) shows its row. Pages are stable because a materialised row keeps the buffered
 * creation time. Buffer errors leave the page to Postgres alone (logged).
 */
export async function listRunsWithBuffered(
  deps: { buffer: MollifierBuffer | null; logger: MollifierLog },
  input: {
    environmentId: string;
    limit: number;
    after?: ListPosition;
    filters?: Partial<ListRunsFilters>;
    pgPage: (limit: number, after?: ListPosition) => Promise<TaskRun[]>;
    scanLimit?: number;
  }
): Promise<RunWithBufferFlag[]> {
  const [rows, buffered] = await Promise.all([
    input.pgPage(input.limit, input.after),
    readBufferedPage(deps, input).catch((error: unknown) => {
      deps.logger.warn("mollifier: buffered runs left out of a list (buffer unavailable)", { error: errorMessage(error) });
      return [] as TaskRun[];
    }),
  ]);
  const seen = new Set(rows.map((r) => r.id));
  const merged: RunWithBufferFlag[] = [
    ...rows.map((run) => ({ run, isBuffered: false })),
    ...buffered.filter((run) => !seen.has(run.id)).map((run) => ({ run, isBuffered: true })),
  ];
  return merged.sort((a, b) => newerFirst(a.run, b.run)).slice(0, input.limit);
}

async function readBufferedPage(
  deps: { buffer: MollifierBuffer | null },
  input: { environmentId: string; limit: number; after?: ListPosition; filters?: Partial<ListRunsFilters>; scanLimit?: number }
): Promise<TaskRun[]> {
  if (!deps.buffer || input.limit <= 0) return [];
  const scanLimit = input.scanLimit ?? 1_000;
  const found: TaskRun[] = [];
  let cursor: string | null = input.after
    ? envListingCursor({ createdAtMs: input.after.createdAt.getTime(), runId: toFriendlyId("run", input.after.id) })
    : null;
  let scanned = 0;
  do {
    const pageSize = Math.min(Math.max(input.limit, 50), scanLimit - scanned);
    const page = await deps.buffer.listEnvEntries(input.environmentId, { limit: pageSize, cursor });
    scanned += pageSize;
    for (const entry of page.entries) {
      const read = readBufferedEntry(entry);
      if (read && bufferedRunMatchesFilters(read.run, input.filters ?? {})) found.push(read.run);
    }
    cursor = page.nextCursor;
  } while (cursor && found.length < input.limit && scanned < scanLimit);
  return found.sort(newerFirst).slice(0, input.limit);
}

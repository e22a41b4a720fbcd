import type { RunTablesPrisma } from "@internal/run-store";
import { fromFriendlyId } from "@runplane/core";
import {
  isFinalInternalStatus,
  PUBLIC_RUN_STATUSES,
  PublicRunStatus,
  toInternalRunStatuses,
  toPublicRunStatus,
  type InternalRunStatus,
  type ListRunsFilters,
} from "@runplane/core/schemas";
import { z } from "zod";
import type { EnvironmentScope } from "~/services/dashboardAuth.server";
import type { Runtime } from "~/services/runtime.server";
import { durationBetween, timestamp, type Timestamp } from "./format";
import { loadPage, type PageLinks } from "./pagination.server";
import { runPath } from "./paths";
import { scheduleRunsKeyPrefix } from "~/v3/schedules/scheduledPayload.server";
import { listRunsForDashboard } from "./runSource.server";

export const RUN_PERIODS = ["1h", "6h", "24h", "7d", "30d", "all"] as const;
export type RunPeriod = (typeof RUN_PERIODS)[number];
const PERIOD_MS: Record<RunPeriod, number | null> = {
  "1h": 3_600_000,
  "6h": 6 * 3_600_000,
  "24h": 24 * 3_600_000,
  "7d": 7 * 24 * 3_600_000,
  "30d": 30 * 24 * 3_600_000,
  all: null,
};
export const DEFAULT_RUN_PERIOD: RunPeriod = "7d";

const optionalText = (max: number) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined), z.string().max(max).optional()).catch(undefined);

/** The runs list's URL parameters. Unknown or malformed values are dropped, never an error page. */
export const RunListFiltersSchema = z.object({
  statuses: z.array(z.string()).transform((values) => values.filter((v): v is PublicRunStatus => PublicRunStatus.safeParse(v).success)),
  task: optionalText(256),
  tag: optionalText(128),
  queue: optionalText(256),
  period: z.enum(RUN_PERIODS).catch(DEFAULT_RUN_PERIOD),
  batch: z.preprocess((v) => (typeof v === "string" && /^batch_[A-Za-z0-9]+$/.test(v) ? v : undefined), z.string().optional()),
  /** Runs fired by one schedule (their idempotency key is `schedule:<id>:<tick>`). */
  schedule: z.preprocess((v) => (typeof v === "string" && /^sched_[A-Za-z0-9]+$/.test(v) ? v : undefined), z.string().optional()),
});
export type RunListFilters = z.infer<typeof RunListFiltersSchema>;

export function parseRunListFilters(params: URLSearchParams): RunListFilters {
  return RunListFiltersSchema.parse({
    statuses: params.getAll("statuses"),
    task: params.get("task") ?? undefined,
    tag: params.get("tag") ?? undefined,
    queue: params.get("queue") ?? undefined,
    period: params.get("period") ?? DEFAULT_RUN_PERIOD,
    batch: params.get("batch") ?? undefined,
    schedule: params.get("schedule") ?? undefined,
  });
}

/** The same filters in the API's terms (what buffered runs are matched with). */
export function runFiltersForApi(filters: RunListFilters): Omit<ListRunsFilters, "pageSize"> {
  return {
    statuses: filters.statuses.length > 0 ? filters.statuses : undefined,
    taskIdentifiers: filters.task ? [filters.task] : undefined,
    tags: filters.tag ? [filters.tag] : undefined,
    queues: filters.queue ? [filters.queue] : undefined,
    batchId: filters.batch,
    scheduleId: filters.schedule,
    period: filters.period === "all" ? undefined : filters.period,
  };
}

export function runFiltersWhere(filters: RunListFilters, now: Date): RunTablesPrisma.TaskRunWhereInput {
  const where: RunTablesPrisma.TaskRunWhereInput[] = [];
  if (filters.statuses.length > 0) where.push({ status: { in: toInternalRunStatuses(filters.statuses) } });
  if (filters.task) where.push({ taskIdentifier: filters.task });
  if (filters.tag) where.push({ runTags: { has: filters.tag } });
  if (filters.queue) where.push({ queue: filters.queue });
  if (filters.batch) where.push({ batchId: fromFriendlyId(filters.batch, "batch") });
  if (filters.schedule) where.push({ idempotencyKey: { startsWith: scheduleRunsKeyPrefix(filters.schedule) } });
  const periodMs = PERIOD_MS[filters.period];
  if (periodMs !== null) where.push({ createdAt: { gte: new Date(now.getTime() - periodMs) } });
  return { AND: where };
}

export type RunListRow = {
  friendlyId: string;
  href: string;
  taskIdentifier: string;
  status: PublicRunStatus;
  internalStatus: string;
  isBuffered: boolean;
  isTest: boolean;
  createdAt: Timestamp;
  startedAt: Timestamp;
  duration: string | null;
  queue: string;
  tags: string[];
};

export type RunListPage = PageLinks & {
  rows: RunListRow[];
  filters: RunListFilters;
  isFiltered: boolean;
  statusOptions: readonly PublicRunStatus[];
  periodOptions: readonly RunPeriod[];
  taskOptions: string[];
  refreshedAt: Timestamp;
};

export async function presentRunList(
  runtime: Pick<Runtime, "runStore" | "resolver">,
  scope: EnvironmentScope,
  url: URL,
  now: Date = new Date()
): Promise<RunListPage> {
  const filters = parseRunListFilters(url.searchParams);
  const where = runFiltersWhere(filters, now);
  const [page, worker] = await Promise.all([
    loadPage(url, (query) =>
      listRunsForDashboard(runtime, { environmentId: scope.environment.id, where, filters: runFiltersForApi(filters), ...query })
    ),
    runtime.resolver.resolveWorkerVersion(scope.environment.id).catch(() => null),
  ]);
  const rows = page.rows.map(({ run, isBuffered }): RunListRow => {
    const started = run.startedAt ?? run.executedAt;
    const final = isFinalInternalStatus(run.status as InternalRunStatus);
    return {
      friendlyId: run.friendlyId,
      href: runPath(scope, run.friendlyId),
      taskIdentifier: run.taskIdentifier,
      status: toPublicRunStatus(run.status),
      internalStatus: run.status,
      isBuffered,
      isTest: run.isTest,
      createdAt: timestamp(run.createdAt, now),
      startedAt: timestamp(started, now),
      duration: started ? durationBetween(started, final ? (run.completedAt ?? run.updatedAt) : null, now) : null,
      queue: run.queue,
      tags: run.runTags,
    };
  });
  const taskOptions = [...new Set([...(worker?.tasks.map((t) => t.slug) ?? []), ...rows.map((r) => r.taskIdentifier)])].sort();
  return {
    rows,
    nextHref: page.nextHref,
    previousHref: page.previousHref,
    filters,
    isFiltered: filters.statuses.length > 0 || !!filters.task || !!filters.tag || !!filters.queue || !!filters.batch || filters.period !== DEFAULT_RUN_PERIOD,
    statusOptions: PUBLIC_RUN_STATUSES,
    periodOptions: RUN_PERIODS,
    taskOptions,
    refreshedAt: timestamp(now, now),
  };
}

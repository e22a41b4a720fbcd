import type { EnvironmentScope } from "~/services/dashboardAuth.server";
import type { Runtime } from "~/services/runtime.server";
import { describeCron, nextTicks } from "~/v3/schedules/cron.server";
import { timestamp, type Timestamp } from "./format";
import { envPath, runPath } from "./paths";

export const SCHEDULES_PER_PAGE = 25;

export type ScheduleRow = {
  id: string;
  type: "DECLARATIVE" | "IMPERATIVE";
  task: string;
  cron: string;
  /** The cron in words ("At 01:00"). */
  description: string;
  timezone: string;
  externalId: string | null;
  deduplicationKey: string | null;
  active: boolean;
  /** The next five ticks (none while inactive). */
  upcoming: Timestamp[];
  lastRun: { id: string; href: string; tick: Timestamp } | null;
  runsHref: string;
};

export type SchedulesPage = {
  rows: ScheduleRow[];
  /** Tasks of the current worker version: what a new schedule can run. */
  taskOptions: string[];
  page: number;
  pageCount: number;
  refreshedAt: Timestamp;
};

/** The environment's schedules, newest first, with their next five times and last run. */
export async function presentSchedules(
  runtime: Pick<Runtime, "prisma" | "resolver">,
  scope: EnvironmentScope,
  url: URL,
  now: Date = new Date()
): Promise<SchedulesPage> {
  const where = { runtimeEnvironmentId: scope.environment.id };
  const count = await runtime.prisma.taskSchedule.count({ where });
  const pageCount = Math.max(1, Math.ceil(count / SCHEDULES_PER_PAGE));
  const requested = Number.parseInt(url.searchParams.get("page") ?? "1", 10);
  const page = Number.isFinite(requested) ? Math.min(Math.max(1, requested), pageCount) : 1;
  const [schedules, worker] = await Promise.all([
    runtime.prisma.taskSchedule.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      skip: (page - 1) * SCHEDULES_PER_PAGE,
      take: SCHEDULES_PER_PAGE,
    }),
    runtime.resolver.resolveWorkerVersion(scope.environment.id).catch(() => null),
  ]);
  const base = envPath(scope);
  return {
    rows: schedules.map((s) => ({
      id: s.friendlyId,
      type: s.type,
      task: s.taskIdentifier,
      cron: s.cron,
      description: describeCron(s.cron),
      timezone: s.timezone,
      externalId: s.externalId,
      deduplicationKey: s.deduplicationKey,
      active: s.active,
      upcoming: s.active ? nextTicks({ cron: s.cron, timezone: s.timezone }, now, 5).map((d) => timestamp(d, now)) : [],
      lastRun: s.lastRunFriendlyId ? { id: s.lastRunFriendlyId, href: runPath(scope, s.lastRunFriendlyId), tick: timestamp(s.lastTickAt, now) } : null,
      runsHref: `${base}/runs?schedule=${encodeURIComponent(s.friendlyId)}&period=all`,
    })),
    taskOptions: (worker?.tasks.map((t) => t.slug) ?? []).sort((a, b) => a.localeCompare(b)),
    page,
    pageCount,
    refreshedAt: timestamp(now, now),
  };
}

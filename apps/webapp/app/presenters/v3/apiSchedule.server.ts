import type { ControlPlaneClient, TaskSchedule } from "@internal/database";
import type { AuthenticatedEnvironment } from "@internal/database/resolver";
import { ListSchedulesResponse, ScheduleObject, type ListSchedulesQuery } from "@runplane/core/schemas";
import type { z } from "zod";
import { describeCron } from "~/v3/schedules/cron.server";

type ScheduleEnvironment = Pick<AuthenticatedEnvironment, "id" | "type">;

/** A schedule row as the SDK's `ScheduleObject`. */
export function presentSchedule(schedule: TaskSchedule, environment: ScheduleEnvironment): z.output<typeof ScheduleObject> {
  return ScheduleObject.parse({
    id: schedule.friendlyId,
    type: schedule.type,
    task: schedule.taskIdentifier,
    active: schedule.active,
    deduplicationKey: schedule.deduplicationKey,
    externalId: schedule.externalId,
    generator: { type: "CRON", expression: schedule.cron, description: describeCron(schedule.cron) },
    timezone: schedule.timezone,
    nextRun: schedule.active ? schedule.nextTickAt : null,
    environments: [{ id: environment.id, type: environment.type, userName: null }],
  } satisfies ScheduleObject);
}

/** `schedules.list({ page, perPage })`: the environment's schedules, newest first, offset-paged. */
export async function listSchedulesForApi(
  prisma: ControlPlaneClient,
  environment: ScheduleEnvironment,
  query: ListSchedulesQuery
): Promise<z.output<typeof ListSchedulesResponse>> {
  const where = { runtimeEnvironmentId: environment.id };
  const [count, rows] = await Promise.all([
    prisma.taskSchedule.count({ where }),
    prisma.taskSchedule.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      skip: (query.page - 1) * query.perPage,
      take: query.perPage,
    }),
  ]);
  return ListSchedulesResponse.parse({
    data: rows.map((row) => presentSchedule(row, environment)),
    pagination: { currentPage: query.page, totalPages: Math.ceil(count / query.perPage), count },
  });
}

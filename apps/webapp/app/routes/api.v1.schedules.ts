import { ValidationError } from "@runplane/core";
import {
  CreateScheduleRequestBody,
  ListSchedulesQuery,
  MAX_SCHEDULE_BODY_BYTES,
  formatZodIssues,
  searchParamsToRecord,
} from "@runplane/core/schemas";
import { listSchedulesForApi, presentSchedule } from "~/presenters/v3/apiSchedule.server";
import { apiAction, apiLoader, json, readJsonBody } from "~/services/apiRoute.server";
import { ScheduleService } from "~/v3/schedules/scheduleService.server";

/** GET /api/v1/schedules?page=&perPage=: the environment's schedules, newest first. Secret key only. */
export const loader = apiLoader({}, async ({ request, auth, runtime }) => {
  const query = ListSchedulesQuery.safeParse(searchParamsToRecord(new URL(request.url).searchParams));
  if (!query.success) throw new ValidationError(formatZodIssues(query.error));
  return json(await listSchedulesForApi(runtime.prisma, auth.environment, query.data));
});

/** POST /api/v1/schedules `{ task, cron, timezone?, externalId?, deduplicationKey? }` → the schedule (an upsert by deduplicationKey). */
export const action = apiAction({}, {
  POST: async ({ request, auth, runtime }) => {
    const body = await readJsonBody(request, CreateScheduleRequestBody, { maxBytes: MAX_SCHEDULE_BODY_BYTES });
    const schedule = await new ScheduleService(runtime).create(auth.environment, body);
    return json(presentSchedule(schedule, auth.environment));
  },
});

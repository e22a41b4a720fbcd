import { DeletedScheduleObject, MAX_SCHEDULE_BODY_BYTES, UpdateScheduleRequestBody } from "@runplane/core/schemas";
import { presentSchedule } from "~/presenters/v3/apiSchedule.server";
import { apiAction, apiLoader, json, readJsonBody, requireParam } from "~/services/apiRoute.server";
import { ScheduleService } from "~/v3/schedules/scheduleService.server";

/** GET /api/v1/schedules/{id}: one schedule of the environment (404 otherwise). Secret key only. */
export const loader = apiLoader({}, async ({ params, auth, runtime }) => {
  const schedule = await new ScheduleService(runtime).find(auth.environment, requireParam(params, "scheduleId"));
  return json(presentSchedule(schedule, auth.environment));
});

/** PUT `{ task, cron, timezone?, externalId? }` → the schedule; DELETE → `{ id }`. Imperative schedules only (422). */
export const action = apiAction({}, {
  PUT: async ({ request, params, auth, runtime }) => {
    const body = await readJsonBody(request, UpdateScheduleRequestBody, { maxBytes: MAX_SCHEDULE_BODY_BYTES });
    const schedule = await new ScheduleService(runtime).update(auth.environment, requireParam(params, "scheduleId"), body);
    return json(presentSchedule(schedule, auth.environment));
  },
  DELETE: async ({ params, auth, runtime }) => {
    const deleted = await new ScheduleService(runtime).delete(auth.environment, requireParam(params, "scheduleId"));
    return json(DeletedScheduleObject.parse(deleted));
  },
});

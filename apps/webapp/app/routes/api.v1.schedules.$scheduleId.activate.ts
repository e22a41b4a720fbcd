import { presentSchedule } from "~/presenters/v3/apiSchedule.server";
import { apiAction, json, requireParam } from "~/services/apiRoute.server";
import { ScheduleService } from "~/v3/schedules/scheduleService.server";

/** POST /api/v1/schedules/{id}/activate → the schedule. Imperative schedules only (422). Secret key only. */
export const action = apiAction({}, {
  POST: async ({ params, auth, runtime }) => {
    const schedule = await new ScheduleService(runtime).setActive(auth.environment, requireParam(params, "scheduleId"), true);
    return json(presentSchedule(schedule, auth.environment));
  },
});

import { RescheduleRunRequestBody } from "@runplane/core/schemas";
import { presentRetrievedRun } from "~/presenters/v3/apiRun.server";
import { apiAction, json, readJsonBody, requireParam } from "~/services/apiRoute.server";
import { rescheduleRunForApi } from "~/v3/runs/mutations/rescheduleRun.server";

/** POST /api/v1/runs/{id}/reschedule `{ delay }` → the full run object. Only DELAYED runs (422 otherwise). Secret key only. */
export const action = apiAction({}, {
  POST: async ({ request, params, auth }) => {
    const body = await readJsonBody(request, RescheduleRunRequestBody, { maxBytes: 64 * 1024 });
    const run = await rescheduleRunForApi(auth.environment, requireParam(params, "runId"), body);
    return json(await presentRetrievedRun(run));
  },
});

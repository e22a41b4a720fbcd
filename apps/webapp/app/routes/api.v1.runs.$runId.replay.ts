import { ReplayRunRequestBody, ReplayRunResponse } from "@runplane/core/schemas";
import { apiAction, json, readJsonBody, requireParam } from "~/services/apiRoute.server";
import { replayRunForApi } from "~/v3/runs/mutations/replayRun.server";

/** POST /api/v1/runs/{id}/replay (empty, or overrides) → `{ id }` of the new run. Secret key only. */
export const action = apiAction({}, {
  POST: async ({ request, params, auth }) => {
    const body = await readJsonBody(request, ReplayRunRequestBody.optional(), { maxBytes: 3 * 1024 * 1024 });
    return json(ReplayRunResponse.parse(await replayRunForApi(auth.environment, requireParam(params, "runId"), body)));
  },
});

import { AddTagsRequestBody, AddTagsResponse } from "@runplane/core/schemas";
import { apiAction, json, readJsonBody, requireParam } from "~/services/apiRoute.server";
import { addTagsForApi } from "~/v3/runs/mutations/addTags.server";

/** POST /api/v1/runs/{id}/tags `{ tags }` → `{ message }`. More than 10 tags on the run → 422. Secret key only. */
export const action = apiAction({}, {
  POST: async ({ request, params, auth }) => {
    const body = await readJsonBody(request, AddTagsRequestBody, { maxBytes: 64 * 1024 });
    return json(AddTagsResponse.parse(await addTagsForApi(auth.environment, requireParam(params, "runId"), body)));
  },
});

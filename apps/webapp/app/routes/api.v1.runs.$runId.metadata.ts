import { MAX_METADATA_BODY_BYTES, UpdateMetadataRequestBody, UpdateMetadataResponseBody } from "@runplane/core/schemas";
import { apiAction, apiLoader, json, readJsonBody, requireParam } from "~/services/apiRoute.server";
import { getMetadataForApi, updateMetadataForApi } from "~/v3/runs/mutations/updateMetadata.server";

/** GET /api/v1/runs/{id}/metadata → `{ metadata }` (an object). Secret key only. */
export const loader = apiLoader({}, async ({ params, auth }) =>
  json(UpdateMetadataResponseBody.parse(await getMetadataForApi(auth.environment, requireParam(params, "runId"))))
);

/** PUT /api/v1/runs/{id}/metadata `{ metadata?, operations?, parentOperations?, rootOperations? }` → `{ metadata }`. */
export const action = apiAction({}, {
  PUT: async ({ request, params, auth }) => {
    const body = await readJsonBody(request, UpdateMetadataRequestBody, { maxBytes: MAX_METADATA_BODY_BYTES });
    return json(UpdateMetadataResponseBody.parse(await updateMetadataForApi(auth.environment, requireParam(params, "runId"), body)));
  },
});

import { NDJSON_CONTENT_TYPES, StreamBatchItemsResponse } from "@runplane/core/schemas";
import { streamBatchItemsForApi } from "~/runEngine/services/batchTrigger.server";
import { UnsupportedMediaTypeError, apiAction, json, requireParam } from "~/services/apiRoute.server";

/** POST /api/v3/batches/{id}/items (NDJSON, one item per line) → `{ id, itemsAccepted, itemsDeduplicated, sealed, … }`. Phase 2. */
export const action = apiAction({ allowJwt: true }, {
  POST: async ({ request, params, auth }) => {
    const contentType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (!(NDJSON_CONTENT_TYPES as readonly string[]).includes(contentType)) throw new UnsupportedMediaTypeError(contentType);
    const result = await streamBatchItemsForApi({
      environment: auth.environment,
      auth,
      batchFriendlyId: requireParam(params, "batchId"),
      body: request.body,
    });
    return json(StreamBatchItemsResponse.parse(result));
  },
});

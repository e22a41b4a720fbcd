import { batchResponseHeaders, canBatchTrigger } from "@runplane/core/auth";
import { CreateBatchRequestBody, CreateBatchResponse, readSdkRequestHeaders } from "@runplane/core/schemas";
import { withRequestIdempotency } from "~/runEngine/requestIdempotency.server";
import { createBatchForApi } from "~/runEngine/services/batchTrigger.server";
import { claimOneTimeUse, requireScope } from "~/services/apiAuth.server";
import { apiAction, json, readJsonBody } from "~/services/apiRoute.server";

/**
 * POST /api/v3/batches `{ runCount, taskIdentifiers?, parentRunId?, resumeParentOnCompletion?, idempotencyKey? }`
 * → 202 `{ id, runCount, isCached, idempotencyKey? }` + `x-trigger-jwt`. Phase 1 of every batch trigger.
 * Key, or `batchTrigger:tasks:<id>` for every task named.
 */
export const action = apiAction({ allowJwt: true }, {
  POST: async ({ request, auth }) => {
    const body = await readJsonBody(request, CreateBatchRequestBody, { maxBytes: 1024 * 1024 });
    requireScope(auth, (scopes) => canBatchTrigger(scopes, body.taskIdentifiers ?? []));
    const { environment } = auth;
    const created = await withRequestIdempotency({
      environmentId: environment.id,
      scope: "batch",
      key: readSdkRequestHeaders(request.headers).requestIdempotencyKey,
      run: async () => {
        const otu = await claimOneTimeUse(auth, (body.taskIdentifiers ?? []).join(", ") || "batch");
        try {
          return await createBatchForApi(environment, body);
        } catch (error) {
          await otu.release();
          throw error;
        }
      },
    });
    const headers = await batchResponseHeaders({ secretKey: environment.apiKey, environmentId: environment.id, batchFriendlyId: created.id });
    return json(CreateBatchResponse.parse(created), { status: 202, headers });
  },
});

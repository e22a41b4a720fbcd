import { canResetIdempotencyKey } from "@runplane/core/auth";
import { ResetIdempotencyKeyRequestBody, ResetIdempotencyKeyResponse } from "@runplane/core/schemas";
import { requireScope } from "~/services/apiAuth.server";
import { apiAction, json, readJsonBody, requireParam } from "~/services/apiRoute.server";
import { resetIdempotencyKeyForApi } from "~/v3/runs/mutations/resetIdempotencyKey.server";

/** POST /api/v1/idempotencyKeys/{key}/reset `{ taskIdentifier }` → `{ id: key }`; 404 when no run holds it. Key, or `write:runs`. */
export const action = apiAction({ allowJwt: true }, {
  POST: async ({ request, params, auth }) => {
    requireScope(auth, canResetIdempotencyKey);
    const body = await readJsonBody(request, ResetIdempotencyKeyRequestBody, { maxBytes: 64 * 1024 });
    const key = requireParam(params, "key");
    return json(ResetIdempotencyKeyResponse.parse(await resetIdempotencyKeyForApi(auth.environment, key, body.taskIdentifier)));
  },
});

import { canCompleteWaitpoint } from "@runplane/core/auth";
import { CompleteWaitpointTokenRequestBody, CompleteWaitpointTokenResponse, MAX_COMPLETE_TOKEN_BODY_BYTES } from "@runplane/core/schemas";
import { requireScope } from "~/services/apiAuth.server";
import { apiAction, json, readJsonBody, requireParam } from "~/services/apiRoute.server";
import { completeWaitpointToken } from "~/v3/waitpoints/waitpointTokens.server";

/** POST /api/v1/waitpoints/tokens/{id}/complete `{ data }` → `{ success: true }`. Key, or `write:waitpoints:<id>`. */
export const action = apiAction({ allowJwt: true }, {
  POST: async ({ request, params, auth }) => {
    const waitpointId = requireParam(params, "waitpointId");
    requireScope(auth, (scopes) => canCompleteWaitpoint(scopes, waitpointId));
    const body = await readJsonBody(request, CompleteWaitpointTokenRequestBody, { maxBytes: MAX_COMPLETE_TOKEN_BODY_BYTES, emptyAs: {} });
    return json(CompleteWaitpointTokenResponse.parse(await completeWaitpointToken(auth.environment, waitpointId, body.data)));
  },
});

import { waitpointTokenResponseHeaders } from "@runplane/core/auth";
import {
  CreateWaitpointTokenRequestBody,
  CreateWaitpointTokenResponse,
  ListWaitpointTokensResponse,
  MAX_CREATE_TOKEN_BODY_BYTES,
  parseListWaitpointTokensQuery,
  queryErrorBody,
} from "@runplane/core/schemas";
import { ValidationError } from "@runplane/core";
import { apiAction, apiLoader, json, readJsonBody } from "~/services/apiRoute.server";
import { withResponseFields } from "~/services/httpErrors.server";
import { createWaitpointToken, listWaitpointTokens } from "~/v3/waitpoints/waitpointTokens.server";

/** GET /api/v1/waitpoints/tokens: the environment's wait tokens, newest first, with filters. Secret key only. */
export const loader = apiLoader({}, async ({ request, auth }) => {
  const query = parseListWaitpointTokensQuery(new URL(request.url).searchParams);
  if (!query.success) {
    const { error, ...rest } = queryErrorBody(query.error);
    throw withResponseFields(new ValidationError(error), { body: rest });
  }
  return json(ListWaitpointTokensResponse.parse(await listWaitpointTokens(auth.environment, query.data)));
});

/** POST /api/v1/waitpoints/tokens `{ timeout?, idempotencyKey?, idempotencyKeyTTL?, tags? }` → `{ id, isCached, url }` + `x-trigger-jwt`. */
export const action = apiAction({}, {
  POST: async ({ request, auth }) => {
    const body = await readJsonBody(request, CreateWaitpointTokenRequestBody, { maxBytes: MAX_CREATE_TOKEN_BODY_BYTES, emptyAs: {} });
    const created = await createWaitpointToken(auth.environment, body);
    const headers = await waitpointTokenResponseHeaders({
      secretKey: auth.environment.apiKey,
      environmentId: auth.environment.id,
      waitpointFriendlyId: created.id,
    });
    return json(CreateWaitpointTokenResponse.parse(created), { headers });
  },
});

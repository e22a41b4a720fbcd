import { ValidationError } from "@runplane/core";
import { parseScope, signPublicToken } from "@runplane/core/auth";
import { CreatePublicTokenRequestBody, CreatePublicTokenResponse } from "@runplane/core/schemas";
import { apiAction, json, readJsonBody } from "~/services/apiRoute.server";

/**
 * POST /api/v1/auth/public-tokens `{ scopes, expirationTime?, oneTimeUse?, realtime? }` → `{ token }`:
 * a public access token signed for the key's environment (for callers that cannot sign themselves).
 */
export const action = apiAction({}, {
  POST: async ({ request, auth }) => {
    const body = await readJsonBody(request, CreatePublicTokenRequestBody, { maxBytes: 64 * 1024 });
    const bad = body.scopes.find((scope) => parseScope(scope) === undefined);
    if (bad) throw new ValidationError(`scopes: "${bad}" is not a scope (action:type[:id])`);
    const token = await signPublicToken({
      secretKey: auth.environment.apiKey,
      environmentId: auth.environment.id,
      scopes: body.scopes,
      expirationTime: body.expirationTime ?? "15m",
      oneTimeUse: body.oneTimeUse,
      realtime: body.realtime,
    }).catch(() => {
      throw new ValidationError(`expirationTime: "${String(body.expirationTime)}" is not a time span or epoch seconds`);
    });
    return json(CreatePublicTokenResponse.parse({ token }));
  },
});

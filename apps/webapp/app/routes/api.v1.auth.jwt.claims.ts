import { JwtClaimsResponse } from "@runplane/core/schemas";
import { apiAction, json, readBodyText } from "~/services/apiRoute.server";

/** POST /api/v1/auth/jwt/claims (empty body, secret key) → `{ sub, pub: true }`: the SDK signs public tokens with these claims. */
export const action = apiAction({}, {
  POST: async ({ request, auth }) => {
    await readBodyText(request, 64 * 1024);
    return json(JwtClaimsResponse.parse({ sub: auth.environment.id, pub: true }));
  },
});

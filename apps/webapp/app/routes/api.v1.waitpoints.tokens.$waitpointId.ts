import { apiLoader, json, requireParam } from "~/services/apiRoute.server";
import { retrieveWaitpointToken } from "~/v3/waitpoints/waitpointTokens.server";

/** GET /api/v1/waitpoints/tokens/{id}: the token with its raw output. Secret key only. */
export const loader = apiLoader({}, async ({ params, auth }) => json(await retrieveWaitpointToken(auth.environment, requireParam(params, "waitpointId"))));

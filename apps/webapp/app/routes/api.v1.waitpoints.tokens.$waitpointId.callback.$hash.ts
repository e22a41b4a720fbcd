import type { ActionFunctionArgs } from "@remix-run/node";
import { ValidationError } from "@runplane/core";
import { CompleteWaitpointTokenResponse, MAX_COMPLETE_TOKEN_BODY_BYTES, parseOptionalJsonBody } from "@runplane/core/schemas";
import { json, readBodyText, requireParam } from "~/services/apiRoute.server";
import { withErrorResponse } from "~/services/httpErrors.server";
import { completeWaitpointTokenByCallback } from "~/v3/waitpoints/waitpointTokens.server";

/**
 * POST <token url>: completes the token with the POSTed JSON as its data. No API key: the hash in the
 * URL (HMAC of the token id under the environment's key) is the credential. Bad hash → 401, unknown → 404.
 */
export async function action({ request, params, context }: ActionFunctionArgs) {
  return withErrorResponse(async () => {
    if (request.method.toUpperCase() !== "POST") throw new ValidationError("Use POST");
    const waitpointId = requireParam(params, "waitpointId");
    const hash = requireParam(params, "hash");
    const parsed = parseOptionalJsonBody(await readBodyText(request, MAX_COMPLETE_TOKEN_BODY_BYTES));
    if (!parsed.ok) throw new ValidationError(parsed.error);
    return json(CompleteWaitpointTokenResponse.parse(await completeWaitpointTokenByCallback(waitpointId, hash, parsed.value)));
  }, context.runtime.logger);
}

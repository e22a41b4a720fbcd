import type { ActionFunctionArgs } from "@remix-run/node";
import { json, readJsonBody } from "~/services/apiRoute.server";
import { createAuthorizationCode, CreateAuthorizationCodeRequest } from "~/services/cliLogin.server";
import { withErrorResponse } from "~/services/httpErrors.server";

/** POST /api/v1/authorization-code: starts a `trigger.dev login` (no credential yet; PKCE-bound). */
export const action = ({ request, context }: ActionFunctionArgs) =>
  withErrorResponse(async () => {
    const body = await readJsonBody(request, CreateAuthorizationCodeRequest, { maxBytes: 4096 });
    return json(await createAuthorizationCode(context.runtime.prisma, context.runtime.env.APP_ORIGIN, body));
  }, context.runtime.logger);

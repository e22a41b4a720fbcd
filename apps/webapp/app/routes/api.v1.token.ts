import type { ActionFunctionArgs } from "@remix-run/node";
import { json, readJsonBody } from "~/services/apiRoute.server";
import { exchangeAuthorizationCode, ExchangeAuthorizationCodeRequest } from "~/services/cliLogin.server";
import { withErrorResponse } from "~/services/httpErrors.server";

/** POST /api/v1/token: exchanges an approved authorization code for a personal access token, once. */
export const action = ({ request, context }: ActionFunctionArgs) =>
  withErrorResponse(async () => {
    const body = await readJsonBody(request, ExchangeAuthorizationCodeRequest, { maxBytes: 4096 });
    return json(await exchangeAuthorizationCode(context.runtime.prisma, body));
  }, context.runtime.logger);

import { apiAction, json } from "~/services/apiRoute.server";
import { devDebugLog } from "~/v3/devProtocol/devProtocol.server";

/** POST /engine/v1/dev/runs/:runId/logs/debug: the dev CLI's debug lines about a run. */
export const action = apiAction({}, { POST: async ({ request, params, auth }) => json(await devDebugLog(auth.environment, request, params)) });

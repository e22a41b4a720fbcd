import { apiAction, json } from "~/services/apiRoute.server";
import { waitForToken } from "~/v3/devProtocol/inTaskWaits.server";

/** POST /engine/v1/runs/:runId/waitpoints/tokens/:waitpointId/wait: `wait.forToken` from inside a task. */
export const action = apiAction({}, { POST: async ({ request, params, auth }) => json(await waitForToken(auth.environment, request, params)) });

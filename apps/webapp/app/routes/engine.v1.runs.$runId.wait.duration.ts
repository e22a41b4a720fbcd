import { apiAction, json } from "~/services/apiRoute.server";
import { waitForDuration } from "~/v3/devProtocol/inTaskWaits.server";

/** POST /engine/v1/runs/:runId/wait/duration: `wait.for` / `wait.until` from inside a task. */
export const action = apiAction({}, { POST: async ({ request, params, auth }) => json(await waitForDuration(auth.environment, request, params)) });

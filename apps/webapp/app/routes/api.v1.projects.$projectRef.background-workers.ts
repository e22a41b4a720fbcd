import { apiAction, json } from "~/services/apiRoute.server";
import { createBackgroundWorker } from "~/v3/devProtocol/backgroundWorkers.server";

/** POST /api/v1/projects/:projectRef/background-workers: the trigger.dev CLI registers its build. */
export const action = apiAction({}, {
  POST: async ({ request, params, auth }) => json(await createBackgroundWorker(auth.environment, params.projectRef, request)),
});

import { apiAction, json } from "~/services/apiRoute.server";
import { devDequeue } from "~/v3/devProtocol/devProtocol.server";

/** POST /engine/v1/dev/dequeue: runs for the dev CLI's worker versions. */
export const action = apiAction({}, { POST: async ({ request, auth }) => json(await devDequeue(auth.environment, request)) });

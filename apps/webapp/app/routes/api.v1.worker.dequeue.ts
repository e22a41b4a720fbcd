import { apiAction, json } from "~/services/apiRoute.server";
import { dequeue } from "~/v3/workerProtocol/workerProtocol.server";

/** POST /api/v1/worker/dequeue: long-poll for runs to execute (docs/worker-protocol.md §4). */
export const action = apiAction({}, {
  POST: async ({ request, auth }) => json(await dequeue(auth.environment, request)),
});

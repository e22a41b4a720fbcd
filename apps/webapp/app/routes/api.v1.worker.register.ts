import { apiAction, json } from "~/services/apiRoute.server";
import { registerWorker } from "~/v3/workerProtocol/workerProtocol.server";

/** POST /api/v1/worker/register: upserts a worker version and its tasks, queues and retry policies (docs/worker-protocol.md §3). */
export const action = apiAction({}, {
  POST: async ({ request, auth }) => json(await registerWorker(auth.environment, request)),
});

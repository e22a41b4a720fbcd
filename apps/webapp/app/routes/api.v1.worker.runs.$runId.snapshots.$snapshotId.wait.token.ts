import { apiAction, json } from "~/services/apiRoute.server";
import { waitForToken } from "~/v3/workerProtocol/workerProtocol.server";

/** POST …/runs/:runId/snapshots/:snapshotId/wait/token: blocks the run on a wait token (docs/worker-protocol.md §8). */
export const action = apiAction({}, {
  POST: async ({ request, params, auth }) => json(await waitForToken(auth.environment, request, params)),
});

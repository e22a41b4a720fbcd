import { apiAction, json } from "~/services/apiRoute.server";
import { waitForDuration } from "~/v3/workerProtocol/workerProtocol.server";

/** POST …/runs/:runId/snapshots/:snapshotId/wait/duration: blocks the run until a date (docs/worker-protocol.md §8). */
export const action = apiAction({}, {
  POST: async ({ request, params, auth }) => json(await waitForDuration(auth.environment, request, params)),
});

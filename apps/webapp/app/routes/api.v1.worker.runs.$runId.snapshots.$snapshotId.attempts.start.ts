import { apiAction, json } from "~/services/apiRoute.server";
import { startAttempt } from "~/v3/workerProtocol/workerProtocol.server";

/** POST …/runs/:runId/snapshots/:snapshotId/attempts/start: creates the attempt (docs/worker-protocol.md §5). */
export const action = apiAction({}, {
  POST: async ({ request, params, auth }) => json(await startAttempt(auth.environment, request, params)),
});

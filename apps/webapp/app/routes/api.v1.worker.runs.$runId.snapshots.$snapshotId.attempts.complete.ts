import { apiAction, json } from "~/services/apiRoute.server";
import { completeAttempt } from "~/v3/workerProtocol/workerProtocol.server";

/** POST …/runs/:runId/snapshots/:snapshotId/attempts/complete: the attempt's result; the server decides the retry (docs/worker-protocol.md §7). */
export const action = apiAction({}, {
  POST: async ({ request, params, auth }) => json(await completeAttempt(auth.environment, request, params)),
});

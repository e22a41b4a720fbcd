import { apiAction, json } from "~/services/apiRoute.server";
import { heartbeat } from "~/v3/workerProtocol/workerProtocol.server";

/** POST …/runs/:runId/snapshots/:snapshotId/heartbeat: pushes the heartbeat deadline out (docs/worker-protocol.md §6). */
export const action = apiAction({}, {
  POST: async ({ request, params, auth }) => json(await heartbeat(auth.environment, request, params)),
});

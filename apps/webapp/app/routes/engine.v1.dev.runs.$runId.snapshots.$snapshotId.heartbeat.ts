import { apiAction, json } from "~/services/apiRoute.server";
import { devHeartbeat } from "~/v3/devProtocol/devProtocol.server";

/** POST /engine/v1/dev/runs/:runId/snapshots/:snapshotId/heartbeat */
export const action = apiAction({}, { POST: async ({ request, params, auth }) => json(await devHeartbeat(auth.environment, request, params)) });

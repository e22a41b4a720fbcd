import { apiAction, json } from "~/services/apiRoute.server";
import { devCompleteAttempt } from "~/v3/devProtocol/devProtocol.server";

/** POST /engine/v1/dev/runs/:runId/snapshots/:snapshotId/attempts/complete */
export const action = apiAction({}, { POST: async ({ request, params, auth }) => json(await devCompleteAttempt(auth.environment, request, params)) });

import { apiAction, json } from "~/services/apiRoute.server";
import { devStartAttempt } from "~/v3/devProtocol/devProtocol.server";

/** POST /engine/v1/dev/runs/:runId/snapshots/:snapshotId/attempts/start: the execution and env vars. */
export const action = apiAction({}, { POST: async ({ params, auth }) => json(await devStartAttempt(auth.environment, params)) });

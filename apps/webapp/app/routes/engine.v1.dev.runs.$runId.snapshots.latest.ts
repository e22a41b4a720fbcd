import { apiLoader, json } from "~/services/apiRoute.server";
import { devLatestSnapshot } from "~/v3/devProtocol/devProtocol.server";

/** GET /engine/v1/dev/runs/:runId/snapshots/latest: the run's state and completed waitpoints. */
export const loader = apiLoader({}, async ({ params, auth }) => json(await devLatestSnapshot(auth.environment, params)));

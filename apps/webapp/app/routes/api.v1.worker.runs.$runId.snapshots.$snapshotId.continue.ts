import { apiLoader, json } from "~/services/apiRoute.server";
import { continueRun } from "~/v3/workerProtocol/workerProtocol.server";

/** GET …/runs/:runId/snapshots/:snapshotId/continue?waitMs=: long-poll for what happened since the snapshot (docs/worker-protocol.md §8). */
export const loader = apiLoader({}, async ({ request, params, auth }) =>
  json(await continueRun(auth.environment, request, params), { headers: { "cache-control": "no-store" } })
);

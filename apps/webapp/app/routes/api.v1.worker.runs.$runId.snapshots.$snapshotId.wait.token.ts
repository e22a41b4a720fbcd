import type { ActionFunctionArgs } from "@remix-run/node";
import { handleWorkerRequest } from "~/v3/workerProtocol/http.server";
import { waitForToken } from "~/v3/workerProtocol/workerProtocol.server";

/** POST …/runs/:runId/snapshots/:snapshotId/wait/token: blocks the run on a wait token (docs/worker-protocol.md §8). */
export function action({ request, params }: ActionFunctionArgs) {
  return handleWorkerRequest(request, "POST", (environment) => waitForToken(environment, request, params));
}

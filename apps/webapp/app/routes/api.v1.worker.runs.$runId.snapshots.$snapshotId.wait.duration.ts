import type { ActionFunctionArgs } from "@remix-run/node";
import { handleWorkerRequest } from "~/v3/workerProtocol/http.server";
import { waitForDuration } from "~/v3/workerProtocol/workerProtocol.server";

/** POST …/runs/:runId/snapshots/:snapshotId/wait/duration: blocks the run until a date (docs/worker-protocol.md §8). */
export function action({ request, params }: ActionFunctionArgs) {
  return handleWorkerRequest(request, "POST", (environment) => waitForDuration(environment, request, params));
}

import type { ActionFunctionArgs } from "@remix-run/node";
import { handleWorkerRequest } from "~/v3/workerProtocol/http.server";
import { startAttempt } from "~/v3/workerProtocol/workerProtocol.server";

/** POST …/runs/:runId/snapshots/:snapshotId/attempts/start: creates the attempt (docs/worker-protocol.md §5). */
export function action({ request, params }: ActionFunctionArgs) {
  return handleWorkerRequest(request, "POST", (environment) => startAttempt(environment, request, params));
}

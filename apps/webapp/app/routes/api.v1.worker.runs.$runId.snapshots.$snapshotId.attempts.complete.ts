import type { ActionFunctionArgs } from "@remix-run/node";
import { handleWorkerRequest } from "~/v3/workerProtocol/http.server";
import { completeAttempt } from "~/v3/workerProtocol/workerProtocol.server";

/** POST …/runs/:runId/snapshots/:snapshotId/attempts/complete: the attempt's result; the server decides the retry (docs/worker-protocol.md §7). */
export function action({ request, params }: ActionFunctionArgs) {
  return handleWorkerRequest(request, "POST", (environment) => completeAttempt(environment, request, params));
}

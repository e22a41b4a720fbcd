import type { LoaderFunctionArgs } from "@remix-run/node";
import { handleWorkerRequest } from "~/v3/workerProtocol/http.server";
import { continueRun } from "~/v3/workerProtocol/workerProtocol.server";

/** GET …/runs/:runId/snapshots/:snapshotId/continue?waitMs=: long-poll for what happened since the snapshot (docs/worker-protocol.md §8). */
export function loader({ request, params }: LoaderFunctionArgs) {
  return handleWorkerRequest(request, "GET", (environment) => continueRun(environment, request, params));
}

import type { ActionFunctionArgs } from "@remix-run/node";
import { handleWorkerRequest } from "~/v3/workerProtocol/http.server";
import { heartbeat } from "~/v3/workerProtocol/workerProtocol.server";

/** POST …/runs/:runId/snapshots/:snapshotId/heartbeat: pushes the heartbeat deadline out (docs/worker-protocol.md §6). */
export function action({ request, params }: ActionFunctionArgs) {
  return handleWorkerRequest(request, "POST", (environment) => heartbeat(environment, request, params));
}

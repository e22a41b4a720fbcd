import type { ActionFunctionArgs } from "@remix-run/node";
import { handleWorkerRequest } from "~/v3/workerProtocol/http.server";
import { registerWorker } from "~/v3/workerProtocol/workerProtocol.server";

/** POST /api/v1/worker/register: upserts a worker version and its tasks, queues and retry policies (docs/worker-protocol.md §3). */
export function action({ request }: ActionFunctionArgs) {
  return handleWorkerRequest(request, "POST", (environment) => registerWorker(environment, request));
}

import type { ActionFunctionArgs } from "@remix-run/node";
import { handleWorkerRequest } from "~/v3/workerProtocol/http.server";
import { dequeue } from "~/v3/workerProtocol/workerProtocol.server";

/** POST /api/v1/worker/dequeue: long-poll for runs to execute (docs/worker-protocol.md §4). */
export function action({ request }: ActionFunctionArgs) {
  return handleWorkerRequest(request, "POST", (environment) => dequeue(environment, request));
}

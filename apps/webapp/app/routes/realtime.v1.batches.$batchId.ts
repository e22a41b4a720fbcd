import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { NotFoundError } from "@runplane/core";
import { canReadBatch } from "@runplane/core/auth";
import { requireScope } from "~/services/apiAuth.server";
import { handleRealtimeRequest, realtimePreflight } from "~/v3/realtime/realtimeRoute.server";

/** `runs.subscribeToBatch`: the runs of one batch, as they are created and change. */
export function loader({ request, params, context }: LoaderFunctionArgs) {
  return handleRealtimeRequest(request, context.runtime, async ({ auth, runtime, skipColumns }) => {
    const batch = await runtime.runStore.findBatch({ friendlyId: params.batchId ?? "" });
    // Authorise after resolving: another environment's batch does not exist for this caller.
    if (!batch || batch.runtimeEnvironmentId !== auth.environment.id) throw new NotFoundError("Batch not found");
    requireScope(auth, (scopes) => canReadBatch(scopes, batch.friendlyId));
    return {
      kind: "runs",
      environmentId: auth.environment.id,
      filter: { kind: "batch", batchId: batch.id },
      definition: ["batch", batch.id],
      skipColumns,
    };
  });
}

export function action({ request }: ActionFunctionArgs) {
  return realtimePreflight(request);
}

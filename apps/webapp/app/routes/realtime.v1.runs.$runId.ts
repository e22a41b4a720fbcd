import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { NotFoundError } from "@runplane/core";
import { canReadRun } from "@runplane/core/auth";
import { requireScope } from "~/services/apiAuth.server";
import { handleRealtimeRequest, realtimePreflight } from "~/v3/realtime/realtimeRoute.server";
import { batchFriendlyIdOf } from "~/v3/realtime/runSource.server";

/** `runs.subscribeToRun`: one run as an Electric shape (snapshot, then live long-polls). */
export function loader({ request, params, context }: LoaderFunctionArgs) {
  return handleRealtimeRequest(request, context.runtime, async ({ auth, source, skipColumns }) => {
    const run = await source.loadRun(auth.environment, params.runId ?? "");
    if (!run) throw new NotFoundError("Run not found");
    requireScope(auth, (scopes) =>
      canReadRun(scopes, { friendlyId: run.friendlyId, taskIdentifier: run.taskIdentifier, tags: run.runTags, batchFriendlyId: batchFriendlyIdOf(run) })
    );
    return { kind: "run", environmentId: auth.environment.id, run, skipColumns };
  });
}

export function action({ request }: ActionFunctionArgs) {
  return realtimePreflight(request);
}

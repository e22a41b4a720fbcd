import { getRuntime } from "~/services/runtime.server";
import { cancelBufferedRun } from "~/v3/mollifier/apiWiring.server";
import { requireRunForApi, type ApiEnvironmentRef, type ApiRun } from "../findRunForApi.server";

/**
 * Cancels a run. Not started → CANCELED at once; executing → PENDING_CANCEL until the worker stops it.
 * Already final → nothing changes (still a success). `authorize` sees the run before anything changes
 * (public-token scope checks).
 */
export async function cancelRunForApi(
  environment: ApiEnvironmentRef,
  runId: string,
  options: { authorize?: (run: ApiRun) => void } = {}
): Promise<{ id: string }> {
  const run = await requireRunForApi(environment, runId);
  options.authorize?.(run);
  // buffered: stamped on the snapshot, or on the row once the drain lands it
  if (run.isBuffered) return cancelBufferedRun(environment.id, run.friendlyId, (row) => getRuntime().engine.cancelRun(row.id, { reason: "Canceled by user" }));
  await getRuntime().engine.cancelRun(run.id, { reason: "Canceled by user" });
  return { id: run.friendlyId };
}
